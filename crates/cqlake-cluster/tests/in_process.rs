//! The reports and views on a cluster in this process (a scheduler and two executors on
//! loopback, plans sent over gRPC as between processes) give the local engine's rows: every
//! built-in report, every rollup and `stream_quality` under every rule set, on the sample lake.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use cqlake_cluster::InProcess;
use cqlake_ingest::input::expand_inputs;
use cqlake_ingest::source::{self, Delivery, PipelineOptions};
use cqlake_query::{Engine, EngineOptions, REPORTS, Rows, RuleSet};

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sample lake, converted as `cqlake convert sample-data/generated sample-data/graph-docs
/// sample-data/logs --lake DIR` does it.
fn sample_lake(rt: &tokio::runtime::Runtime) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "sample-data/generated",
        "sample-data/graph-docs",
        "sample-data/logs",
    ]
    .iter()
    .map(|d| repo_dir().join(d).display().to_string())
    .collect();
    let inputs = expand_inputs(&args).unwrap();
    let mut writer = rt
        .block_on(cqlake_lake::LakeWriter::open(dir.path()))
        .unwrap();
    let preparer = writer.preparer();
    let options = PipelineOptions::default()
        .with_threads(2)
        .with_spill_dir(dir.path());
    source::run(
        &inputs,
        &options,
        &|_| {},
        &|b| preparer.prepare(b).map_err(Box::new),
        &mut |d: Delivery<Result<cqlake_lake::Prepared, Box<cqlake_lake::Error>>>| {
            assert!(
                d.rejects.is_empty(),
                "sample data rejected: {:?}",
                d.rejects
            );
            if let Some(side) = d.side {
                rt.block_on(writer.push_side(side)).unwrap();
            }
            if let Some(p) = d.batch {
                rt.block_on(writer.push_prepared(p.unwrap())).unwrap();
            }
            Ok(())
        },
    )
    .unwrap();
    rt.block_on(writer.finish()).unwrap();
    dir
}

/// A value of a result, floats kept as numbers to compare within 1e-9.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Cell {
    Null,
    Float(f64),
    Text(String),
}

/// The rows of `rows` as cells, sorted (a report's order between equal keys is not defined).
fn cells(rows: &Rows) -> Vec<Vec<Cell>> {
    let mut out: Vec<Vec<Cell>> = Vec::new();
    let options = FormatOptions::default().with_null("NULL");
    for b in &rows.batches {
        let columns: Vec<Box<dyn Fn(usize) -> Cell + '_>> = b
            .columns()
            .iter()
            .map(|c| column(c.as_ref(), &options))
            .collect();
        for r in 0..b.num_rows() {
            out.push(columns.iter().map(|c| c(r)).collect());
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    out
}

fn column<'a>(c: &'a dyn Array, options: &'a FormatOptions) -> Box<dyn Fn(usize) -> Cell + 'a> {
    match c.data_type() {
        DataType::Float64 => {
            let a = c.as_primitive::<Float64Type>();
            Box::new(move |r| {
                if a.is_null(r) {
                    Cell::Null
                } else {
                    Cell::Float(a.value(r))
                }
            })
        }
        DataType::Float32 => {
            let a = c.as_primitive::<Float32Type>();
            Box::new(move |r| {
                if a.is_null(r) {
                    Cell::Null
                } else {
                    Cell::Float(a.value(r) as f64)
                }
            })
        }
        _ => {
            let f = ArrayFormatter::try_new(c, options).unwrap();
            Box::new(move |r| {
                if c.is_null(r) {
                    Cell::Null
                } else {
                    Cell::Text(f.value(r).to_string())
                }
            })
        }
    }
}

/// Panics unless `cluster` has the rows of `local` (floats within 1e-9, relative for large
/// ones).
fn assert_same(what: &str, local: &Rows, cluster: &Rows) {
    let names = |r: &Rows| {
        r.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(local), names(cluster), "{what}: columns");
    let (a, b) = (cells(local), cells(cluster));
    assert_eq!(a.len(), b.len(), "{what}: row count");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        for (j, (p, q)) in x.iter().zip(y).enumerate() {
            let same = match (p, q) {
                (Cell::Float(p), Cell::Float(q)) => {
                    (p - q).abs() <= 1e-9 * p.abs().max(1.0) || (p.is_nan() && q.is_nan())
                }
                _ => p == q,
            };
            assert!(
                same,
                "{what}: row {i}, column {}: {p:?} locally, {q:?} on the cluster",
                local.schema.field(j).name()
            );
        }
    }
}

#[test]
fn every_report_rollup_and_stream_quality_under_every_rule_set_equal_the_local_engines() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lake = sample_lake(&rt);
    let buildings = repo_dir().join("sql/tests/sample-buildings.csv");
    rt.block_on(async {
        let cluster = InProcess::start(2, 2).await.unwrap();
        let runner = std::sync::Arc::new(cluster.cluster().clone());
        for rules in RuleSet::ALL {
            let options = EngineOptions::default()
                .with_threads(2)
                .with_rules(rules)
                .with_buildings(&buildings);
            let local = Engine::open(lake.path(), options.clone()).await.unwrap();
            let remote = Engine::open(lake.path(), options.with_runner(runner.clone()))
                .await
                .unwrap();
            let mut queries: Vec<(String, &str)> = REPORTS
                .iter()
                .map(|r| (format!("report {}", r.name), r.sql))
                .collect();
            queries.push(("stream_quality".into(), "SELECT * FROM stream_quality"));
            // The rollups `serve --cluster` computes there.
            let rollups: Vec<String> = cqlake_query::ROLLUPS
                .iter()
                .map(|r| format!("SELECT * FROM {}", r.name))
                .collect();
            queries.extend(rollups.iter().map(|q| (q.clone(), q.as_str())));
            for (name, sql) in queries {
                let what = format!("{name} ({})", rules.name());
                let a = local
                    .sql(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let b = remote
                    .sql(sql)
                    .await
                    .unwrap_or_else(|e| panic!("{what} on the cluster: {e}"));
                assert!(
                    name != "stream_quality"
                        || a.batches.iter().map(|b| b.num_rows()).sum::<usize>() > 500,
                    "the sample lake has its streams"
                );
                assert_same(&what, &a, &b);
            }
        }
    });
}
