//! `cqlake`: call-quality analytics over Microsoft Graph call records.
//!
//! A thin binary: clap parses the arguments, [`settings`] resolves them, the library crates do
//! the work, and one exit-code policy maps the outcome.

use std::process::ExitCode;

mod args;
mod cluster;
mod convert;
mod forget;
mod r#gen;
mod maintain;
mod privacy;
mod pull;
mod serve;
mod session;
mod shell;
mod sql;
mod summary;
mod values;

/// Opens the lake for writing, waiting up to `wait` for another writer (a convert,
/// optimize or vacuum) to finish with it. `maintain`: for optimize and vacuum, which also open
/// a lake of an earlier layout (optimize migrates it; the other writers refuse it).
pub(crate) fn open_writer(
    rt: &tokio::runtime::Runtime,
    lake: &cqlake_lake::LakeLocation,
    wait: std::time::Duration,
    personal: &cqlake_lake::Personal,
    maintain: bool,
) -> anyhow::Result<cqlake_lake::LakeWriter> {
    use anyhow::Context;
    use cqlake_lake::LakeWriter;
    let deadline = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(50);
    loop {
        let opened = match maintain {
            true => rt.block_on(LakeWriter::open_to_maintain(lake.clone(), personal)),
            false => rt.block_on(LakeWriter::open_as(lake.clone(), personal)),
        };
        match opened {
            Err(cqlake_lake::Error::Busy(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(pause.min(deadline - std::time::Instant::now()));
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            r => return r.with_context(|| format!("opening the lake at {lake}")),
        }
    }
}

/// Exit code: every record converted.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run finished but some records were rejected (see `<lake>/_rejects/`).
pub const EXIT_REJECTS: u8 = 3;
/// Exit code: a fatal error (bad arguments, unreadable input, lake error).
pub const EXIT_FATAL: u8 = 2;
/// Exit code: another cqlake process was writing to the lake (for longer than `--wait`);
/// nothing was done, and running again later will work.
pub const EXIT_BUSY: u8 = 4;

/// The command line, parsed. A value its parser refuses (a size, a date, a duration, a number,
/// from the command line or the environment) is an error in cqlake's words, `--from
/// "2024-13-01": expected a date as YYYY-MM-DD`, with exit code 2; usage errors, `--help` and
/// `--version` are clap's.
fn parse_args() -> anyhow::Result<args::Cli> {
    use clap::Parser;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match args::Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if e.kind() == ErrorKind::ValueValidation => {
            let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
                e.get(ContextKind::InvalidArg),
                e.get(ContextKind::InvalidValue),
            ) else {
                e.exit()
            };
            let flag = arg.split_whitespace().next().unwrap_or(arg);
            let why = std::error::Error::source(&e).map_or_else(String::new, |s| s.to_string());
            anyhow::bail!("{flag} {value:?}: {why}")
        }
        Err(e) => e.exit(),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("cqlake: error: {err:#}");
            let busy = err.chain().any(|e| {
                matches!(
                    e.downcast_ref::<cqlake_lake::Error>(),
                    Some(cqlake_lake::Error::Busy(_))
                )
            });
            ExitCode::from(if busy { EXIT_BUSY } else { EXIT_FATAL })
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = parse_args()?;
    match cli.command {
        args::Command::Convert(a) => convert::run(a),
        args::Command::Pull(a) => pull::run(*a),
        args::Command::Gen(a) => r#gen::run(a),
        args::Command::Sql(a) if a.query.is_none() => shell::run(&a.common),
        args::Command::Sql(a) => sql::run(a),
        args::Command::Report(a) => sql::report(a),
        args::Command::Serve(a) => serve::run(a),
        args::Command::Scheduler(a) => cluster::scheduler(a).map(|()| ExitCode::SUCCESS),
        args::Command::Executor(a) => cluster::executor(a).map(|()| ExitCode::SUCCESS),
        args::Command::ClusterKeys(a) => cluster::keys(a).map(|()| ExitCode::SUCCESS),
        args::Command::Optimize(a) => maintain::optimize(a),
        args::Command::Vacuum(a) => maintain::vacuum(a),
        args::Command::Purge(a) => maintain::purge(a),
        args::Command::Forget(a) => forget::run(a),
        args::Command::Pseudonym(a) => privacy::run(a),
        args::Command::Schema(a) => {
            use std::io::Write;
            let text = if a.markdown {
                cqlake_schema::markdown_reference()
            } else {
                cqlake_schema::text_reference(a.table.as_deref()).ok_or_else(|| {
                    anyhow::anyhow!(
                        "no table {:?}; tables: {}",
                        a.table.as_deref().unwrap_or(""),
                        cqlake_schema::table_names().join(", ")
                    )
                })?
            };
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
