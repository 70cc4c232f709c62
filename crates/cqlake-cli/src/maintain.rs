//! `cqlake optimize` and `cqlake vacuum`: keeping a lake's files in shape.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cqlake_lake::{LakeLocation, LakeWriter, Optimize};

use crate::args::{OptimizeArgs, PurgeArgs, VacuumArgs};

/// Opens the existing lake for writing (taking its lock, waiting up to `wait` for another
/// writer); `maintain` as [`crate::open_writer`] takes it.
fn open(
    rt: &tokio::runtime::Runtime,
    lake: &LakeLocation,
    wait: std::time::Duration,
    maintain: bool,
) -> anyhow::Result<LakeWriter> {
    if !rt.block_on(cqlake_lake::lake_exists(lake))? {
        bail!("no lake at {lake} (convert into it first)");
    }
    crate::open_writer(rt, lake, wait, &cqlake_lake::Personal::Unchanged, maintain)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `cqlake optimize`.
pub fn optimize(args: OptimizeArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Optimize::new()
        .with_from(args.from.map(|d| d.days))
        .with_to(args.to.map(|d| d.days));
    if let Some(n) = args.threads {
        settings = settings.with_threads(n);
    }
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let lake = args.storage.apply(&args.lake)?;
    let w = open(&rt, &lake, args.wait, true)?;
    let s = rt
        .block_on(w.optimize(&settings))
        .with_context(|| format!("optimizing the lake at {lake}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "optimize: {} partitions rewritten, {} already compact; {} files ({}, {} row groups) \
         became {} ({}, {} row groups); {} rows; {:.1} s",
        s.rewritten,
        s.compact,
        s.files_removed,
        mb(s.bytes_before),
        s.row_groups_before,
        s.files_added,
        mb(s.bytes_after),
        s.row_groups_after,
        s.rows,
        started.elapsed().as_secs_f64()
    )?;
    for t in &s.migrated {
        writeln!(
            out,
            "{t}: migrated to the current layout (its other context columns are in the view \
             streams_wide)"
        )?;
    }
    if s.side_files_removed > 0 {
        writeln!(
            out,
            "side tables: {} files became {}",
            s.side_files_removed, s.side_files_added
        )?;
    }
    if s.files_removed > 0 || s.side_files_removed > 0 {
        writeln!(
            out,
            "the replaced files stay for readers of older snapshots; `cqlake vacuum` deletes them"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `cqlake vacuum`.
pub fn vacuum(args: VacuumArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let lake = args.storage.apply(&args.lake)?;
    let w = open(&rt, &lake, args.wait, true)?;
    let retain = std::time::Duration::from_secs(args.retain_hours.saturating_mul(3600));
    let s = rt
        .block_on(w.vacuum(retain))
        .with_context(|| format!("vacuuming the lake at {lake}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "vacuum: {} files deleted ({}); {} unlisted files kept (younger than {} h)",
        s.files,
        mb(s.bytes),
        s.retained,
        args.retain_hours
    )?;
    if s.log_files > 0 {
        writeln!(
            out,
            "after an erasure (cqlake forget): {} log files before a checkpoint of now deleted",
            s.log_files
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `cqlake purge`.
pub fn purge(args: PurgeArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let lake = args.storage.apply(&args.lake)?;
    let w = open(&rt, &lake, args.wait, false)?;
    let before = match (args.before, args.older_than, args.keep_days) {
        (Some(d), _, _) => Some(d.days),
        (_, Some(n), _) | (_, _, Some(n)) => Some(cqlake_lake::days_ago(n)),
        _ => None,
    };
    if args.keep_days.is_some() || args.keep_all {
        rt.block_on(cqlake_lake::set_retention(&lake, args.keep_days))
            .with_context(|| format!("keeping a retention in the lake at {lake}"))?;
    }
    let mut out = std::io::stdout().lock();
    let Some(before) = before else {
        drop(w);
        writeln!(out, "purge: the lake keeps every call (no retention)")?;
        return Ok(ExitCode::SUCCESS);
    };
    let s = rt
        .block_on(w.purge(before))
        .with_context(|| format!("purging the lake at {lake}"))?;
    let date = crate::summary::date_text(before);
    let tables = cqlake_schema::TableId::ALL
        .into_iter()
        .map(|t| (t.name(), s.rows[t.index()], s.files[t.index()]));
    let side = cqlake_schema::SideTable::ALL
        .into_iter()
        .filter(|t| t.date_column().is_some())
        .map(|t| (t.name(), s.side_rows[t.index()]));
    if args.json {
        let json = serde_json::json!({
            "before": date,
            "keep_days": args.keep_days,
            "rows": tables.clone().map(|(n, r, _)| (n.to_string(), serde_json::json!(r))).collect::<serde_json::Map<_, _>>(),
            "files": tables.map(|(n, _, f)| (n.to_string(), serde_json::json!(f))).collect::<serde_json::Map<_, _>>(),
            "side_rows": side.map(|(n, r)| (n.to_string(), serde_json::json!(r))).collect::<serde_json::Map<_, _>>(),
        });
        writeln!(out, "{json}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "purge: the calls that started before {date} removed")?;
    for (name, rows, files) in tables {
        writeln!(out, "  {name:<22} {rows:>12} rows  {files:>8} files")?;
    }
    for (name, rows) in side {
        writeln!(out, "  {name:<22} {rows:>12} rows")?;
    }
    if let Some(days) = args.keep_days {
        writeln!(
            out,
            "the lake keeps {days} days from now on: every convert and pull removes older calls"
        )?;
    }
    writeln!(
        out,
        "the removed files stay for readers of older snapshots; `cqlake vacuum` deletes them"
    )?;
    Ok(ExitCode::SUCCESS)
}
