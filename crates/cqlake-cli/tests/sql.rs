//! `cqlake sql`: every output format, read-only refusals, errors with positions.

use crate::common::{convert, cqlake, sample};

fn lake() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("graph-docs")], &lake).0, 0);
    (dir, lake)
}

fn sql(lake: &std::path::Path, query: &str, extra: &[&str]) -> std::process::Output {
    let lake = lake.display().to_string();
    let mut args = vec!["sql", query, "--lake", &lake];
    args.extend_from_slice(extra);
    cqlake(&args)
}

const Q: &str = "SELECT stream_id, average_jitter_ms, media_label FROM streams ORDER BY stream_id";

#[test]
fn rows_in_every_format() {
    let (dir, lake) = lake();
    let text = |extra: &[&str]| {
        let o = sql(&lake, Q, extra);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    // Piped: CSV unless asked otherwise.
    assert_eq!(
        text(&[]),
        "stream_id,average_jitter_ms,media_label\n1504545584,16.0,main-audio\n1785122252,7.0,main-audio\n"
    );
    assert_eq!(
        text(&["--format", "json"]),
        "[{\"stream_id\":\"1504545584\",\"average_jitter_ms\":16.0,\"media_label\":\"main-audio\"},{\"stream_id\":\"1785122252\",\"average_jitter_ms\":7.0,\"media_label\":\"main-audio\"}]\n"
    );
    assert_eq!(text(&["--format", "ndjson"]).lines().count(), 2);
    assert_eq!(
        text(&["--format", "markdown"]),
        "| stream_id | average_jitter_ms | media_label |\n|---|---|---|\n| 1504545584 | 16.0 | main-audio |\n| 1785122252 | 7.0 | main-audio |\n"
    );
    let table = text(&["--format", "table"]);
    assert!(
        table.contains("| 1785122252 | 7.0               | main-audio  |"),
        "{table}"
    );
    // Parquet to a file, read back.
    let out = dir.path().join("rows.parquet");
    text(&[
        "--format",
        "parquet",
        "--output",
        &out.display().to_string(),
    ]);
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&out).unwrap())
            .unwrap();
    assert_eq!(
        parquet::file::reader::FileReader::metadata(&reader)
            .file_metadata()
            .num_rows(),
        2
    );
    // No rows: the header still.
    assert_eq!(
        text(&["--format", "csv"]).lines().next(),
        Some("stream_id,average_jitter_ms,media_label")
    );
    let o = sql(&lake, "SELECT stream_id FROM streams WHERE false", &[]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "stream_id\n");
}

#[test]
fn only_queries_run_and_errors_say_where() {
    let (_dir, lake) = lake();
    for statement in [
        "DROP TABLE streams",
        "INSERT INTO calls SELECT * FROM calls",
        "COPY (SELECT 1) TO '/tmp/cqlake-copy.csv'",
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let o = sql(&lake, statement, &[]);
        assert_eq!(o.status.code(), Some(2), "{statement}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("only queries run here"), "{statement}: {err}");
    }
    let o = sql(&lake, "SELECT 1 FROM streams WHER x", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("found: x at Line: 1, Column: 28"), "{err}");
    let o = sql(&lake, "SELECT nope FROM streams", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nope") && err.len() < 400, "{err}");
}
