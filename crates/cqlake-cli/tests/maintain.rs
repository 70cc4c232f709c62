//! `cqlake optimize` and `cqlake vacuum`: compaction keeps every row and every report's answer.

use crate::common::cqlake;

fn stdout(args: &[&str]) -> String {
    let o = cqlake(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The number before `what` in `line` (`... 12 partitions rewritten ...`).
fn count(line: &str, what: &str) -> u64 {
    let at = line
        .find(what)
        .unwrap_or_else(|| panic!("{what:?} in {line:?}"));
    line[..at]
        .split_whitespace()
        .last()
        .unwrap()
        .trim_start_matches('(')
        .parse()
        .unwrap()
}

#[test]
fn optimize_keeps_every_answer_and_vacuum_deletes_what_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.display().to_string();
    // Two exports into one lake: each date gets files from both runs.
    for seed in ["5", "6"] {
        let corpus = dir.path().join(format!("calls-{seed}.ndjson"));
        let c = corpus.display().to_string();
        stdout(&[
            "gen",
            "--seed",
            seed,
            "--calls",
            "120",
            "--container",
            "ndjson",
            "-o",
            &c,
        ]);
        stdout(&["convert", &c, "--lake", &lake_s, "--quiet"]);
    }
    let report = |name: &str| stdout(&["report", name, "--lake", &lake_s, "--format", "csv"]);
    let all = "SELECT count(*), count(DISTINCT call_id), sum(average_jitter_ms) FROM streams";
    let before = (
        report("summary"),
        report("networks"),
        stdout(&["sql", all, "--lake", &lake_s]),
    );

    let out = stdout(&["optimize", "--lake", &lake_s, "--threads", "2"]);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("optimize: "), "{out}");
    let rewritten = count(first, "partitions rewritten");
    let removed = count(first, "files (");
    assert!(rewritten > 0 && removed > rewritten, "{out}");
    let after = (
        report("summary"),
        report("networks"),
        stdout(&["sql", all, "--lake", &lake_s]),
    );
    assert_eq!(after, before);

    let again = stdout(&["optimize", "--lake", &lake_s]);
    assert_eq!(count(&again, "partitions rewritten"), 0, "{again}");
    assert_eq!(count(&again, "already compact"), rewritten, "{again}");

    let kept = stdout(&["vacuum", "--lake", &lake_s]);
    assert_eq!(count(&kept, "files deleted"), 0, "{kept}");
    let gone = stdout(&["vacuum", "--lake", &lake_s, "--retain-hours", "0"]);
    assert_eq!(count(&gone, "files deleted"), removed, "{gone}");
    let after = (
        report("summary"),
        report("networks"),
        stdout(&["sql", all, "--lake", &lake_s]),
    );
    assert_eq!(after, before);
}

#[test]
fn optimize_needs_a_lake_and_real_dates() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here").display().to_string();
    let o = cqlake(&["optimize", "--lake", &missing]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no lake at") && err.contains("nothing-here"),
        "{err}"
    );
    assert!(
        !dir.path().join("nothing-here").exists(),
        "optimize created a lake"
    );

    let o = cqlake(&["optimize", "--lake", &missing, "--from", "2024-13-01"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--from \"2024-13-01\""), "{err}");
}
