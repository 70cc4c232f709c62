//! `cqlake sql` and `cqlake report`: read-only queries over the lake, printed in the chosen
//! format.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cqlake_query::{Engine, EngineOptions, Format, REPORTS, Report, Rows, RuleSet};

use crate::args::{QueryArgs, ReportArgs, RowFormat, SqlArgs};

pub fn run(a: SqlArgs) -> anyhow::Result<ExitCode> {
    let Some(sql) = &a.query else {
        return crate::shell::run(&a.common);
    };
    let rows = query(&a.common, None, None, sql)?;
    print(&rows, &a.common)?;
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
    let rows = query(&a.common, a.from.clone(), a.to.clone(), &sql)?;
    // Every report says which rules and dates it used (on stderr, so the rows stay clean).
    eprintln!(
        "report {label}: rules {}, calls started {} to {}",
        a.common.rules,
        a.from.as_deref().unwrap_or("(first)"),
        a.to.as_deref().unwrap_or("(last)")
    );
    print(&rows, &a.common)?;
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

/// An open lake: the engine and the runtime its queries run on (the engine drops first).
pub(crate) struct Session {
    /// The engine over the lake.
    pub engine: Engine,
    /// The runtime to run its queries on.
    pub rt: tokio::runtime::Runtime,
}

/// Opens the lake `a` names with the settings it gives (rules, threads, memory, buildings,
/// dates).
pub(crate) fn open(
    a: &QueryArgs,
    from: Option<String>,
    to: Option<String>,
) -> anyhow::Result<Session> {
    let rules = RuleSet::from_name(&a.rules).with_context(|| {
        let names: Vec<_> = RuleSet::ALL.iter().map(|r| r.name()).collect();
        format!(
            "--rules {:?}: not a rule set ({})",
            a.rules,
            names.join(", ")
        )
    })?;
    let mut options = EngineOptions::default()
        .with_rules(rules)
        .with_dates(from, to);
    if let Some(n) = a.threads {
        options = options.with_threads(n);
    }
    if let Some(b) = &a.buildings {
        options = options.with_buildings(b);
    }
    if let Some(text) = &a.memory_limit {
        options =
            options.with_memory_limit(crate::r#gen::parse_size("--memory-limit", text)? as usize);
    }
    let Some(lake) = &a.lake else {
        bail!("--lake DIR is required");
    };
    if !lake.join("calls").is_dir() {
        bail!("{}: no lake here (convert into it first)", lake.display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let engine = rt.block_on(Engine::open(lake, options))?;
    Ok(Session { engine, rt })
}

fn print(rows: &Rows, a: &QueryArgs) -> anyhow::Result<()> {
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let format = match a.format {
        Some(f) => f,
        None if to_terminal => RowFormat::Table,
        None => RowFormat::Csv,
    };
    if format == RowFormat::Parquet && to_terminal {
        bail!("--format parquet writes binary data: give --output FILE or pipe it");
    }
    write(rows, format, &mut sink(a)?)
}

/// Where rows go: the `--output` file (created) or standard output.
pub(crate) fn sink(a: &QueryArgs) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(match &a.output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    })
}

/// Writes `rows` to `out` in `format` and flushes.
pub(crate) fn write<W: Write + Send>(
    rows: &Rows,
    format: RowFormat,
    out: &mut W,
) -> anyhow::Result<()> {
    let format = match format {
        RowFormat::Table => Format::Table,
        RowFormat::Csv => Format::Csv,
        RowFormat::Json => Format::Json,
        RowFormat::Ndjson => Format::Ndjson,
        RowFormat::Markdown => Format::Markdown,
        RowFormat::Parquet => Format::Parquet,
    };
    let mut w = std::io::BufWriter::new(out);
    cqlake_query::write(rows, format, &mut w)?;
    w.flush()?;
    Ok(())
}
