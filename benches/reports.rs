//! Every built-in report (but `buildings`, which needs a building file) on a converted
//! generated lake, planning and execution timed apart: `plan` is SQL to physical plan (views
//! expanded, optimised), `execute` runs a ready plan to the last row.
//!
//! The lake is converted from a generated NDJSON corpus (see [`cqlake_benches::corpus_bytes`]),
//! or is the lake at `CQLAKE_BENCH_LAKE` (for example a 50-million-stream lake made by
//! `benches/sql.sh`).

use std::io::Write as _;

use cqlake_benches::{convert_into, corpus, corpus_bytes};
use cqlake_gen::Container;
use cqlake_query::{Engine, EngineOptions, REPORTS};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn reports(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = match std::env::var_os("CQLAKE_BENCH_LAKE") {
        Some(l) => std::path::PathBuf::from(l),
        None => {
            let input = dir.path().join("input.json");
            std::fs::File::create(&input)
                .and_then(|mut f| f.write_all(&corpus(Container::Ndjson, corpus_bytes()).0))
                .expect("write the corpus");
            let lake = dir.path().join("lake");
            convert_into(&input, &lake);
            lake
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = rt
        .block_on(Engine::open(&lake, EngineOptions::default()))
        .expect("open the lake");
    let ctx = engine.context();
    for report in REPORTS.iter().filter(|r| r.name != "buildings") {
        let mut g = c.benchmark_group(format!("reports/{}", report.name));
        g.sample_size(10);
        let plan = || {
            rt.block_on(async {
                ctx.sql(report.sql)
                    .await
                    .expect("the report plans")
                    .create_physical_plan()
                    .await
                    .expect("the report plans")
            })
        };
        g.bench_function("plan", |b| b.iter(plan));
        g.bench_function("execute", |b| {
            b.iter_batched(
                plan,
                |p| {
                    let rows = rt
                        .block_on(datafusion::physical_plan::collect(p, ctx.task_ctx()))
                        .expect("the report runs");
                    rows.iter().map(|b| b.num_rows()).sum::<usize>()
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, reports);
criterion_main!(benches);
