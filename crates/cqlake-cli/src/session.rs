//! An open lake for the query commands (`sql`, `report`, the shell): the engine with the
//! command's settings, and where and how its rows are written.

use std::io::Write;

use anyhow::{Context, bail};
use cqlake_query::{Engine, EngineOptions, Format, Presentation, Rows, RuleSet};

use crate::args::{QueryArgs, RowFormat};

/// Why rows other than a report's cannot be an HTML page.
pub(crate) const NO_HTML: &str = "--format html writes a report's page: use it with cqlake report";

/// Parallel tasks per stage of a query run on a cluster, unless --threads says otherwise
/// (Ballista's default).
pub(crate) const CLUSTER_TASKS: usize = 16;

/// An open lake: the engine and the runtime its queries run on (the engine drops first).
pub(crate) struct Session {
    /// The engine over the lake.
    pub engine: Engine,
    /// The runtime to run its queries on.
    pub rt: tokio::runtime::Runtime,
}

/// The cluster at `url` (`--cluster`), with the keys in `keys` (`--cluster-keys`).
pub(crate) fn cluster(
    url: &str,
    keys: Option<&std::path::Path>,
) -> anyhow::Result<cqlake_cluster::Cluster> {
    let mut cluster =
        cqlake_cluster::Cluster::parse(url).with_context(|| format!("--cluster {url}"))?;
    if let Some(dir) = keys {
        cluster =
            cluster.with_keys(cqlake_cluster::ClusterKeys::read(dir).context("--cluster-keys")?);
    }
    Ok(cluster)
}

/// The rule set `--rules` names, or an error listing the rule sets.
pub(crate) fn rules_named(name: &str) -> anyhow::Result<RuleSet> {
    RuleSet::from_name(name).with_context(|| {
        let names: Vec<_> = RuleSet::ALL.iter().map(|r| r.name()).collect();
        format!("--rules {name:?}: not a rule set ({})", names.join(", "))
    })
}

/// Opens the lake `a` names with the settings it gives (rules, threads, memory, buildings,
/// dates).
pub(crate) fn open(
    a: &QueryArgs,
    from: Option<String>,
    to: Option<String>,
) -> anyhow::Result<Session> {
    let rules = rules_named(&a.rules)?;
    let mut options = EngineOptions::default()
        .with_rules(rules)
        .with_dates(from, to);
    if let Some(url) = &a.cluster {
        let cluster = cluster(url, a.cluster_keys.as_deref())?;
        options = options
            .with_runner(std::sync::Arc::new(cluster))
            .with_threads(CLUSTER_TASKS);
    }
    if let Some(n) = a.threads {
        options = options.with_threads(n);
    }
    if let Some(b) = &a.buildings {
        options = options.with_buildings(b);
    }
    if let Some(size) = a.memory_limit {
        options = options.with_memory_limit(size.0 as usize);
    }
    let Some(lake) = &a.lake else {
        bail!("--lake DIR is required");
    };
    let lake = a.storage.apply(lake)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if !rt.block_on(cqlake_lake::lake_exists(&lake))? {
        bail!("{lake}: no lake here (convert into it first)");
    }
    let engine = rt.block_on(Engine::open(lake, options))?;
    Ok(Session { engine, rt })
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

/// Writes `rows` to `out` in `format` and flushes: exact values, or, with a `presentation` (a
/// report's), the table and Markdown formats for people.
pub(crate) fn write<W: Write + Send>(
    rows: &Rows,
    format: RowFormat,
    presentation: Option<&Presentation>,
    out: &mut W,
) -> anyhow::Result<()> {
    let format = match format {
        RowFormat::Table => Format::Table,
        RowFormat::Csv => Format::Csv,
        RowFormat::Json => Format::Json,
        RowFormat::Ndjson => Format::Ndjson,
        RowFormat::Markdown => Format::Markdown,
        RowFormat::Parquet => Format::Parquet,
        RowFormat::Html => bail!("{NO_HTML}"),
    };
    let mut w = std::io::BufWriter::new(out);
    match presentation {
        Some(p) => cqlake_query::write_presented(rows, format, p, &mut w)?,
        None => cqlake_query::write(rows, format, &mut w)?,
    }
    w.flush()?;
    Ok(())
}
