//! sqllogictest: every `sql/tests/*.slt` file runs against one of two lakes, with a rule set,
//! both picked by its name:
//!
//! - `<rules>.<topic>.slt`: a lake converted from `sql/tests/thresholds.json` (one call whose
//!   streams sit on every threshold), with the rule set `<rules>` (`cqd-classic`, `cqd-2020`,
//!   `cqd-2021`, `cqd-current`).
//! - `sample.<topic>.slt`: the sample lake (below), with the default rule set `cqd-classic`.
//! - `<rules>.sample-<topic>.slt`: the sample lake, with the rule set `<rules>`.
//! - `flows.<topic>.slt`: a lake converted from `sample-data/call-flows/` (calls through auto
//!   attendants and call queues, `sample-data/CALL-FLOWS.md`), with `cqd-classic`.
//!
//! The sample lake is converted once per test run, the way `cqlake convert` does it (the
//! ingest pipeline `cqlake_ingest::source::run` feeding a `cqlake_lake::LakeWriter` through its
//! `Preparer`), from `sample-data/generated/` (the seeded corpus of `sample-data/GENERATED.md`)
//! `sample-data/graph-docs/` (the Graph documentation's examples, `sample-data/SOURCES.md`;
//! the documents that are not call records are skipped) and `sample-data/logs/`. Its contents are the same on every run
//! whatever the thread count. Engines over it register `sql/tests/sample-buildings.csv` as the
//! `buildings` view.
//!
//! A record whose SQL is `report <name>` runs the built-in report `<name>` (`sql/reports/`);
//! every built-in report must have a `sample.<name>.slt`.
//!
//! `CQLAKE_SLT_COMPLETE=PREFIX cargo test --workspace --test slt` rewrites the expected results
//! of the files whose name starts with `PREFIX` (e.g. `sample.daily`) from what the engine
//! returns (sqllogictest's completion mode) instead of checking them; the other files are
//! checked as usual. It writes a failing query as a `query error` record and a column type
//! other than `T`, `I` or `R` as `?`: read the diff. Every value it writes must be checked
//! against an independent computation before it is committed.

use std::path::{Path, PathBuf};

use arrow::util::display::{ArrayFormatter, FormatOptions};
use cqlake_ingest::Error;
use cqlake_ingest::decode::{Decoder, PageKind};
use cqlake_ingest::frame::FrameKind;
use cqlake_ingest::input::expand_inputs;
use cqlake_ingest::source::{self, Delivery, PipelineOptions};
use cqlake_query::{Engine, EngineOptions, Report, RuleSet};
use sqllogictest::{DBOutput, DefaultColumnType};

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sql_dir() -> PathBuf {
    repo_dir().join("sql")
}

/// A lake holding the threshold fixture.
fn lake(rt: &tokio::runtime::Runtime) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let json = std::fs::read(sql_dir().join("tests/thresholds.json")).unwrap();
    let mut d = Decoder::new();
    d.decode(&json, &FrameKind::Document, &PageKind::Unknown);
    let batch = d.flattener.finish();
    rt.block_on(async {
        let mut w = cqlake_lake::LakeWriter::open(dir.path()).await.unwrap();
        w.push(batch).await.unwrap();
        w.finish().await.unwrap();
    });
    dir
}

/// A lake holding the sample data, converted as `cqlake convert sample-data/generated
/// sample-data/graph-docs sample-data/logs --lake DIR` does it.
fn sample_lake() -> tempfile::TempDir {
    let (dir, stats) = converted(&[
        "sample-data/generated",
        "sample-data/graph-docs",
        "sample-data/logs",
    ]);
    // GENERATED.md's 67 records and 3 sessions of a follow-up page; graph-docs' 5 records of
    // one call and its 2 sessions pages.
    assert_eq!((stats.calls, stats.page_sessions), (72, 5), "{stats:?}");
    dir
}

/// A lake holding `sample-data/call-flows/`.
fn flows_lake() -> tempfile::TempDir {
    let (dir, stats) = converted(&["sample-data/call-flows"]);
    // Two call records, a List-sessions page of 6 sessions and a Get with `$select` (no
    // startDateTime) of one call's participants.
    assert_eq!(
        (stats.calls, stats.page_sessions, stats.partial_records),
        (2, 6, 1),
        "{stats:?}"
    );
    dir
}

/// A lake converted from `dirs` (relative to the repository), as `cqlake convert` does it.
fn converted(dirs: &[&str]) -> (tempfile::TempDir, source::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = dirs
        .iter()
        .map(|d| repo_dir().join(d).display().to_string())
        .collect();
    let inputs = expand_inputs(&args).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut writer = rt
        .block_on(cqlake_lake::LakeWriter::open(dir.path()))
        .unwrap();
    let preparer = writer.preparer();
    let options = PipelineOptions::default()
        .with_threads(2)
        .with_spill_dir(dir.path());
    let mut rejects = Vec::new();
    let stats = source::run(
        &inputs,
        &options,
        &|_| {},
        &|b| preparer.prepare(b).map_err(Box::new),
        &mut |d: Delivery<Result<cqlake_lake::Prepared, Box<cqlake_lake::Error>>>| {
            rejects.extend(d.rejects);
            if let Some(side) = d.side {
                rt.block_on(writer.push_side(side))
                    .map_err(|e| Error::sink("writing the lake", e))?;
            }
            if let Some(p) = d.batch {
                rt.block_on(writer.push_prepared(p.map_err(|e| Error::sink("preparing", e))?))
                    .map_err(|e| Error::sink("writing the lake", e))?;
            }
            Ok(())
        },
    )
    .unwrap();
    assert!(rejects.is_empty(), "sample data rejected: {rejects:?}");
    rt.block_on(writer.finish()).unwrap();
    (dir, stats)
}

