//! `cqlake scheduler` and `cqlake executor`: the processes of a cqlake cluster.

use anyhow::Context;

use crate::args::{ClusterKeysArgs, ExecutorArgs, SchedulerArgs};

/// Messages of the cluster's processes (Ballista's and DataFusion's `log` records) on standard
/// error, from the level CQLAKE_LOG names (error, warn, info, debug, trace; default warn).
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("{} {}: {}", r.level(), r.target(), r.args());
        }
    }

    fn flush(&self) {}
}

fn init_log() {
    let level = std::env::var("CQLAKE_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_logger(&StderrLog).is_ok() {
        log::set_max_level(level);
    }
}

/// Runs the scheduler until Ctrl-C or SIGTERM.
pub(crate) fn scheduler(a: SchedulerArgs) -> anyhow::Result<()> {
    init_log();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut scheduler = cqlake_cluster::Scheduler::new()
            .with_bind(std::net::SocketAddr::new(a.bind, a.port))
            .with_storage_options(a.storage.options.clone());
        if let Some(dir) = &a.cluster_keys {
            scheduler = scheduler
                .with_keys(cqlake_cluster::ClusterKeys::read(dir).context("--cluster-keys")?);
        }
        let running = scheduler.start().await?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "cqlake scheduler: {} (executors: cqlake executor --scheduler {}{}; Ctrl-C stops)",
                running.url(),
                running.addr(),
                if a.cluster_keys.is_some() {
                    "; TLS with the cluster's keys"
                } else {
                    ""
                }
            )?;
            out.flush()?;
        }
        running.serve_until(stopped()).await?;
        anyhow::Ok(())
    })
}

/// Runs an executor until Ctrl-C or SIGTERM.
pub(crate) fn executor(a: ExecutorArgs) -> anyhow::Result<()> {
    init_log();
    let scheduler = cqlake_cluster::resolve(&a.scheduler, cqlake_cluster::SCHEDULER_PORT)
        .with_context(|| format!("--scheduler {}", a.scheduler))?;
    let mut e = cqlake_cluster::Executor::new()
        .with_scheduler(scheduler)
        .with_bind(a.bind)
        .with_port(a.port)
        .with_grpc_port(a.grpc_port)
        .with_storage_options(a.storage.options.clone());
    if let Some(n) = a.tasks {
        e = e.with_tasks(n);
    }
    if let Some(h) = &a.external_host {
        e = e.with_external_host(h);
    }
    if let Some(dir) = &a.cluster_keys {
        e = e.with_keys(cqlake_cluster::ClusterKeys::read(dir).context("--cluster-keys")?);
    }
    if let Some(d) = &a.work_dir {
        e = e.with_work_dir(d);
    }
    if let Some(size) = a.memory_limit {
        e = e.with_memory_limit(size.0);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    eprintln!(
        "cqlake executor: {}:{} for the scheduler at {scheduler} (Ctrl-C stops)",
        a.bind, a.port
    );
    rt.block_on(e.run())?;
    Ok(())
}

/// Writes a new cluster's keys.
pub(crate) fn keys(a: ClusterKeysArgs) -> anyhow::Result<()> {
    let written = cqlake_cluster::ClusterKeys::generate(a.days)?
        .write(&a.out)
        .context("writing the cluster's keys")?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "give {} to every scheduler, executor and client of the cluster (--cluster-keys); \
         {} is the secret",
        a.out.display(),
        cqlake_cluster::KEY_FILE
    );
    Ok(())
}

/// Completes at Ctrl-C or SIGTERM.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
