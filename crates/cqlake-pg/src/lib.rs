//! The PostgreSQL door of `cqlake serve`: BI tools (Grafana, Metabase, DBeaver, psql, Power
//! BI) read the lake over the PostgreSQL protocol, as database `cqlake`.
//!
//! - [`PgOptions`]: what to serve and where (a builder with documented defaults);
//! - [`PgServer`]: binds (loopback unless told otherwise, and then only with a password) and
//!   accepts connections, each served by `datafusion-postgres` over its own DataFusion session;
//! - `auth`: the start-up: the database name, TLS when it is configured, and SCRAM-SHA-256 with
//!   user `cqlake` when there is a password;
//! - `session`: a connection's session: the lake's tables, views and reports (`report_summary`,
//!   …) with `pg_catalog` and `information_schema`, registered again when the lake has changed
//!   since the connection's last statement, so each statement reads the last finished group;
//! - `information_schema`: PostgreSQL's, with PostgreSQL's type names (DataFusion's names Arrow
//!   types);
//! - `compat`: the few client queries the catalog cannot follow as written, rewritten;
//! - `guard`: the lake is read-only: statements that would change anything (DDL, DML, `COPY`)
//!   are refused with SQLSTATE 25006 before anything runs; `DISCARD` resets the session.
#![deny(missing_docs)]

mod auth;
mod compat;
mod guard;
mod information_schema;
mod session;
mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// The database name clients connect to.
pub const DATABASE: &str = "cqlake";
/// The user name clients present with the password.
pub const USER: &str = "cqlake";

/// Errors of the PostgreSQL door.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A non-loopback address without a password.
    #[error(
        "--bind {0} exposes the PostgreSQL port beyond this machine: set a password in CQLAKE_PG_PASSWORD first (clients then log in as user cqlake)"
    )]
    PasswordRequired(IpAddr),
    /// The port could not be bound.
    #[error("cannot listen on {0}")]
    Bind(SocketAddr, #[source] std::io::Error),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The lake could not be opened.
    #[error("{0}")]
    Lake(#[from] cqlake_query::Error),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the PostgreSQL door serves, and where.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The lake: a directory or an object store URL.
    pub lake: cqlake_query::LakeLocation,
    /// The address to listen on. Default 127.0.0.1.
    pub bind: IpAddr,
    /// The port; 0 picks a free one. Default 5432.
    pub port: u16,
    /// The rule set behind `stream_quality` and the report views. Default `cqd-classic`.
    pub rules: cqlake_query::RuleSet,
    /// CQD's building file, for the `buildings` view and report. Default none.
    pub buildings: Option<PathBuf>,
    /// Query threads of each connection. Default: all CPUs.
    pub threads: Option<usize>,
    /// The password of user `cqlake` (SCRAM-SHA-256). Required when `bind` is not a loopback
    /// address. Default none: any user name is let in, from this machine only.
    pub password: Option<Secret>,
    /// A PEM certificate chain and private key (PKCS#8, PKCS#1 or SEC1): connections must then
    /// use TLS. Default none.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl PgOptions {
    /// Options to serve `lake` on 127.0.0.1:5432 with the default rule set, no password, no TLS.
    pub fn new(lake: impl Into<cqlake_query::LakeLocation>) -> PgOptions {
        PgOptions {
            lake: lake.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 5432,
            rules: cqlake_query::RuleSet::ALL[0],
            buildings: None,
            threads: None,
            password: None,
            tls: None,
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

    /// The rule set behind the views.
    pub fn with_rules(mut self, rules: cqlake_query::RuleSet) -> Self {
        self.rules = rules;
        self
    }

    /// CQD's building file.
    pub fn with_buildings(mut self, path: impl Into<PathBuf>) -> Self {
        self.buildings = Some(path.into());
        self
    }

    /// Query threads of each connection.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = Some(n.max(1));
        self
    }

    /// The password of user `cqlake`.
    pub fn with_password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }

    /// Requires TLS, with this certificate chain and key (PEM files).
    pub fn with_tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls = Some((cert.into(), key.into()));
        self
    }
}

/// A password: never printed.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(Arc::from(s.into()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The PostgreSQL door bound to its address, ready to serve.
pub struct PgServer {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    shared: Arc<session::Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl PgServer {
    /// Checks the options, loads the TLS certificate, opens the lake once (so a wrong lake fails
    /// here, not at the first client) and binds. Binding to anything but loopback without a
    /// password is refused.
    pub async fn bind(options: PgOptions) -> Result<PgServer> {
        if !options.bind.is_loopback() && options.password.is_none() {
            return Err(Error::PasswordRequired(options.bind));
        }
        let tls = match &options.tls {
            Some((cert, key)) => Some(tls::acceptor(cert, key)?),
            None => None,
        };
        let shared = Arc::new(session::Shared::new(options.clone()));
        shared.check().await?;
        let addr = SocketAddr::new(options.bind, options.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Bind(addr, e))?;
        let addr = listener.local_addr().map_err(|e| Error::Bind(addr, e))?;
        Ok(PgServer {
            listener,
            addr,
            shared,
            tls,
        })
    }

    /// The address it listens on (with the port picked when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A connection URL for clients (without the password): `postgresql://cqlake@HOST:PORT/cqlake`,
    /// with `?sslmode=require` when TLS is on.
    pub fn url(&self) -> String {
        let host = match self.addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let ssl = if self.tls.is_some() {
            "?sslmode=require"
        } else {
            ""
        };
        format!(
            "postgresql://{USER}@{host}:{}/{DATABASE}{ssl}",
            self.addr.port()
        )
    }

    /// Accepts connections until `shutdown` completes; each is served on its own task. A
    /// connection that fails is dropped and logged to stderr with the client's address, never
    /// with what it sent.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        tokio::pin!(shutdown);
        loop {
            let (socket, peer) = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    // Out of file descriptors and the like: the next accept may work, after
                    // a pause (an accept that fails at once would otherwise spin).
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let _ = socket.set_nodelay(true);
            let handlers = session::Connection::new(self.shared.clone());
            let tls = self.tls.clone();
            tokio::spawn(async move {
                if let Err(e) =
                    datafusion_postgres::pgwire::tokio::process_socket(socket, tls, handlers).await
                {
                    eprintln!("cqlake serve: PostgreSQL connection from {peer}: {e}");
                }
            });
        }
    }
}