/// The lake a test file runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixture {
    Thresholds,
    Sample,
    Flows,
}

/// The lake and rule set a file's name asks for (see the module documentation).
fn plan(name: &str) -> (Fixture, RuleSet) {
    if name.starts_with("sample.") {
        return (Fixture::Sample, RuleSet::Classic);
    }
    if name.starts_with("flows.") {
        return (Fixture::Flows, RuleSet::Classic);
    }
    let rules = RuleSet::ALL
        .into_iter()
        .find(|r| name.starts_with(&format!("{}.", r.name())))
        .unwrap_or_else(|| {
            panic!("{name}: starts with neither `sample.`, `flows.` nor a rule set name")
        });
    let topic = &name[rules.name().len() + 1..];
    if topic.starts_with("sample-") {
        (Fixture::Sample, rules)
    } else {
        (Fixture::Thresholds, rules)
    }
}

struct Db {
    rt: tokio::runtime::Runtime,
    engine: Engine,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl sqllogictest::DB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        // `report <name>`: a built-in report.
        let sql = match sql.trim().strip_prefix("report ") {
            Some(name) => {
                Report::named(name.trim())
                    .ok_or_else(|| SltError(format!("no built-in report {name:?}")))?
                    .sql
            }
            None => sql,
        };
        let rows = self
            .rt
            .block_on(self.engine.sql(sql))
            .map_err(|e| SltError(e.to_string()))?;
        let options = FormatOptions::default().with_null("NULL");
        let mut out = Vec::new();
        for b in &rows.batches {
            let f = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SltError(e.to_string()))?;
            for r in 0..b.num_rows() {
                // An empty string prints as `(empty)`, as in DataFusion's own .slt files.
                out.push(
                    f.iter()
                        .map(|c| match c.value(r).to_string() {
                            s if s.is_empty() => "(empty)".to_string(),
                            s => s,
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; rows.schema.fields().len()],
            rows: out,
        })
    }
}

#[test]
fn sqllogictest_files() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let thresholds = lake(&rt);
    drop(rt);
    let mut sample: Option<tempfile::TempDir> = None;
    let mut flows: Option<tempfile::TempDir> = None;
    let complete = std::env::var("CQLAKE_SLT_COMPLETE").ok();
    let mut files: Vec<PathBuf> = std::fs::read_dir(sql_dir().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    // Every built-in report has a file of its own over the sample lake.
    for r in cqlake_query::REPORTS {
        let want = sql_dir().join(format!("tests/sample.{}.slt", r.name));
        assert!(files.contains(&want), "no {}", want.display());
    }
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let (fixture, rules) = plan(&name);
        let mut options = EngineOptions::default().with_rules(rules);
        let path = match fixture {
            Fixture::Thresholds => thresholds.path().to_path_buf(),
            Fixture::Sample => {
                options = options.with_buildings(sql_dir().join("tests/sample-buildings.csv"));
                sample.get_or_insert_with(sample_lake).path().to_path_buf()
            }
            Fixture::Flows => flows.get_or_insert_with(flows_lake).path().to_path_buf(),
        };
        let mut runner = sqllogictest::Runner::new(move || {
            let path = path.clone();
            let options = options.clone();
            async move {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let engine = rt
                    .block_on(Engine::open(&path, options))
                    .map_err(|e| SltError(e.to_string()))?;
                Ok(Db { rt, engine })
            }
        });
        if complete
            .as_ref()
            .is_some_and(|c| name.starts_with(c.as_str()))
        {
            futures::executor::block_on(runner.update_test_file(
                &file,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::default_column_validator,
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if let Err(e) = runner.run_file(&file) {
            panic!("{name}: {e}");
        }
    }
}

/// A footer cache shared by two engines: the first query parses each `streams` file's footer
/// into it, the second engine reads them from it (none parsed again) and answers the same.
#[test]
fn engines_sharing_a_footer_cache_parse_each_footer_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = flows_lake();
    let footers = cqlake_query::FooterCache::new(64 << 20).unwrap();
    assert_eq!(footers.files(), 0);
    let count = |engine: &Engine| {
        rt.block_on(engine.sql("SELECT count(*), sum(average_jitter_ms) FROM streams"))
            .unwrap()
            .batches
    };
    let open = || {
        let options = EngineOptions::default().with_footer_cache(footers.clone());
        rt.block_on(Engine::open(dir.path(), options)).unwrap()
    };
    let first = count(&open());
    let streams_files = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .filter(|f| f.as_ref().unwrap().path().extension() == Some("parquet".as_ref()))
        .count();
    assert!(streams_files >= 1, "{streams_files}");
    assert_eq!(footers.files(), streams_files);
    let hits = footers.hits();
    let second = count(&open());
    assert_eq!(footers.files(), streams_files);
    assert!(
        footers.hits() >= hits + streams_files,
        "{hits} → {}",
        footers.hits()
    );
    assert_eq!(first, second);
    // An engine of its own keeps its footers to itself.
    let own = rt
        .block_on(Engine::open(dir.path(), EngineOptions::default()))
        .unwrap();
    let hits = footers.hits();
    assert_eq!(count(&own), first);
    assert_eq!((footers.files(), footers.hits()), (streams_files, hits));
}
