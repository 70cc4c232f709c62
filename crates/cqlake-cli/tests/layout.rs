//! The narrow `streams` and the view `streams_wide`: the view holds every context column a
//! stream had when `streams` held them all, a lake of that earlier layout is read as it is,
//! refused by writers, and migrated by `cqlake optimize`.
//!
//! `tests/data/wide-streams-lake.tar.gz` is a lake of the earlier layout (977 columns in
//! `streams`), made by cqlake at commit fe95d35 with
//! `cqlake convert sample-data/graph-docs sample-data/call-flows --lake oldlake`.

use std::path::{Path, PathBuf};
use std::process::Command;

use cqlake_schema::{ColumnRole, TableId, streams_wide};

use crate::common::{cqlake, csv, sample, succeed};

/// The fixture lake of the earlier layout, unpacked into `dir`.
fn old_lake(dir: &Path) -> PathBuf {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/wide-streams-lake.tar.gz");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .status()
        .expect("tar runs");
    assert!(status.success());
    dir.join("oldlake")
}

/// The same inputs converted by this cqlake.
fn new_lake(dir: &Path) -> PathBuf {
    let lake = dir.join("newlake");
    let (code, _) = crate::common::convert(&[&sample("graph-docs"), &sample("call-flows")], &lake);
    assert_eq!(code, 0);
    lake
}

/// Every column of `streams_wide` in the order of the earlier `streams`, every stream, as CSV.
fn wide(lake: &Path) -> String {
    let columns: Vec<String> = streams_wide()
        .iter()
        .map(|w| format!("\"{}\"", w.name))
        .collect();
    csv(
        lake,
        &[
            "sql",
            &format!(
                "SELECT {} FROM streams_wide ORDER BY call_id, session_id, segment_id, \
                 media_index, stream_index",
                columns.join(", ")
            ),
        ],
    )
}

/// The columns of the lake's `streams`, in order.
fn streams_columns(lake: &Path) -> Vec<String> {
    csv(
        lake,
        &[
            "sql",
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'streams' \
             ORDER BY ordinal_position",
        ],
    )
    .lines()
    .skip(1)
    .map(str::to_string)
    .collect()
}

#[test]
fn streams_wide_holds_what_streams_held_before_and_an_earlier_lake_reads_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_lake(dir.path());
    let new = new_lake(dir.path());
    let old_columns = streams_columns(&old);
    let new_columns = streams_columns(&new);
    assert_eq!(old_columns.len(), 977);
    assert_eq!(new_columns.len(), TableId::Streams.table().columns.len());
    assert!(new_columns.len() < 250, "{}", new_columns.len());
    // The view has every column the earlier `streams` had (and the occurrence).
    let view = streams_wide();
    assert_eq!(view.len(), old_columns.len());
    assert!(view.iter().all(|w| old_columns.contains(&w.name)));
    // The same values, stream by stream: the new lake's from the joins, the earlier lake's
    // from its `streams`.
    let (from_old, from_new) = (wide(&old), wide(&new));
    assert_eq!(from_old.lines().count(), 11, "{from_old}");
    assert_eq!(from_old, from_new);
    // The reports read either lake alike.
    for report in ["summary", "networks", "clients", "feedback", "users"] {
        assert_eq!(
            csv(&old, &["report", report]),
            csv(&new, &["report", report]),
            "{report}"
        );
    }
}

#[test]
fn an_earlier_lake_is_refused_by_writers_until_optimize_migrates_it() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_lake(dir.path());
    let new = new_lake(dir.path());
    let lake = old.display().to_string();
    let before = wide(&old);
    // Convert and forget refuse it, and say what to run.
    let input = sample("graph-docs").display().to_string();
    for args in [
        vec!["convert", &input, "--lake", &lake],
        vec!["forget", "--user", "someone@contoso.com", "--lake", &lake],
    ] {
        let out = cqlake(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("`streams` table has the layout of an earlier cqlake")
                && err.contains(&format!("cqlake optimize --lake {lake}")),
            "{err}"
        );
    }
    assert_eq!(streams_columns(&old).len(), 977, "nothing was written");
    // Optimize migrates it: the current columns, the same streams and view.
    let text = succeed(&["optimize", "--lake", &lake], &[]);
    assert!(
        text.contains("streams: migrated to the current layout"),
        "{text}"
    );
    assert_eq!(streams_columns(&old), streams_columns(&new));
    assert_eq!(wide(&old), before);
    let all = "SELECT * FROM streams ORDER BY call_id, session_id, segment_id, media_index, \
               stream_index";
    assert_eq!(csv(&old, &["sql", all]), csv(&new, &["sql", all]));
    // Python's deltalake reads the migrated table with its new schema.
    let python = std::env::var("CQLAKE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import sys, os, deltalake\n\
        t = deltalake.DeltaTable(sys.argv[1] + '/streams').to_pyarrow_table()\n\
        print(t.num_rows, t.num_columns, flush=True)\n\
        os._exit(0)\n";
    let out = Command::new(&python)
        .args(["-c", script, &lake])
        .output()
        .expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("10 {}", streams_columns(&new).len()),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second optimize has nothing to migrate, and writers take the lake again.
    assert!(!succeed(&["optimize", "--lake", &lake], &[]).contains("migrated"));
    succeed(&["convert", &input, "--lake", &lake, "--quiet"], &[]);
    assert_eq!(
        wide(&old),
        before,
        "the same records converted again change nothing"
    );
}

