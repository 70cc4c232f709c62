//! `cqlake serve`: settings → [`cqlake_server::Server`] (and, with `--pg-port`,
//! [`cqlake_pg::PgServer`] beside it, on the same address) → serve until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use cqlake_server::{Password, Server, ServerOptions};

use crate::args::ServeArgs;

/// The environment variable holding the password.
const PASSWORD_VAR: &str = "CQLAKE_SERVE_PASSWORD";
/// The environment variable holding the password of the PostgreSQL port.
const PG_PASSWORD_VAR: &str = "CQLAKE_PG_PASSWORD";

pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let rules = crate::session::rules_named(&a.rules)?;
    let lake = a.storage.apply(&a.lake)?;
    let mut options = ServerOptions::new(lake.clone())
        .with_bind(a.bind)
        .with_port(a.port)
        .with_rules(rules);
    if let Some(b) = &a.buildings {
        options = options.with_buildings(b);
    }
    if let Some(n) = a.threads {
        options = options.with_threads(n);
    }
    if let Some(url) = &a.cluster {
        let cluster = crate::session::cluster(url, a.cluster_keys.as_deref())?;
        options = options.with_cluster(
            std::sync::Arc::new(cluster),
            a.threads.unwrap_or(crate::session::CLUSTER_TASKS),
        );
    }
    let password = std::env::var(PASSWORD_VAR).ok().filter(|p| !p.is_empty());
    let protected = password.is_some();
    if let Some(p) = password {
        options = options.with_password(Password::new(p));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = rt.block_on(Server::bind(options))?;
    let pg = match a.pg_port {
        Some(port) => {
            let mut options = cqlake_pg::PgOptions::new(lake.clone())
                .with_bind(a.bind)
                .with_port(port)
                .with_rules(rules);
            if let Some(b) = &a.buildings {
                options = options.with_buildings(b);
            }
            if let Some(n) = a.threads {
                options = options.with_threads(n);
            }
            if let Some(p) = std::env::var(PG_PASSWORD_VAR)
                .ok()
                .filter(|p| !p.is_empty())
            {
                options = options.with_password(cqlake_pg::Secret::new(p));
            }
            if let (Some(cert), Some(key)) = (&a.pg_tls_cert, &a.pg_tls_key) {
                options = options.with_tls(cert, key);
            }
            Some(rt.block_on(cqlake_pg::PgServer::bind(options))?)
        }
        None => None,
    };
    // One write: a reader that takes the first line and closes the pipe (as the tests do)
    // must not make a second write fail.
    let mut banner = format!(
        "cqlake serve: {} (lake {}, rules {}; read-only; Ctrl-C stops)\n",
        server.url(),
        lake,
        rules.name()
    );
    if let Some(url) = &a.cluster {
        banner.push_str(&format!(
            "rollups and reports run on the cluster at {url}; the views read the rollups kept here\n"
        ));
    }
    if protected {
        banner.push_str(&format!(
            "requests need user cqlake and the password in {PASSWORD_VAR}\n"
        ));
    }
    if let Some(pg) = &pg {
        let login = if std::env::var_os(PG_PASSWORD_VAR).is_some_and(|p| !p.is_empty()) {
            format!("user cqlake, the password in {PG_PASSWORD_VAR}")
        } else {
            "any user, no password: this machine only".to_string()
        };
        banner.push_str(&format!(
            "cqlake serve: {} (PostgreSQL; database cqlake, read-only; {login})\n",
            pg.url()
        ));
    }
    {
        let mut out = std::io::stdout().lock();
        out.write_all(banner.as_bytes())?;
        out.flush()?;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    rt.spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    rt.block_on(async {
        let web = server.serve(until_stopped(stopped.clone()));
        match pg {
            Some(pg) => {
                let (web, pg) = tokio::join!(web, pg.serve(until_stopped(stopped)));
                web?;
                pg?;
            }
            None => web.await?,
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
