//! `cqlake gen`: settings → [`Generator`] → output → statistics.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use cqlake_gen::{Compression, Container, GenStats, Generator, Shape};
use cqlake_schema::TableId;

use crate::args::{GenArgs, GenCompress, GenContainer, GenKind, GenShape};
use cqlake_gen::side::{SideGenerator, SideKind};
use cqlake_schema::SideTable;

/// Where the corpus goes.
enum Output {
    Stdout,
    File(PathBuf),
    Dir(PathBuf),
}

/// `gen` arguments resolved into settings.
struct GenSettings {
    generator: Generator,
    output: Output,
    stats: Option<PathBuf>,
}

fn resolve(a: GenArgs) -> anyhow::Result<GenSettings> {
    if !(0.0..=1.0).contains(&a.revisions) {
        bail!("--revisions {}: must be between 0 and 1", a.revisions);
    }
    let mut g = Generator::new(a.seed)
        .with_container(match a.container {
            GenContainer::Ndjson => Container::Ndjson,
            GenContainer::Array => Container::Array,
            GenContainer::Concat => Container::Concat,
            GenContainer::Page => Container::Page,
            GenContainer::PrettyPage => Container::PrettyPage,
            GenContainer::Expanded => Container::Expanded,
        })
        .with_shape(match a.shape {
            GenShape::V1 => Shape::V1,
            GenShape::Beta => Shape::Beta,
            GenShape::Mixed => Shape::Mixed,
        })
        .with_revisions(a.revisions)
        .with_bom(a.bom)
        .with_compression(match a.compress {
            GenCompress::None => Compression::None,
            GenCompress::Gz => Compression::Gzip,
            GenCompress::Zst => Compression::Zstd,
        });
    if let Some(n) = a.calls {
        g = g.with_calls(n);
    }
    if a.start.is_some() || a.days.is_some() {
        let start = a.start.map_or(cqlake_gen::DEFAULT_START_UNIX_SECONDS, |d| {
            i64::from(d.days) * 86_400
        });
        g = g.with_window(
            cqlake_gen::model::Timestamp::from_unix_seconds(start),
            a.days.unwrap_or(cqlake_gen::DEFAULT_DAYS),
        );
    }
    if let Some(s) = a.size {
        g = g.with_target_bytes(s.0);
    }
    for (name, share) in [
        ("--group-calls", a.group_calls),
        ("--large-calls", a.large_calls),
        ("--huge-calls", a.huge_calls),
    ] {
        if share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
            bail!("{name}: must be between 0 and 1");
        }
    }
    if let Some(s) = a.group_calls {
        g = g.with_group_call_share(s);
    }
    if let Some(s) = a.large_calls {
        g = g.with_large_call_share(s);
    }
    if let Some(s) = a.huge_calls {
        g = g.with_huge_call_share(s);
    }
    if let Some(n) = a.sessions_per_page {
        g = g.with_sessions_per_page(n);
    }
    if let Some(n) = a.participants_per_page {
        g = g.with_participants_per_page(n);
    }
    let output = match a.output {
        None => Output::Stdout,
        Some(p) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/') => Output::Dir(p),
        Some(p) => Output::File(p),
    };
    Ok(GenSettings {
        generator: g,
        output,
        stats: a.stats,
    })
}

/// The statistics as one JSON object.
fn stats_json(g: &Generator, s: &GenStats, seconds: f64) -> serde_json::Value {
    let rows: serde_json::Map<String, serde_json::Value> = TableId::ALL
        .iter()
        .map(|t| (t.name().to_string(), s.rows(*t).into()))
        .collect();
    serde_json::json!({
        "seed": g.seed(),
        "container": g.container().name(),
        "bytes": s.bytes,
        "bytes_out": s.bytes_out,
        "documents": s.documents,
        "files": s.files,
        "calls": s.calls,
        "records": s.records,
        "revisions": s.revisions,
        "session_pages": s.session_pages,
        "page_sessions": s.page_sessions,
        "participant_pages": s.participant_pages,
        "page_participants": s.page_participants,
        "rows": rows,
        "streams_by_label": s.streams_by_label,
        "seconds": seconds,
        "mb_per_s": s.bytes as f64 / 1e6 / seconds.max(1e-9),
    })
}

/// `gen --kind K` for a side-table kind: its documents, then the ground truth as JSON.
fn run_side(a: GenArgs) -> anyhow::Result<ExitCode> {
    let kind = match a.kind {
        GenKind::Calls => unreachable!("call records go through the call generator"),
        GenKind::Recordings => SideKind::Recordings,
        GenKind::RecordOperations => SideKind::RecordOperations,
        GenKind::Pstn => SideKind::Pstn,
        GenKind::DirectRouting => SideKind::DirectRouting,
        GenKind::Sms => SideKind::Sms,
        GenKind::BlockedUsers => SideKind::BlockedUsers,
        GenKind::Dialout => SideKind::Dialout,
        GenKind::Notifications => SideKind::Notifications,
    };
    let (docs, truth) = SideGenerator::new(a.seed, a.rows)
        .with_page_rows(a.page_rows)
        .documents(kind);
    match &a.output {
        Some(p) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/') => {
            std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
            for (i, d) in docs.iter().enumerate() {
                let f = p.join(format!("{i:08}.json"));
                std::fs::write(&f, format!("{d}\n"))
                    .with_context(|| format!("writing {}", f.display()))?;
            }
        }
        Some(p) => {
            let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
            std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            for d in &docs {
                writeln!(out, "{d}")?;
            }
        }
    }
    let rows: serde_json::Map<String, serde_json::Value> = SideTable::ALL
        .iter()
        .filter(|t| truth.rows[t.index()] > 0)
        .map(|t| (t.name().to_string(), truth.rows[t.index()].into()))
        .collect();
    let json = serde_json::json!({
        "seed": a.seed,
        "kind": kind.table().name(),
        "documents": docs.len(),
        "bytes": docs.iter().map(|d| d.len() + 1).sum::<usize>(),
        "objects": truth.objects,
        "secrets": truth.secrets,
        "rows": rows,
        "seconds": truth.seconds,
        "charge": format!("{}.{:04}", truth.charge_1e4 / 10_000, truth.charge_1e4 % 10_000),
        "failed": truth.failed,
    });
    match &a.stats {
        Some(p) => std::fs::write(p, format!("{json:#}\n"))
            .with_context(|| format!("writing {}", p.display()))?,
        None => writeln!(std::io::stderr(), "{json}")?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: GenArgs) -> anyhow::Result<ExitCode> {
    if args.kind != GenKind::Calls {
        return run_side(args);
    }
    let s = resolve(args)?;
    let started = Instant::now();
    let g = &s.generator;
    let stats = match &s.output {
        Output::Stdout => {
            let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            g.write_to(out)?
        }
        Output::File(p) => {
            let f =
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            g.write_to(std::io::BufWriter::with_capacity(1 << 20, f))
                .with_context(|| format!("writing {}", p.display()))?
        }
        Output::Dir(d) => g
            .write_dir(d)
            .with_context(|| format!("writing into {}", d.display()))?,
    };
    let json = stats_json(g, &stats, started.elapsed().as_secs_f64());
    match &s.stats {
        Some(p) => std::fs::write(p, format!("{json:#}\n"))
            .with_context(|| format!("writing {}", p.display()))?,
        None => writeln!(std::io::stderr(), "{json}")?,
    }
    Ok(ExitCode::SUCCESS)
}
