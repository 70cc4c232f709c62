//! cqlake on a DataFusion Ballista cluster.
//!
//! A Ballista cluster is one scheduler and any number of executors. A client sends the
//! scheduler a logical plan; the scheduler plans it into stages and hands their tasks to the
//! executors, which read the lake themselves and exchange intermediate results over Arrow
//! Flight. This crate is what makes those processes know cqlake:
//!
//! - [`Scheduler`] and [`Executor`]: Ballista's scheduler and executor with cqlake's plan codec
//!   (the lake's tables travel as [`FileTable`](cqlake_lake::FileTable)s) and its functions
//!   ([`cqlake_query::functions`]), which the stock `ballista-scheduler` and `ballista-executor`
//!   binaries lack;
//! - [`Cluster`]: a [`Runner`](cqlake_query::Runner) for [`cqlake_query::Engine`], so that the
//!   same SQL, views and reports run on the cluster (`--cluster df://HOST:PORT`);
//! - [`InProcess`]: a scheduler and executors inside this process, on loopback, for tests.
//!
//! Every listener binds to 127.0.0.1 by default. With the cluster's keys ([`ClusterKeys`]),
//! every link is mutual TLS, and only then may a listener bind another address.
#![deny(missing_docs)]

mod client;
mod codec;
mod executor;
mod keys;
mod node;
mod scheduler;
mod stores;

pub use client::{Cluster, InProcess};
pub use codec::LakeCodec;
pub use executor::Executor;
pub use keys::{CA_FILE, CERT_FILE, ClusterKeys, KEY_FILE, SERVER_NAME};
pub use scheduler::{RunningScheduler, Scheduler};
pub use stores::LakeStores;

/// The scheduler's port unless told otherwise.
pub const SCHEDULER_PORT: u16 = 50050;
/// An executor's Arrow Flight port (results and shuffle data) unless told otherwise.
pub const FLIGHT_PORT: u16 = 50051;
/// An executor's gRPC port unless told otherwise.
pub const GRPC_PORT: u16 = 50052;

/// The largest gRPC message a process takes or sends (a plan, a task, a Flight batch):
/// Ballista's 16 MiB.
pub(crate) const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Errors of the cluster crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is not valid (the message says which and why).
    #[error("{0}")]
    Config(String),
    /// Reading or writing a file of the cluster's keys failed.
    #[error("{}", path.display())]
    Keys {
        /// The file or directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Binding a listening socket failed.
    #[error("binding {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Ballista failed (starting, serving, or connecting).
    #[error("{0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// DataFusion failed.
    #[error("{}", .0.strip_backtrace())]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Serving gRPC failed.
    #[error("serving gRPC")]
    Serve(#[from] tonic::transport::Error),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `host:port` (or `df://host:port`) as a socket address, the host given as an IP address or a
/// name that resolves.
pub fn resolve(text: &str, default_port: u16) -> Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let bare = text
        .strip_prefix("df://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text)
        .trim_end_matches('/');
    let with_port = if bare
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !bare.ends_with(']')
    {
        bare.to_string()
    } else {
        format!("{bare}:{default_port}")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| Error::Config(format!("{text:?}: not a host and port ({e})")))?
        .next()
        .ok_or_else(|| Error::Config(format!("{text:?}: no address")))
}