#[test]
fn the_context_streams_keeps_is_its_parents_at_the_occurrence_streams_wide_names() {
    // Every context column `streams` keeps (the flattener copies it from the parent rows)
    // equals the column of the parent row that `streams_wide` joins for the rest: so the
    // view's other columns come from the right rows. On the sample lake (List-sessions pages,
    // repeated session ids) and a generated lake converted twice (newer versions of calls).
    let dir = tempfile::tempdir().unwrap();
    let sample_lake = dir.path().join("sample");
    let (code, _) = crate::common::convert(
        &[
            &sample("graph-docs"),
            &sample("call-flows"),
            &sample("generated"),
        ],
        &sample_lake,
    );
    assert_eq!(code, 0);
    let generated = dir.path().join("generated");
    let g = generated.display().to_string();
    for (seed, calls) in [("11", "150"), ("12", "300")] {
        let corpus = dir.path().join(format!("{seed}.json"));
        let c = corpus.display().to_string();
        succeed(&["gen", "--seed", seed, "--calls", calls, "-o", &c], &[]);
        succeed(&["convert", &c, "--lake", &g, "--quiet"], &[]);
    }
    let streams = TableId::Streams.table();
    let (mut same, mut kept) = (Vec::new(), 0);
    for c in &streams.columns {
        let ColumnRole::Context { table, column } = c.role else {
            continue;
        };
        let alias = match table {
            TableId::Media => continue,
            TableId::Segments => "g",
            TableId::Sessions => "e",
            _ => "c",
        };
        kept += 1;
        same.push(format!(
            "sum(CASE WHEN w.\"{0}\" IS NOT DISTINCT FROM {alias}.\"{1}\" THEN 0 ELSE 1 END) \
             AS \"{0}\"",
            c.name,
            table.table().columns[column].name
        ));
    }
    assert!(kept > 40, "{kept}");
    let sql = format!(
        "SELECT count(*), count(g.segment_id), count(e.session_id), count(c.call_id), {} \
         FROM streams_wide w \
         LEFT JOIN segments g ON g.call_id = w.call_id AND g.session_id = w.session_id \
           AND g.segment_id = w.segment_id AND g.session_occurrence = w.session_occurrence \
         LEFT JOIN sessions e ON e.call_id = w.call_id AND e.session_id = w.session_id \
           AND e.session_occurrence = w.session_occurrence \
         LEFT JOIN calls c ON c.call_id = w.call_id",
        same.join(", ")
    );
    for lake in [&sample_lake, &generated] {
        // The parents' lists go through three joins here: read as plain lists (see
        // `plain_lists` in cqlake-query's `wide`).
        let lake = lake.display().to_string();
        let out = succeed(
            &["sql", &sql, "--format", "csv", "--lake", &lake],
            &[(
                "DATAFUSION_EXECUTION_PARQUET_SCHEMA_FORCE_VIEW_TYPES",
                "false",
            )],
        );
        let mut lines = out.lines();
        let names: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<u64> = lines
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        let streams = row[0];
        assert!(streams > 10, "{out}");
        // Every stream has its segment and session; the call where the lake has it (a
        // List-sessions page may come without its record), and no column differs.
        assert_eq!((row[1], row[2]), (streams, streams), "{out}");
        assert!(row[3] > 0, "{out}");
        let differ: Vec<&str> = (4..row.len())
            .filter(|&i| row[i] != 0)
            .map(|i| names[i])
            .collect();
        assert!(differ.is_empty(), "{lake}: {differ:?} differ");
    }
}
