//! `cqlake sql` without a query: the interactive shell, fed through a pipe (no prompts, rows
//! on stdout, errors on stderr, history in `CQLAKE_HISTORY`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{convert, sample};

fn lake() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("graph-docs")], &lake).0, 0);
    (dir, lake)
}

/// Runs `cqlake sql --lake <lake> <extra>` with `input` piped to it and the history file at
/// `history`.
fn shell(lake: &Path, history: &Path, extra: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(["sql", "--lake"])
        .arg(lake)
        .args(extra)
        .env("CQLAKE_HISTORY", history)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cqlake runs");
    // Written from a thread, so that a full stdout pipe cannot stall the writer.
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("cqlake finishes");
    writer.join().unwrap().expect("stdin written");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn shell_runs_statements_and_commands_and_goes_on_after_errors() {
    let (dir, lake) = lake();
    let history = dir.path().join("history");
    let input = "SELECT count(*)
 AS n FROM streams;
\\d
\\d calls
\\format csv
SELECT stream_id FROM streams ORDER BY stream_id;
SELECT nope FROM streams;
DROP TABLE calls;
SELECT 'a;b' AS s, -- a comment; not the end
  1 AS one; SELECT 3 AS three;
\\q
SELECT 'after quit' AS never;
";
    let o = shell(&lake, &history, &[], input);
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    // Piped input that had errors ends with exit code 2, after running everything else.
    assert_eq!(o.status.code(), Some(2), "{stderr}");

    // The multi-line statement, as a table (the shell's default format).
    assert!(
        stdout.starts_with("+---+\n| n |\n+---+\n| 2 |\n+---+\n"),
        "{stdout}"
    );
    // `\d`: every table and view, with its kind.
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}: {stdout}"))
            .to_string()
    };
    assert!(stdout.contains("| name "), "{stdout}");
    for table in crate::common::tables() {
        assert!(row(table).contains("| table |"), "{}", row(table));
    }
    for view in ["stream_quality", "stream_sides"] {
        assert!(row(view).contains("| view  |"), "{}", row(view));
    }
    // `\d calls`: its columns with their types.
    assert!(row("call_id").contains("| NO "), "{}", row("call_id"));
    assert!(row("start_date_time").contains("Timestamp"));
    // After `\format csv`: CSV, including for the statement after the errors and the two on
    // one line.
    assert!(
        stdout.contains("\nstream_id\n1504545584\n1785122252\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("\ns,one\na;b,1\nthree\n3\n"), "{stdout}");
    // Nothing after `\q`, and no prompts in the output.
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(
        !stdout.contains("cqlake>") && !stdout.contains("->"),
        "{stdout}"
    );

    // Both errors on stderr, in order.
    let unknown = stderr.find("No field named nope").expect(&stderr);
    let refused = stderr.find("read-only").expect(&stderr);
    assert!(unknown < refused, "{stderr}");
    let errors = stderr.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(errors, 2, "{stderr}");

    // The history holds each statement and command once, multi-line statements whole (the
    // file escapes newlines and backslashes).
    let history = std::fs::read_to_string(&history).expect("history written");
    let entries: Vec<&str> = history.lines().collect();
    for entry in [
        r"SELECT count(*)\n AS n FROM streams;",
        r"\\d calls",
        r"\\format csv",
        "SELECT nope FROM streams;",
        "DROP TABLE calls;",
        r"SELECT 'a;b' AS s, -- a comment; not the end\n  1 AS one;",
        "SELECT 3 AS three;",
        r"\\q",
    ] {
        assert!(entries.contains(&entry), "{entry} not in {history}");
    }
    assert!(!history.contains("after quit"), "{history}");
}

#[test]
fn shell_commands_rules_timing_formats_and_a_last_statement_without_semicolon() {
    let (dir, lake) = lake();
    let history = dir.path().join("history");
    let input = "\\rules\n\\timing\n\\format json\nSELECT 1 AS one;\n\\format parquet\n\\bogus\n\\?\nSELECT 2 AS two";
    let o = shell(&lake, &history, &["--rules", "cqd-2021"], input);
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stdout.starts_with("cqd-2021: "), "{stdout}");
    assert!(stdout.contains("\n[{\"one\":1}]\n"), "{stdout}");
    assert!(stdout.contains("\\d NAME"), "{stdout}");
    // Parquet is refused and the format stays JSON; the unfinished statement runs at the end.
    assert!(stdout.ends_with("\n[{\"two\":2}]\n"), "{stdout}");
    assert!(stderr.contains("timing on"), "{stderr}");
    assert_eq!(stderr.matches("Time: ").count(), 2, "{stderr}");
    assert!(
        stderr.contains("error: parquet writes one file per query"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: unknown command \\bogus"),
        "{stderr}"
    );
}

#[test]
fn shell_history_grows_across_sessions_and_a_clean_session_exits_0() {
    let (dir, lake) = lake();
    // The history's directory is created.
    let history = dir.path().join("state/cqlake/history");
    let o = shell(&lake, &history, &["--format", "csv"], "SELECT 1 AS a;\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "a\n1\n");
    assert_eq!(text(&o.stderr), "");
    let o = shell(&lake, &history, &["--format", "csv"], "SELECT 2 AS b;\n");
    assert_eq!(text(&o.stdout), "b\n2\n");
    let history = std::fs::read_to_string(&history).unwrap();
    let entries: Vec<&str> = history.lines().collect();
    assert!(entries.contains(&"SELECT 1 AS a;"), "{history}");
    assert!(entries.contains(&"SELECT 2 AS b;"), "{history}");
    // An unwritable history is reported, not fatal.
    let o = shell(&lake, dir.path(), &["--format", "csv"], "SELECT 3 AS c;\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "c\n3\n");
    assert!(text(&o.stderr).contains("history"), "{}", text(&o.stderr));
    // The shell cannot print parquet.
    let other = dir.path().join("other-history");
    let o = shell(&lake, &other, &["--format", "parquet"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("parquet"), "{}", text(&o.stderr));
}
