//! sqllogictest: every `sql/tests/<rules>.<topic>.slt` file runs against a lake converted from
//! `sql/tests/thresholds.json` (one call whose streams sit on every threshold), with the rule
//! set its name starts with.

use std::path::{Path, PathBuf};

use arrow::util::display::{ArrayFormatter, FormatOptions};
use cqlake_ingest::decode::{Decoder, PageKind};
use cqlake_ingest::frame::FrameKind;
use cqlake_query::{Engine, EngineOptions, RuleSet};
use sqllogictest::{DBOutput, DefaultColumnType};

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql")
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
    let lake = lake(&rt);
    drop(rt);
    let mut files: Vec<PathBuf> = std::fs::read_dir(sql_dir().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let rules = RuleSet::ALL
            .into_iter()
            .find(|r| name.starts_with(&format!("{}.", r.name())))
            .unwrap_or_else(|| panic!("{name}: starts with no rule set name"));
        let path = lake.path().to_path_buf();
        let mut runner = sqllogictest::Runner::new(move || {
            let path = path.clone();
            async move {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let engine = rt
                    .block_on(Engine::open(
                        &path,
                        EngineOptions::default().with_rules(rules),
                    ))
                    .map_err(|e| SltError(e.to_string()))?;
                Ok(Db { rt, engine })
            }
        });
        if let Err(e) = runner.run_file(&file) {
            panic!("{name}: {e}");
        }
    }
}
