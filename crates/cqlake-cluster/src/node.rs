//! What every process of a cqlake cluster shares: its session settings, its functions, its plan
//! codec and its runtime.

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::prelude::SessionConfig;

use crate::codec::LakeCodec;

/// The settings every process starts from: Ballista's, with cqlake's plan codec.
pub(crate) fn config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(LakeCodec::default()))
}

/// [`config`] for a process with the cluster's keys: Ballista's clients inside it (shuffle
/// fetches from other executors) then connect with the cluster's TLS.
pub(crate) fn config_with(
    keys: Option<&crate::ClusterKeys>,
) -> Arc<dyn Fn() -> SessionConfig + Send + Sync> {
    match keys.map(|k| k.endpoint_override()) {
        None => Arc::new(config),
        Some(tls) => Arc::new(move || {
            config().with_ballista_override_create_grpc_client_endpoint(tls.clone())
        }),
    }
}

/// A session of `config` over `runtime` that knows cqlake's functions, as the scheduler plans
/// with: Ballista's session (its optimizer rules and functions) plus cqlake's functions.
pub(crate) fn state(
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> datafusion::error::Result<SessionState> {
    let base = ballista_core::utils::default_session_builder(config)?;
    let mut state = SessionStateBuilder::new_from_existing(base)
        .with_runtime_env(runtime)
        .build();
    for f in cqlake_query::functions() {
        state.register_udf(Arc::new(f))?;
    }
    Ok(state)
}

/// The functions an executor resolves the names in a plan with: Ballista's and cqlake's.
pub(crate) fn registry() -> datafusion::error::Result<BallistaFunctionRegistry> {
    Ok(BallistaFunctionRegistry::from(&state(
        config(),
        Arc::new(RuntimeEnv::default()),
    )?))
}

/// A runtime whose spill files go to `work_dir` (the system's temporary directory when
/// `None`), reading files from `stores`.
pub(crate) fn runtime(
    work_dir: Option<&str>,
    stores: Arc<crate::LakeStores>,
) -> datafusion::error::Result<Arc<RuntimeEnv>> {
    let mut b = RuntimeEnvBuilder::new().with_object_store_registry(stores);
    if let Some(d) = work_dir {
        b = b.with_temp_file_path(d);
    }
    b.build_arc()
}
