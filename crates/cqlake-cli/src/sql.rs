//! `cqlake sql`: one read-only query over the lake, printed in the chosen format.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use cqlake_query::{Engine, EngineOptions, Format, RuleSet};

use crate::args::{RowFormat, SqlArgs};

pub fn run(a: SqlArgs) -> anyhow::Result<ExitCode> {
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let format = match a.format {
        Some(f) => f,
        None if to_terminal => RowFormat::Table,
        None => RowFormat::Csv,
    };
    if format == RowFormat::Parquet && to_terminal {
        bail!("--format parquet writes binary data: give --output FILE or pipe it");
    }
    let rules = RuleSet::from_name(&a.rules).with_context(|| {
        let names: Vec<_> = RuleSet::ALL.iter().map(|r| r.name()).collect();
        format!(
            "--rules {:?}: not a rule set ({})",
            a.rules,
            names.join(", ")
        )
    })?;
    let mut options = EngineOptions::default().with_rules(rules);
    if let Some(n) = a.threads {
        options = options.with_threads(n);
    }
    if let Some(text) = &a.memory_limit {
        options =
            options.with_memory_limit(crate::r#gen::parse_size("--memory-limit", text)? as usize);
    }
    if !a.lake.join("calls").is_dir() {
        bail!("{}: no lake here (convert into it first)", a.lake.display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let rows = rt.block_on(async {
        let engine = Engine::open(&a.lake, options)
            .await
            .with_context(|| format!("opening the lake at {}", a.lake.display()))?;
        engine.sql(&a.query).await.map_err(anyhow::Error::from)
    })?;
    let format = match format {
        RowFormat::Table => Format::Table,
        RowFormat::Csv => Format::Csv,
        RowFormat::Json => Format::Json,
        RowFormat::Ndjson => Format::Ndjson,
        RowFormat::Markdown => Format::Markdown,
        RowFormat::Parquet => Format::Parquet,
    };
    match &a.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            cqlake_query::write(&rows, format, &mut w)?;
            w.flush()?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout());
            cqlake_query::write(&rows, format, &mut w)?;
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
