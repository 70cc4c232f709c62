//! `cqlake serve`: settings → [`cqlake_server::Server`] → serve until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use cqlake_server::{Password, Server, ServerOptions};

use crate::args::ServeArgs;

/// The environment variable holding the password.
const PASSWORD_VAR: &str = "CQLAKE_SERVE_PASSWORD";

pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let rules = crate::session::rules_named(&a.rules)?;
    let mut options = ServerOptions::new(&a.lake)
        .with_bind(a.bind)
        .with_port(a.port)
        .with_rules(rules);
    if let Some(b) = &a.buildings {
        options = options.with_buildings(b);
    }
    if let Some(n) = a.threads {
        options = options.with_threads(n);
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
    // One write: a reader that takes the first line and closes the pipe (as the tests do)
    // must not make a second write fail.
    let mut banner = format!(
        "cqlake serve: {} (lake {}, rules {}; read-only; Ctrl-C stops)\n",
        server.url(),
        a.lake.display(),
        rules.name()
    );
    if protected {
        banner.push_str(&format!(
            "requests need user cqlake and the password in {PASSWORD_VAR}\n"
        ));
    }
    {
        let mut out = std::io::stdout().lock();
        out.write_all(banner.as_bytes())?;
        out.flush()?;
    }
    rt.block_on(server.serve(async {
        let _ = tokio::signal::ctrl_c().await;
    }))?;
    Ok(ExitCode::SUCCESS)
}
