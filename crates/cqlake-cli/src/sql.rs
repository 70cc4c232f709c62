//! `cqlake sql` and `cqlake report`: read-only queries over the lake, printed in the chosen
//! format.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cqlake_query::{Presentation, REPORTS, Report, Rows};

use crate::args::{QueryArgs, ReportArgs, RowFormat, SqlArgs};
use crate::session::{open, sink, write};

pub fn run(a: SqlArgs) -> anyhow::Result<ExitCode> {
    let Some(sql) = &a.query else {
        bail!("no query: give one, or run the shell (cqlake sql without a query)");
    };
    let rows = query(&a.common, None, None, sql)?;
    // Ad-hoc queries print exact values in every format.
    print(&rows, &a.common, None)?;
    Ok(ExitCode::SUCCESS)
}

pub fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    if a.list {
        let mut out = std::io::stdout().lock();
        for r in REPORTS {
            writeln!(out, "{:<10} {}", r.name, r.description())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = &a.report else {
        bail!("name a report (cqlake report --list) or a .sql file");
    };
    if name == "buildings" && a.common.buildings.is_none() {
        bail!("the buildings report needs --buildings FILE.csv (CQD's building data layout)");
    }
    let (label, sql) = match Report::named(name) {
        Some(r) => (r.name.to_string(), r.sql.to_string()),
        None if Path::new(name).is_file() => (
            name.clone(),
            std::fs::read_to_string(name).with_context(|| format!("reading {name}"))?,
        ),
        None => bail!("{name:?}: no such report (cqlake report --list) and no such .sql file"),
    };
    let presentation = Presentation::from_header(&sql)?;
    let session = open(
        &a.common,
        a.from.map(|d| d.to_string()),
        a.to.map(|d| d.to_string()),
    )?;
    let rows = session.rt.block_on(session.engine.sql(&sql))?;
    // Every report says which rules and which calls it covers (on stderr, so the rows stay
    // clean): the first and last call dates in its window, not the bounds asked for.
    let covered = match session.rt.block_on(session.engine.call_dates())? {
        Some((first, last)) => format!("calls started {first} to {last}"),
        None => match (&a.from, &a.to) {
            (Some(from), Some(to)) => format!("no calls started {from} to {to}"),
            (Some(from), None) => format!("no calls started {from} or later"),
            (None, Some(to)) => format!("no calls started up to {to}"),
            (None, None) => "no calls".to_string(),
        },
    };
    let scope = format!("rules {}, {covered}", session.engine.rules().name());
    eprintln!("report {label}: {scope}");
    if a.common.format == Some(RowFormat::Html) {
        let page = cqlake_server::ReportFile {
            name: &label,
            description: &cqlake_query::sql_description(&sql),
            scope: &scope,
            sql: &sql,
        }
        .html(&rows)?;
        let mut out = sink(&a.common)?;
        out.write_all(page.as_bytes())?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    print(&rows, &a.common, Some(&presentation))?;
    Ok(ExitCode::SUCCESS)
}

fn query(
    a: &QueryArgs,
    from: Option<String>,
    to: Option<String>,
    sql: &str,
) -> anyhow::Result<Rows> {
    let session = open(a, from, to)?;
    session
        .rt
        .block_on(session.engine.sql(sql))
        .map_err(anyhow::Error::from)
}

/// Prints `rows` where and as `a` says; a report's with its `presentation`.
fn print(rows: &Rows, a: &QueryArgs, presentation: Option<&Presentation>) -> anyhow::Result<()> {
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let format = match a.format {
        Some(f) => f,
        None if to_terminal => RowFormat::Table,
        None => RowFormat::Csv,
    };
    if format == RowFormat::Parquet && to_terminal {
        bail!("--format parquet writes binary data: give --output FILE or pipe it");
    }
    write(rows, format, presentation, &mut sink(a)?)
}
