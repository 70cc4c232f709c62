//! Engines whose queries run on a cluster.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::{BallistaCodec, BallistaPhysicalExtensionCodec};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::codec::LakeCodec;
use crate::keys::ClusterKeys;
use crate::{Error, Result, SCHEDULER_PORT, node};

/// The cluster whose scheduler is at an address: a [`Runner`](cqlake_query::Runner) for
/// [`EngineOptions::with_runner`](cqlake_query::EngineOptions::with_runner).
///
/// The engine plans each query as it would in this process, then sends the logical plan to the
/// scheduler, which plans the stages and has the executors run them; the rows come back from
/// the executors over Arrow Flight. The lake must be at the same place for this process, the
/// scheduler and every executor (the same directory, or the same object store).
#[derive(Debug, Clone)]
pub struct Cluster {
    scheduler: SocketAddr,
    keys: Option<ClusterKeys>,
}

impl Cluster {
    /// The cluster of the scheduler at `scheduler`.
    pub fn new(scheduler: SocketAddr) -> Self {
        Cluster {
            scheduler,
            keys: None,
        }
    }

    /// The cluster's keys, for a cluster whose processes run with them: every connection
    /// (to the scheduler, to the executors for the results) is then TLS with the cluster's
    /// certificate. Default: none.
    pub fn with_keys(mut self, keys: ClusterKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The cluster of the scheduler at `df://HOST[:PORT]` (or `HOST[:PORT]`; port 50050 if
    /// none).
    pub fn parse(url: &str) -> Result<Self> {
        Ok(Cluster::new(crate::resolve(url, SCHEDULER_PORT)?))
    }

    /// The scheduler's address.
    pub fn scheduler(&self) -> SocketAddr {
        self.scheduler
    }
}

#[async_trait::async_trait]
impl cqlake_query::Runner for Cluster {
    async fn session(
        &self,
        config: SessionConfig,
        runtime: Arc<RuntimeEnv>,
    ) -> datafusion::error::Result<SessionContext> {
        // Ballista's settings first (dynamic filters, hash join preference, view types off):
        // it applies them only to a configuration that has none of its own yet.
        let mut config = config.upgrade_for_ballista();
        if let Some(keys) = &self.keys {
            config =
                config.with_ballista_override_create_grpc_client_endpoint(keys.endpoint_override());
        }
        let config = config
            .with_ballista_logical_extension_codec(Arc::new(LakeCodec::default()))
            .with_ballista_job_name("cqlake")
            // Ballista 55's adaptive planner repeats each row of a UNION ALL branch that ends
            // in a global aggregate once per partition of its input (`summary`'s `calls` row
            // came back 16 times); the static planner gives the local engine's rows.
            .with_ballista_adaptive_query_planner(false);
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .with_runtime_env(runtime)
            .build()
            .upgrade_for_ballista(format!("http://{}", self.scheduler))?;
        Ok(SessionContext::new_with_state(state))
    }
}

/// A scheduler and executors in this process, on loopback ports the system picks: a cluster
/// for tests. Plans still travel between them over gRPC, encoded as between processes. They
/// run until the process ends.
#[derive(Debug)]
pub struct InProcess {
    cluster: Cluster,
}

impl InProcess {
    /// Starts a scheduler and `executors` executors running `tasks` tasks at once each.
    pub async fn start(executors: usize, tasks: usize) -> Result<InProcess> {
        let stores = Arc::new(crate::LakeStores::new(Vec::new())?);
        let runtime = node::runtime(None, stores.clone())?;
        let codec = BallistaCodec::new(
            Arc::new(LakeCodec::default()),
            Arc::new(BallistaPhysicalExtensionCodec::default()),
        );
        let addr = ballista_scheduler::standalone::new_standalone_scheduler_with_builder(
            Arc::new(move |c| node::state(c, runtime.clone())),
            Arc::new(node::config),
            codec.clone(),
        )
        .await?;
        for _ in 0..executors {
            let scheduler = SchedulerGrpcClient::connect(format!("http://{addr}"))
                .await
                .map_err(|e| {
                    Error::Config(format!("connecting to the scheduler at {addr}: {e}"))
                })?;
            ballista_executor::new_standalone_executor_from_builder(
                scheduler,
                tasks.max(1),
                Arc::new(node::config),
                Arc::new({
                    let stores = stores.clone();
                    move |_| node::runtime(None, stores.clone())
                }),
                codec.clone(),
                node::registry()?,
            )
            .await?;
        }
        Ok(InProcess {
            cluster: Cluster::new(addr),
        })
    }

    /// The cluster, for engines.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }
}
