//! `cqlake gen` end to end: generate a corpus in each container, convert it, and check that the
//! lake holds exactly the rows the generator counted.

use std::path::Path;

use crate::common::{convert, cqlake, query, sample, tables};

/// Runs `cqlake gen <args> -o <out> --stats <file>` and returns the statistics.
fn generate(args: &[&str], out: &Path) -> serde_json::Value {
    let stats_file = out.with_extension("stats.json");
    let mut all: Vec<String> = vec!["gen".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend([
        "-o".into(),
        out.display().to_string(),
        "--stats".into(),
        stats_file.display().to_string(),
    ]);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let o = cqlake(&all);
    assert!(
        o.status.success(),
        "cqlake gen failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&stats_file).expect("stats written");
    serde_json::from_str(&text).expect("stats are JSON")
}

/// `SELECT count(*)` of every table of the lake.
fn lake_rows(lake: &Path) -> Vec<(String, u64)> {
    tables()
        .map(|t| {
            let n = query(lake, &format!("SELECT count(*) FROM {t}"))[0][0]
                .parse()
                .expect("a count");
            (t.to_string(), n)
        })
        .collect()
}

fn expected_rows(stats: &serde_json::Value) -> Vec<(String, u64)> {
    tables()
        .map(|t| {
            (
                t.to_string(),
                stats["rows"][t].as_u64().expect("a row count"),
            )
        })
        .collect()
}

/// Generates with `args`, converts, and checks the lake's rows against the generator's.
fn round_trip(name: &str, args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let stats = generate(args, &out);
    let lake = dir.path().join("lake");
    let (code, summary) = convert(&[&out], &lake);
    assert_eq!(code, 0, "convert: {summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["call_records"], stats["records"], "{summary}");
    assert_eq!(
        lake_rows(&lake),
        expected_rows(&stats),
        "{name}: lake vs generator"
    );
    (stats, summary)
}

#[test]
fn gen_ndjson_with_revisions_converts_to_the_generated_rows() {
    let (stats, summary) = round_trip(
        "calls.ndjson",
        &[
            "--seed",
            "1",
            "--calls",
            "40",
            "--revisions",
            "0.3",
            "--shape",
            "mixed",
        ],
    );
    assert!(stats["revisions"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["calls"], 40);
    assert_eq!(
        summary["call_records"].as_u64(),
        Some(40 + stats["revisions"].as_u64().unwrap())
    );
}

#[test]
fn gen_gzip_array_converts_to_the_generated_rows() {
    round_trip(
        "calls.json.gz",
        &[
            "--seed",
            "2",
            "--calls",
            "30",
            "--container",
            "array",
            "--compress",
            "gz",
        ],
    );
}

#[test]
fn gen_concatenated_documents_with_bom_convert_to_the_generated_rows() {
    round_trip(
        "calls.json",
        &[
            "--seed",
            "3",
            "--calls",
            "20",
            "--container",
            "concat",
            "--bom",
            "--shape",
            "beta",
        ],
    );
}

#[test]
fn gen_pages_convert_to_the_generated_rows() {
    let (_, summary) = round_trip(
        "pages.ndjson",
        &[
            "--seed",
            "4",
            "--calls",
            "120",
            "--group-calls",
            "0.2",
            "--container",
            "page",
        ],
    );
    // 50 records per page: three pages, two of them linking to the next.
    assert_eq!(
        (
            summary["pages"].as_u64(),
            summary["pages_with_next_link"].as_u64()
        ),
        (Some(3), Some(2)),
        "{summary}"
    );
}

#[test]
fn gen_zstd_pretty_page_converts_to_the_generated_rows() {
    round_trip(
        "page.json.zst",
        &[
            "--seed",
            "5",
            "--calls",
            "25",
            "--container",
            "pretty-page",
            "--compress",
            "zst",
        ],
    );
}

#[test]
fn gen_expanded_with_follow_up_pages_converts_to_the_generated_rows() {
    let (stats, summary) = round_trip(
        "expanded.json",
        &[
            "--seed",
            "6",
            "--calls",
            "6",
            "--group-calls",
            "1",
            "--large-calls",
            "0.5",
            "--huge-calls",
            "0.3",
            "--container",
            "expanded",
        ],
    );
    assert!(stats["session_pages"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["participant_pages"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(summary["page_sessions"], stats["page_sessions"]);
    assert_eq!(summary["page_participants"], stats["page_participants"]);
}

#[test]
fn gen_expanded_with_chains_of_small_pages_converts_to_the_generated_rows() {
    // Small pages: every group call continues over several linked follow-up pages.
    let (stats, summary) = round_trip(
        "chains.json",
        &[
            "--seed",
            "12",
            "--calls",
            "12",
            "--group-calls",
            "1",
            "--large-calls",
            "0",
            "--huge-calls",
            "0",
            "--sessions-per-page",
            "2",
            "--participants-per-page",
            "3",
            "--container",
            "expanded",
        ],
    );
    let pages =
        stats["session_pages"].as_u64().unwrap() + stats["participant_pages"].as_u64().unwrap();
    assert!(pages > 10, "{stats}");
    assert_eq!(summary["pages"].as_u64(), Some(pages), "{summary}");
    assert!(
        summary["pages_with_next_link"].as_u64().unwrap() > 0,
        "{summary}"
    );
}

// A call revised after its follow-up session pages: the newest record and its pages win, in
// every table, with no session twice.
#[test]
fn gen_expanded_revisions_with_follow_up_pages_convert_to_the_newest_rows() {
    // Revisions of calls with more than 60 sessions: each revision's document and follow-up
    // pages replace the older ones, and a revision may add a session.
    let (stats, _) = round_trip(
        "expanded-revisions.json",
        &[
            "--seed",
            "10",
            "--calls",
            "8",
            "--group-calls",
            "1",
            "--large-calls",
            "0.6",
            "--revisions",
            "0.8",
            "--container",
            "expanded",
        ],
    );
    assert!(stats["revisions"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["session_pages"].as_u64().unwrap() > 0, "{stats}");
}

#[test]
fn gen_expanded_directory_converts_to_the_generated_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("docs/");
    let stats = generate(
        &[
            "--seed",
            "7",
            "--calls",
            "5",
            "--group-calls",
            "1",
            "--large-calls",
            "1",
            "--container",
            "expanded",
            "--compress",
            "gz",
        ],
        &out,
    );
    let files = std::fs::read_dir(&out).unwrap().count() as u64;
    assert_eq!(files, stats["documents"].as_u64().unwrap());
    let lake = dir.path().join("lake");
    let (code, summary) = convert(&[&out], &lake);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(lake_rows(&lake), expected_rows(&stats));
}

#[test]
fn gen_expanded_without_follow_up_pages_converts_to_the_generated_rows() {
    // No call above 60 sessions: every `$expand` document is whole.
    let (stats, _) = round_trip(
        "expanded.json",
        &[
            "--seed",
            "8",
            "--calls",
            "15",
            "--large-calls",
            "0",
            "--huge-calls",
            "0",
            "--container",
            "expanded",
        ],
    );
    assert_eq!(stats["session_pages"], 0);
}

#[test]
fn gen_is_deterministic_and_prints_its_stats_to_stderr() {
    let run = || {
        let o = cqlake(&["gen", "--seed", "9", "--calls", "5", "--shape", "mixed"]);
        assert!(o.status.success());
        o
    };
    let (a, b) = (run(), run());
    assert!(!a.stdout.is_empty());
    assert!(a.stdout == b.stdout, "same seed, same bytes");
    let stats: serde_json::Value = serde_json::from_slice(&a.stderr).expect("stats on stderr");
    assert_eq!(stats["calls"], 5);
    assert_eq!(stats["bytes"].as_u64(), Some(a.stdout.len() as u64));
    assert_eq!(
        a.stdout.iter().filter(|c| **c == b'\n').count() as u64,
        stats["documents"].as_u64().unwrap()
    );
    let o = cqlake(&["gen", "--calls", "1", "--size", "1MB"]);
    assert!(!o.status.success(), "--calls and --size conflict");
    let o = cqlake(&["gen", "--size", "12 parsecs"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn gen_sample_data_reproduces_and_converts_to_the_documented_counts() {
    let dir = tempfile::tempdir().unwrap();
    // The command in sample-data/GENERATED.md gives the committed file, byte for byte.
    let again = dir.path().join("calls.ndjson");
    generate(
        &[
            "--seed",
            "1",
            "--calls",
            "16",
            "--group-calls",
            "0.15",
            "--large-calls",
            "0",
            "--huge-calls",
            "0",
            "--revisions",
            "0.25",
            "--shape",
            "mixed",
        ],
        &again,
    );
    let committed = std::fs::read(sample("generated/calls.ndjson")).unwrap();
    assert!(
        std::fs::read(&again).unwrap() == committed,
        "regenerate sample-data/generated with the commands in sample-data/GENERATED.md"
    );
    let inputs = [
        sample("generated/calls.ndjson"),
        sample("generated/calls-array.json.gz"),
        sample("generated/page.json.zst"),
        sample("generated/expanded"),
    ];
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let lake = dir.path().join("lake");
    let (code, summary) = convert(&inputs, &lake);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["call_records"], 67);
    assert_eq!(summary["page_sessions"], 3);
    let expected = [65, 353, 247, 334, 490, 899];
    let want: Vec<(String, u64)> = tables()
        .zip(expected)
        .map(|(t, n)| (t.to_string(), n))
        .collect();
    assert_eq!(lake_rows(&lake), want);
}

#[test]
fn gen_spreads_calls_over_the_window_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("calls.ndjson");
    generate(
        &["--calls", "200", "--start", "2026-06-01", "--days", "61"],
        &out,
    );
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&out], &lake).0, 0);
    let rows = query(
        &lake,
        "SELECT CAST(min(call_start_date) AS VARCHAR), CAST(max(call_start_date) AS VARCHAR), \
         count(DISTINCT date_trunc('month', call_start_date)) FROM calls",
    );
    let (first, last, months) = (&rows[0][0], &rows[0][1], &rows[0][2]);
    assert!(
        first.as_str() >= "2026-06-01" && first.as_str() <= "2026-06-10",
        "{first}"
    );
    assert!(
        last.as_str() >= "2026-07-20" && last.as_str() <= "2026-07-31",
        "{last}"
    );
    assert_eq!(months, "2");
}
