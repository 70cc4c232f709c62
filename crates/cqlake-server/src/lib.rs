//! `cqlake serve`: the lake's dashboards in the browser, and a JSON API under them.
//!
//! - [`ServerOptions`]: what to serve and where (a builder with documented defaults);
//! - [`Server`]: binds (loopback unless told otherwise, and then only with a password) and serves;
//! - `api`: `GET /api/reports`, `GET /api/reports/{name}` (the rows of `cqlake report NAME
//!   --format json`, byte for byte), `GET /api/views`, `GET /api/views/{name}` (a dashboard
//!   view's rows, with its SQL and its filters in words);
//! - `dashboard`: the views, each a SQL file of `sql/dashboard/` and the filters it takes;
//! - `filters`: the filters of a request (dates, rule set, media kind, building, subnet,
//!   network, client, user, call, …), checked and turned into SQL with quoted literals;
//! - `assets`: the page, its scripts and style, and Apache ECharts, embedded in the binary: the
//!   page loads nothing from elsewhere;
//! - [`ReportFile`]: a report as one self-contained HTML file with the same charts.
//!
//! The lake is only read. Each request opens it afresh at its last finished group, so a convert
//! or pull that ends while the server runs is seen by the next request.
#![deny(missing_docs)]

mod api;
mod assets;
mod auth;
pub mod dashboard;
mod error;
pub mod filters;
mod report_file;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// The Parquet footers the server keeps parsed, at most (the 270 data files of the
/// 50-million-stream bench lake have 90 MB of footers on disk, 73 MB of them `streams`', each
/// of its 879 columns described per row group; parsed, with page indexes, they take more).
const FOOTER_CACHE_BYTES: usize = 512 << 20;

pub use error::{Error, Result};
pub use report_file::ReportFile;

/// What `cqlake serve` serves, and where.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The lake: a directory or an object store URL.
    pub lake: cqlake_query::LakeLocation,
    /// The address to listen on. Default 127.0.0.1.
    pub bind: IpAddr,
    /// The port; 0 picks a free one. Default 8080.
    pub port: u16,
    /// The rule set when a request names none. Default `cqd-classic`.
    pub rules: cqlake_query::RuleSet,
    /// CQD's building file, for the `buildings` report and the building filters. Default none.
    pub buildings: Option<PathBuf>,
    /// Query threads. Default: all CPUs.
    pub threads: Option<usize>,
    /// The password every request must present (HTTP basic, user `cqlake`). Required when
    /// `bind` is not a loopback address. Default none.
    pub password: Option<Password>,
    /// Where the heavy queries run: the rollups' computation and the reports (`/api/reports/…`)
    /// go to this cluster with this many partitions per stage; the views read the rollups kept
    /// here, and a user's or a call's views read the few raw rows they need here too. Default:
    /// none, everything runs in this process.
    pub cluster: Option<(Arc<dyn cqlake_query::Runner>, usize)>,
}

impl ServerOptions {
    /// Options to serve `lake` on 127.0.0.1:8080 with the default rule set, no password.
    pub fn new(lake: impl Into<cqlake_query::LakeLocation>) -> ServerOptions {
        ServerOptions {
            lake: lake.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            rules: cqlake_query::RuleSet::ALL[0],
            buildings: None,
            threads: None,
            password: None,
            cluster: None,
        }
    }

    /// Listens on `bind`.
    pub fn with_bind(mut self, bind: IpAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Listens on `port` (0: a free one).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The rule set of requests that name none.
    pub fn with_rules(mut self, rules: cqlake_query::RuleSet) -> Self {
        self.rules = rules;
        self
    }

    /// CQD's building file.
    pub fn with_buildings(mut self, path: impl Into<PathBuf>) -> Self {
        self.buildings = Some(path.into());
        self
    }

    /// Query threads.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = Some(n.max(1));
        self
    }

    /// Runs the rollups' computation and the reports on `cluster` (see
    /// [`ServerOptions::cluster`]), `partitions` parallel tasks per stage.
    pub fn with_cluster(
        mut self,
        cluster: Arc<dyn cqlake_query::Runner>,
        partitions: usize,
    ) -> Self {
        self.cluster = Some((cluster, partitions.max(1)));
        self
    }

    /// The password requests must present.
    pub fn with_password(mut self, password: Password) -> Self {
        self.password = Some(password);
        self
    }
}

/// A password: compared in constant time, never printed.
#[derive(Clone)]
pub struct Password(Arc<str>);

impl Password {
    /// Wraps `p`.
    pub fn new(p: impl Into<String>) -> Password {
        Password(Arc::from(p.into()))
    }

    fn matches(&self, other: &[u8]) -> bool {
        let mine = self.0.as_bytes();
        // Constant time in the length of what was presented.
        let mut diff = (mine.len() != other.len()) as u8;
        for (i, b) in other.iter().enumerate() {
            diff |= b ^ mine.get(i).copied().unwrap_or(0);
        }
        diff == 0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A server bound to its address, ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    state: Arc<api::AppState>,
}

impl Server {
    /// Checks the options and binds. Binding to anything but loopback without a password is
    /// refused.
    pub async fn bind(options: ServerOptions) -> Result<Server> {
        if !options.bind.is_loopback() && options.password.is_none() {
            return Err(Error::PasswordRequired(options.bind));
        }
        match cqlake_query::lake_exists(&options.lake).await {
            Ok(true) => {}
            Ok(false) => return Err(Error::NoLake(options.lake.to_string())),
            Err(e) => return Err(Error::Config(e.to_string())),
        }
        if let Some(b) = &options.buildings
            && !b.is_file()
        {
            return Err(Error::Config(format!(
                "--buildings {}: no such file",
                b.display()
            )));
        }
        let addr = SocketAddr::new(options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Bind(addr, e))?;
        let addr = listener.local_addr().map_err(|e| Error::Bind(addr, e))?;
        Ok(Server {
            listener,
            addr,
            state: Arc::new(api::AppState {
                options,
                rollups: cqlake_query::RollupCache::new(),
                footers: cqlake_query::FooterCache::new(FOOTER_CACHE_BYTES)?,
            }),
        })
    }

    /// The address it listens on (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the home page.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves until `shutdown` completes. Meanwhile computes the rollups of the default rule set
    /// (see [`cqlake_query::RollupCache`]), so the first page does not wait for it.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        tokio::spawn(api::warm_up(self.state.clone()));
        let app = api::router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Error::Bind(self.addr, e))
    }
}
