//! `cqlake executor`: Ballista's executor, running tasks with cqlake's codec and functions.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::error::BallistaError;
use ballista_core::utils::{GrpcServerConfig, create_grpc_server};
use ballista_executor::ArrowFlightServerProvider;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::flight_service::BallistaFlightService;
use ballista_executor::shutdown::Shutdown;

use crate::codec::LakeCodec;
use crate::keys::ClusterKeys;
use crate::{Error, FLIGHT_PORT, GRPC_PORT, MAX_MESSAGE, Result, SCHEDULER_PORT, node};

/// An executor to run. It registers with its scheduler, polls it for tasks, reads the lake
/// itself, and serves the results and shuffle data of its tasks over Arrow Flight.
#[derive(Debug, Clone)]
pub struct Executor {
    scheduler: SocketAddr,
    bind: IpAddr,
    port: u16,
    grpc_port: u16,
    tasks: usize,
    work_dir: Option<PathBuf>,
    memory: Option<u64>,
    storage_options: Vec<String>,
    keys: Option<ClusterKeys>,
    external_host: Option<String>,
}

impl Default for Executor {
    fn default() -> Self {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Executor {
            scheduler: SocketAddr::new(loopback, SCHEDULER_PORT),
            bind: loopback,
            port: FLIGHT_PORT,
            grpc_port: GRPC_PORT,
            tasks: std::thread::available_parallelism().map_or(2, |n| n.get()),
            work_dir: None,
            memory: None,
            storage_options: Vec::new(),
            keys: None,
            external_host: None,
        }
    }
}

impl Executor {
    /// An executor of the scheduler at 127.0.0.1:50050, on 127.0.0.1:50051 (Flight) and 50052
    /// (gRPC), running as many tasks at once as there are CPUs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scheduler's address. Default 127.0.0.1:50050.
    pub fn with_scheduler(mut self, addr: SocketAddr) -> Self {
        self.scheduler = addr;
        self
    }

    /// The address to listen on. Default 127.0.0.1. Another address than loopback needs the
    /// cluster's keys ([`Executor::with_keys`]).
    pub fn with_bind(mut self, ip: IpAddr) -> Self {
        self.bind = ip;
        self
    }

    /// The host name or address the scheduler tells clients and other executors to fetch this
    /// executor's results from. Default: the bind address (which must then not be `0.0.0.0`
    /// or `::`).
    pub fn with_external_host(mut self, host: impl Into<String>) -> Self {
        self.external_host = Some(host.into());
        self
    }

    /// The cluster's keys: the executor then reaches the scheduler and other executors over
    /// TLS with the cluster's certificate, and its Flight server takes only connections that
    /// show it. Default: none (plain gRPC, loopback only).
    pub fn with_keys(mut self, keys: ClusterKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The Arrow Flight port. Default 50051.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The gRPC port (announced to the scheduler; pull scheduling opens no listener on it).
    /// Default 50052.
    pub fn with_grpc_port(mut self, port: u16) -> Self {
        self.grpc_port = port;
        self
    }

    /// Tasks run at once. Default: the number of CPUs.
    pub fn with_tasks(mut self, n: usize) -> Self {
        self.tasks = n.max(1);
        self
    }

    /// Where shuffle and spill files go. Default: a new directory in the system's temporary
    /// directory, removed when the executor stops.
    pub fn with_work_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.work_dir = Some(dir.into());
        self
    }

    /// Bytes the tasks may hold in operators that can spill, shared by all tasks. Default:
    /// Ballista's, 70 % of the machine's (or cgroup's) memory.
    pub fn with_memory_limit(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// Options of the object stores the lake is on (`KEY=VALUE` or `KEY=@FILE`, as
    /// `--storage-option`), besides the environment. Default: none.
    pub fn with_storage_options(mut self, options: Vec<String>) -> Self {
        self.storage_options = options;
        self
    }

    /// Runs until Ctrl-C or SIGTERM (then finishes its running tasks and deregisters).
    pub async fn run(self) -> Result<()> {
        if !self.bind.is_loopback() && self.keys.is_none() {
            return Err(Error::Config(format!(
                "an executor listens on {} only with the cluster's keys (--cluster-keys DIR, \
                 made by `cqlake cluster-keys`): without them its links carry no secret",
                self.bind
            )));
        }
        let external_host = match &self.external_host {
            Some(h) => h.clone(),
            None if self.bind.is_unspecified() => {
                return Err(Error::Config(format!(
                    "an executor bound to {} needs --external-host: the address the scheduler \
                     tells clients and other executors to reach it at",
                    self.bind
                )));
            }
            None => self.bind.to_string(),
        };
        let temp;
        let work_dir = match &self.work_dir {
            Some(d) => {
                std::fs::create_dir_all(d)
                    .map_err(|e| Error::Config(format!("{}: {e}", d.display())))?;
                d.clone()
            }
            None => {
                temp = tempfile_dir()?;
                temp.0.clone()
            }
        };
        let work = work_dir.to_string_lossy().into_owned();
        let spill = work.clone();
        let stores = Arc::new(crate::LakeStores::new(self.storage_options.clone())?);
        let config = ExecutorProcessConfig {
            bind_host: self.bind.to_string(),
            external_host: Some(external_host),
            port: self.port,
            grpc_port: self.grpc_port,
            scheduler_host: self.scheduler.ip().to_string(),
            scheduler_port: self.scheduler.port(),
            scheduler_connect_timeout_seconds: 30,
            vcores: self.tasks,
            task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
            work_dir: Some(work),
            memory_pool_size: self.memory,
            override_function_registry: Some(Arc::new(node::registry()?)),
            override_config_producer: Some(node::config_with(self.keys.as_ref())),
            override_runtime_producer: Some(Arc::new(move |_| {
                node::runtime(Some(&spill), stores.clone())
            })),
            override_logical_codec: Some(Arc::new(LakeCodec::default())),
            override_create_grpc_client_endpoint: self.keys.as_ref().map(|k| k.endpoint_override()),
            override_arrow_flight_service: self.keys.as_ref().map(flight_with_tls),
            ..Default::default()
        };
        start_executor_process(Arc::new(config)).await?;
        Ok(())
    }
}

/// Ballista's Flight server (results and shuffle data) behind the cluster's TLS: it serves
/// only peers showing the cluster's certificate.
fn flight_with_tls(keys: &ClusterKeys) -> Arc<ArrowFlightServerProvider> {
    let tls = keys.server_tls();
    Arc::new(
        move |work_dir: String,
              addr: SocketAddr,
              mut shutdown: Shutdown,
              grpc: GrpcServerConfig| {
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = FlightServiceServer::new(BallistaFlightService::new(work_dir))
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE);
                let mut server = match create_grpc_server(&grpc).tls_config(tls) {
                    Ok(server) => server,
                    Err(e) => return Err(BallistaError::TonicError(e)),
                };
                server
                    .add_service(service)
                    .serve_with_shutdown(addr, shutdown.recv())
                    .await
                    .map_err(BallistaError::TonicError)
            })
        },
    )
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir> {
    let dir = std::env::temp_dir().join(format!(
        "cqlake-executor-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Config(format!("{}: {e}", dir.display())))?;
    Ok(TempDir(dir))
}
