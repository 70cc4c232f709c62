//! `cqlake scheduler`: Ballista's scheduler, planning with cqlake's codec and functions.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::utils::{GrpcServerConfig, create_grpc_server};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::create_scheduler;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::codec::LakeCodec;
use crate::keys::ClusterKeys;
use crate::{Error, MAX_MESSAGE, Result, SCHEDULER_PORT, node};

/// A scheduler to start. Executors poll it for tasks (Ballista's pull scheduling), so it never
/// connects to them.
#[derive(Debug, Clone)]
pub struct Scheduler {
    bind: SocketAddr,
    storage_options: Vec<String>,
    keys: Option<ClusterKeys>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), SCHEDULER_PORT),
            storage_options: Vec::new(),
            keys: None,
        }
    }
}

impl Scheduler {
    /// A scheduler on 127.0.0.1:50050.
    pub fn new() -> Self {
        Self::default()
    }

    /// The address to listen on (port 0 picks a free one). Default 127.0.0.1:50050. Another
    /// address than loopback needs the cluster's keys ([`Scheduler::with_keys`]).
    pub fn with_bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Options of the object stores the lake is on (`KEY=VALUE` or `KEY=@FILE`, as
    /// `--storage-option`), besides the environment. Default: none.
    pub fn with_storage_options(mut self, options: Vec<String>) -> Self {
        self.storage_options = options;
        self
    }

    /// The cluster's keys: the scheduler then takes only TLS connections from executors and
    /// clients that show the cluster's certificate. Default: none (plain gRPC, loopback only).
    pub fn with_keys(mut self, keys: ClusterKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Binds and starts serving; returns once it listens.
    pub async fn start(self) -> Result<RunningScheduler> {
        if !self.bind.ip().is_loopback() && self.keys.is_none() {
            return Err(Error::Config(format!(
                "the scheduler listens on {} only with the cluster's keys (--cluster-keys DIR, \
                 made by `cqlake cluster-keys`): without them its links carry no secret",
                self.bind.ip()
            )));
        }
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|source| Error::Bind {
                addr: self.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.bind,
            source,
        })?;
        let stores = Arc::new(crate::LakeStores::new(self.storage_options.clone())?);
        let runtime = node::runtime(None, stores)?;
        let config = SchedulerConfig {
            bind_host: addr.ip().to_string(),
            bind_port: addr.port(),
            external_host: addr.ip().to_string(),
            scheduling_policy: TaskSchedulingPolicy::PullStaged,
            override_config_producer: Some(Arc::new(node::config)),
            override_session_builder: Some(Arc::new(move |c| node::state(c, runtime.clone()))),
            override_logical_codec: Some(Arc::new(LakeCodec::default())),
            override_create_grpc_client_endpoint: self.keys.as_ref().map(|k| k.endpoint_override()),
            ..Default::default()
        };
        let cluster = BallistaCluster::new_from_config(&config).await?;
        let server =
            create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
                .await?;
        let grpc = SchedulerGrpcServer::new(server)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let mut server = create_grpc_server(&GrpcServerConfig::default());
        if let Some(keys) = &self.keys {
            server = server.tls_config(keys.server_tls())?;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .add_service(grpc)
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    async {
                        let _ = stopped.await;
                    },
                )
                .await
                .map_err(Error::from)
        });
        Ok(RunningScheduler { addr, stop, task })
    }
}

/// A scheduler that listens.
#[derive(Debug)]
pub struct RunningScheduler {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<()>>,
}

impl RunningScheduler {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL for clients (`df://127.0.0.1:50050`; with keys too: TLS is the keys' business,
    /// not the URL's).
    pub fn url(&self) -> String {
        format!("df://{}", self.addr)
    }

    /// Serves until `signal` completes, then stops listening.
    pub async fn serve_until(self, signal: impl std::future::Future<Output = ()>) -> Result<()> {
        let RunningScheduler { stop, mut task, .. } = self;
        tokio::select! {
            r = &mut task => return r.map_err(|e| Error::Config(format!("the scheduler stopped: {e}")))?,
            () = signal => {}
        }
        let _ = stop.send(());
        task.await
            .map_err(|e| Error::Config(format!("the scheduler stopped: {e}")))?
    }
}
