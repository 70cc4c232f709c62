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
    // The docs example's callee rated the call poor and ticked Noisy; one of its two audio
    // streams is poor (degradation 1.16).
    let lake_s = lake.display().to_string();
    let o = cqlake(&["report", "feedback", "--lake", &lake_s, "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "part,value,sessions,poor_rate\nmeasured,rated bad or poor,1,0.5\nrating,poor,1,\ntoken,Noisy,1,\n"
    );
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

/// One call whose streams sit on every threshold of the rule sets (`stream_id`, metrics).
fn threshold_call() -> String {
    let audio = [
        ("a-jitter-30", r#""averageJitter":"PT0.03S""#),
        ("a-jitter-over", r#""averageJitter":"PT0.030001S""#),
        ("a-loss-0.1", r#""averagePacketLossRate":0.1"#),
        ("a-loss-over", r#""averagePacketLossRate":0.1000001"#),
        ("a-rtt-500", r#""averageRoundTripTime":"PT0.5S""#),
        ("a-rtt-over", r#""averageRoundTripTime":"PT0.501S""#),
        ("a-degr-1", r#""averageAudioDegradation":1.0"#),
        (
            "a-degr-satin",
            r#""averageAudioDegradation":1.01,"audioCodec":"satin""#,
        ),
        ("a-concealed", r#""averageRatioOfConcealedSamples":0.0701"#),
        ("a-none", r#""streamDirection":"callerToCallee""#),
        (
            "a-few-packets",
            r#""averageJitter":"PT0.04S","packetUtilization":500"#,
        ),
        (
            "a-many-packets",
            r#""averageJitter":"PT0.04S","packetUtilization":501"#,
        ),
    ];
    let video = [
        ("v-loss-51", r#""averageVideoFrameLossPercentage":51"#),
        (
            "v-loss-50",
            r#""averageVideoFrameLossPercentage":50,"averageVideoFrameRate":1"#,
        ),
        ("v-rate-6.9", r#""averageVideoFrameRate":6.9"#),
        ("v-rate-7", r#""averageVideoFrameRate":7"#),
        (
            "v-fec",
            r#""postForwardErrorCorrectionPacketLossRate":0.16"#,
        ),
        ("v-none", r#""streamDirection":"callerToCallee""#),
    ];
    let vbss = [
        ("s-rate-1.9", r#""averageVideoFrameRate":1.9"#),
        ("s-rate-2", r#""averageVideoFrameRate":2"#),
    ];
    let rdp = [("r-jitter", r#""averageJitter":"PT0.1S""#)];
    let media = |label: &str, streams: &[(&str, &str)]| {
        let s: Vec<String> = streams
            .iter()
            .map(|(id, m)| format!(r#"{{"streamId":"{id}",{m}}}"#))
            .collect();
        format!(r#"{{"label":"{label}","streams":[{}]}}"#, s.join(","))
    };
    let all = [
        media("main-audio", &audio),
        media("main-video", &video),
        media("applicationsharing-video", &vbss),
        media("applicationsharing", &rdp),
    ];
    format!(
        r#"{{"id":"t","version":1,"startDateTime":"2024-05-01T10:00:00Z","sessions":[{{"id":"s","segments":[{{"id":"g","media":[{}]}}]}}]}}"#,
        all.join(",")
    )
}

#[test]
fn every_rule_set_classifies_exactly_at_its_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let input = crate::common::write(dir.path(), "t.json", threshold_call().as_bytes());
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&input], &lake).0, 0);
    let classify = |rules: &str| -> Vec<String> {
        let o = sql(
            &lake,
            "SELECT stream_id, media_kind, classification, array_to_string(poor_reasons, '+') \
             FROM stream_quality ORDER BY stream_id",
            &["--rules", rules],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .map(String::from)
            .collect()
    };
    assert_eq!(
        classify("cqd-classic"),
        [
            "a-concealed,audio,poor,concealed_samples",
            "a-degr-1,audio,good,",
            "a-degr-satin,audio,poor,degradation",
            "a-few-packets,audio,poor,jitter",
            "a-jitter-30,audio,good,",
            "a-jitter-over,audio,poor,jitter",
            "a-loss-0.1,audio,good,",
            "a-loss-over,audio,poor,packet_loss",
            "a-many-packets,audio,poor,jitter",
            "a-none,audio,unclassified,",
            "a-rtt-500,audio,good,",
            "a-rtt-over,audio,poor,round_trip",
            "r-jitter,appsharing,unclassified,",
            "s-rate-1.9,vbss,poor,frame_rate",
            "s-rate-2,vbss,good,",
            "v-fec,video,poor,post_fec_packet_loss",
            "v-loss-50,video,good,",
            "v-loss-51,video,poor,frame_loss",
            "v-none,video,unclassified,",
            "v-rate-6.9,video,poor,frame_rate",
            "v-rate-7,video,good,",
        ]
    );
    let of = |rows: &[String], id: &str| -> String {
        rows.iter()
            .find(|r| r.starts_with(&format!("{id},")))
            .unwrap()
            .split(',')
            .nth(2)
            .unwrap()
            .to_string()
    };
    let y2020 = classify("cqd-2020");
    assert_eq!(of(&y2020, "a-degr-satin"), "unclassified"); // SATIN: its one metric does not count
    assert_eq!(of(&y2020, "a-concealed"), "poor");
    let y2021 = classify("cqd-2021");
    assert_eq!(of(&y2021, "a-concealed"), "unclassified");
    assert_eq!(of(&y2021, "a-jitter-over"), "poor");
    let current = classify("cqd-current");
    assert_eq!(of(&current, "a-few-packets"), "unclassified");
    assert_eq!(of(&current, "a-many-packets"), "poor");
    assert_eq!(of(&current, "a-jitter-over"), "unclassified"); // no packet utilization
    assert_eq!(of(&current, "v-loss-51"), "poor"); // video rules do not change
    let o = sql(&lake, "SELECT 1", &["--rules", "cqd-1999"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cqd-classic, cqd-2020"));
}

#[test]
fn reports_run_and_say_which_rules_they_used() {
    let dir = tempfile::tempdir().unwrap();
    let input = crate::common::write(dir.path(), "t.json", threshold_call().as_bytes());
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&input], &lake).0, 0);
    let lake_s = lake.display().to_string();
    let report = |args: &[&str]| {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--lake", &lake_s, "--format", "csv"]);
        let o = cqlake(&all);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let (rows, note) = report(&["summary", "--rules", "cqd-2021"]);
    assert!(note.contains("rules cqd-2021"), "{note}");
    // cqd-2021: jitter-over, loss-over, rtt-over, few- and many-packets are poor (5); the
    // 30 ms, 0.1 and 500 ms streams good (3); degradation and concealed samples do not count.
    assert!(rows.contains("poor_stream_rate,audio,0.625,0.03"), "{rows}");
    assert!(rows.contains("streams,video,6.0,"), "{rows}");
    let (rows, _) = report(&["summary"]);
    assert!(
        rows.contains("poor_stream_rate,audio,0.6363636363636364,0.03"),
        "{rows}"
    );
    // A window with no calls: every count is zero, every rate undefined.
    let (rows, note) = report(&["summary", "--from", "2024-05-02"]);
    assert!(note.contains("calls started 2024-05-02"), "{note}");
    assert!(rows.contains("calls,,0.0,"), "{rows}");
    // Every report but `buildings` (its own test gives it a building file).
    for name in cqlake_query::REPORTS.map(|r| r.name) {
        if name != "buildings" {
            report(&[name]);
        }
    }
    // A user's own file, over the views.
    let own = crate::common::write(
        dir.path(),
        "mine.sql",
        b"SELECT media_kind, count(*) AS n FROM stream_quality GROUP BY 1 ORDER BY 1",
    );
    let (rows, _) = report(&[&own.display().to_string()]);
    assert_eq!(
        rows,
        "media_kind,n\nappsharing,1\naudio,12\nvbss,2\nvideo,6\n"
    );
    let o = cqlake(&["report", "--list"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 14);
}

/// Milliseconds of an ISO-8601 duration (`PT1M2.5S`), written here apart from the converter.
fn iso_ms(d: &str) -> Option<f64> {
    let t = d.strip_prefix("PT")?;
    let (mut ms, mut num) = (0.0, String::new());
    for c in t.chars() {
        match c {
            'H' => ms += num.parse::<f64>().ok()? * 3_600_000.0,
            'M' => ms += num.parse::<f64>().ok()? * 60_000.0,
            'S' => ms += num.parse::<f64>().ok()? * 1_000.0,
            _ => {
                num.push(c);
                continue;
            }
        }
        num.clear();
    }
    Some(ms)
}

/// CQD's classic classification of one stream, straight from its JSON.
fn classify(label: &str, s: &serde_json::Value) -> (&'static str, &'static str) {
    let num = |k: &str| s.get(k).and_then(|v| v.as_f64());
    let dur = |k: &str| s.get(k).and_then(|v| v.as_str()).and_then(iso_ms);
    let kind = if label == "applicationsharing-video" {
        "vbss"
    } else if label.starts_with("applicationsharing") {
        "appsharing"
    } else if label.contains("audio") {
        "audio"
    } else if label.contains("video") {
        "video"
    } else if label == "data" {
        "data"
    } else {
        "other"
    };
    let class = match kind {
        "audio" => {
            let m = [
                num("averageAudioDegradation").map(|v| v > 1.0),
                dur("averageRoundTripTime").map(|v| v > 500.0),
                num("averagePacketLossRate").map(|v| v > 0.1),
                dur("averageJitter").map(|v| v > 30.0),
                num("averageRatioOfConcealedSamples").map(|v| v > 0.07),
            ];
            if m.iter().all(Option::is_none) {
                "unclassified"
            } else if m.contains(&Some(true)) {
                "poor"
            } else {
                "good"
            }
        }
        "video" | "vbss" => {
            let min_rate = if kind == "vbss" { 2.0 } else { 7.0 };
            if let Some(v) = num("averageVideoFrameLossPercentage") {
                if v > 50.0 { "poor" } else { "good" }
            } else if let Some(v) = num("averageVideoFrameRate") {
                if v < min_rate { "poor" } else { "good" }
            } else if let Some(v) = num("postForwardErrorCorrectionPacketLossRate") {
                if v > 0.15 { "poor" } else { "good" }
            } else {
                "unclassified"
            }
        }
        _ => "unclassified",
    };
    (kind, class)
}

#[test]
fn stream_quality_agrees_with_a_classifier_written_apart() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("calls.ndjson");
    let o = cqlake(&[
        "gen",
        "--seed",
        "31",
        "--calls",
        "150",
        "--container",
        "ndjson",
        "-o",
        &corpus.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut want: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for line in std::fs::read_to_string(&corpus).unwrap().lines() {
        let call: serde_json::Value = serde_json::from_str(line).unwrap();
        let none = vec![];
        let list = |v: &serde_json::Value, k: &str| v[k].as_array().cloned().unwrap_or_default();
        for session in call["sessions"].as_array().unwrap_or(&none) {
            for segment in list(session, "segments") {
                for media in list(&segment, "media") {
                    let label = media["label"].as_str().unwrap_or("");
                    for stream in list(&media, "streams") {
                        let (k, c) = classify(label, &stream);
                        *want.entry((k.into(), c.into())).or_default() += 1;
                    }
                }
            }
        }
    }
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&corpus], &lake).0, 0);
    let o = sql(
        &lake,
        "SELECT media_kind, classification, count(*) FROM stream_quality GROUP BY 1, 2",
        &[],
    );
    let got: std::collections::BTreeMap<(String, String), u64> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ((f[0].into(), f[1].into()), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(got, want);
    // The corpus exercises every class of the kinds that have rules.
    for k in ["audio", "video"] {
        for c in ["good", "poor", "unclassified"] {
            assert!(
                want.contains_key(&(k.into(), c.into())),
                "{k} {c}: {want:?}"
            );
        }
    }
}

#[test]
fn buildings_match_the_longest_network_range() {
    let dir = tempfile::tempdir().unwrap();
    let media = |subnet: &str, jitter: &str| {
        format!(
            r#"{{"label":"main-audio","calleeNetwork":{{"subnet":"{subnet}"}},"streams":[{{"streamId":"{subnet}","streamDirection":"callerToCallee","averageJitter":"{jitter}"}}]}}"#
        )
    };
    let call = format!(
        r#"{{"id":"b","version":1,"startDateTime":"2024-05-01T10:00:00Z","sessions":[{{"id":"s","segments":[{{"id":"g","media":[{},{},{}]}}]}}]}}"#,
        media("10.1.2.0", "PT0.04S"),
        media("10.1.3.0", "PT0.005S"),
        media("192.168.1.0", "PT0.005S"),
    );
    let input = crate::common::write(dir.path(), "b.json", call.as_bytes());
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&input], &lake).0, 0);
    // CQD's upload has no header; tabs or commas.
    let file = crate::common::write(
        dir.path(),
        "buildings.csv",
        b"10.1.0.0\tCampus-LAN\t16\tCampus\tContoso\tOffice\tLarge\tLyon\t69001\tFR\t\tEMEA\t1\t0\t0\n\
          10.1.2.0\tLab-LAN\t24\tLab\tContoso\tLab\tSmall\tLyon\t69001\tFR\t\tEMEA\t1\t0\t0\n",
    );
    let buildings = |file: &std::path::Path| {
        cqlake(&[
            "report",
            "buildings",
            "--lake",
            &lake.display().to_string(),
            "--buildings",
            &file.display().to_string(),
            "--format",
            "csv",
        ])
    };
    let o = buildings(&file);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "building,city,country,inside_corp,vpn,streams,poor,poor_rate\n\
         Lab,Lyon,FR,true,false,1,1,1.0\n\
         (unknown),,,,,1,0,0.0\n\
         Campus,Lyon,FR,true,false,1,0,0.0\n"
    );
    let bad = crate::common::write(dir.path(), "bad.csv", b"10.1.0.0,Campus,16\n");
    let o = buildings(&bad);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.csv:1: 3 fields"), "{err}");
}

/// Runs `cqlake args` with its standard output a pipe whose reader is gone before the first
/// row is written (as `| head -1` leaves it); the exit code and standard error.
fn closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cqlake starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("cqlake ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_sql_and_report_quietly_in_every_format() {
    let (_dir, lake) = lake();
    let lake = lake.display().to_string();
    for format in ["table", "csv", "json", "ndjson", "markdown", "parquet"] {
        for args in [
            vec!["sql", Q, "--lake", &lake, "--format", format],
            vec!["report", "summary", "--lake", &lake, "--format", format],
        ] {
            let (code, stderr) = closed_pipe(&args);
            assert_eq!(code, Some(0), "{args:?}: {stderr}");
            assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn sql_and_report_read_a_plain_parquet_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let o = crate::common::export_samples_as_parquet(&out, &["--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{summary}");
    let count = |query: &str| -> u64 {
        let o = sql(&out, query, &["--format", "csv"]);
        assert!(
            o.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        text.lines().nth(1).unwrap().parse().unwrap()
    };
    let mut checked = 0;
    for (key, tables) in [
        ("rows", &summary["rows"]),
        ("side_rows", &summary["side_rows"]),
    ] {
        for (table, rows) in tables.as_object().unwrap() {
            let n = count(&format!("SELECT count(*) AS n FROM {table}"));
            assert_eq!(Some(n), rows.as_u64(), "{key}.{table}");
            checked += u64::from(n > 0);
        }
    }
    assert!(checked >= 8, "tables with rows: {checked}; {summary}");
    // The partition column is read from the directory names.
    assert_eq!(
        count("SELECT count(*) FROM streams WHERE call_start_date >= DATE '2000-01-01'"),
        summary["rows"]["streams"].as_u64().unwrap()
    );
    let o = cqlake(&[
        "report",
        "summary",
        "--lake",
        &out.display().to_string(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8(o.stdout).unwrap().lines().count() >= 2);
}

#[test]
fn every_format_prints_every_column_of_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(
        convert(&[&sample("graph-docs"), &sample("logs")], &lake).0,
        0
    );
    let names = cqlake_schema::TableId::ALL
        .iter()
        .map(|t| t.name())
        .chain(cqlake_schema::SideTable::ALL.iter().map(|t| t.name()));
    for table in names {
        let all = format!("SELECT * FROM {table}");
        let json = sql(&lake, &all, &["--format", "json"]);
        assert!(
            json.status.success(),
            "{table}: {}",
            String::from_utf8_lossy(&json.stderr)
        );
        let rows = serde_json::from_slice::<Vec<serde_json::Value>>(&json.stdout)
            .unwrap()
            .len();
        for format in ["table", "csv", "ndjson", "markdown", "parquet"] {
            let o = sql(&lake, &all, &["--format", format]);
            // (`pull_state` is empty here: only `cqlake pull` writes it; NDJSON of no rows is
            // nothing.)
            assert!(
                o.status.success() && (!o.stdout.is_empty() || format == "ndjson" && rows == 0),
                "{table} as {format}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            if format == "ndjson" {
                assert_eq!(
                    o.stdout.iter().filter(|b| **b == b'\n').count(),
                    rows,
                    "{table}"
                );
            }
        }
    }
}

#[test]
fn report_summary_reads_like_a_report_for_people() {
    // The sample lake (as the slt tests build it): generated calls, the Graph docs example, logs.
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let inputs = [sample("generated"), sample("graph-docs"), sample("logs")];
    let inputs: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    assert_eq!(convert(&inputs, &lake).0, 0);
    let lake_s = lake.display().to_string();
    let run = |format: &str| {
        let o = cqlake(&["report", "summary", "--lake", &lake_s, "--format", format]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let (table, note) = run("table");
    // The header names the calls the report covers: their first and last start dates.
    crate::common::snapshot("report-summary.txt", &format!("{note}{table}"));
    // For people: counts with separators, rates as percentages beside their targets.
    assert!(
        table.contains("| poor_stream_rate     | audio      | 15.8 % |  3.0 % |"),
        "{table}"
    );
    assert!(
        table.contains("| sessions             |            |    248 |"),
        "{table}"
    );
    // Markdown the same, numbers aligned right.
    let (md, _) = run("markdown");
    assert!(md.contains("|---|---|---:|---:|"), "{md}");
    assert!(
        md.contains("| poor_stream_rate | audio | 15.8 % | 3.0 % |"),
        "{md}"
    );
    // The machine formats keep the exact values.
    let (csv, _) = run("csv");
    assert!(
        csv.contains("poor_stream_rate,audio,0.15841584158415842,0.03"),
        "{csv}"
    );
    assert!(csv.contains("calls,,66.0,"), "{csv}");
}

#[test]
fn bad_values_are_refused_before_anything_runs_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.display().to_string();
    let refused = |args: &[&str], env: &[(&str, &str)], says: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cqlake"))
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let graph_docs = sample("graph-docs").display().to_string();
    refused(
        &[
            "report",
            "summary",
            "--lake",
            &lake_s,
            "--from",
            "2024-02-30",
        ],
        &[],
        "--from \"2024-02-30\": expected a date as YYYY-MM-DD",
    );
    refused(
        &[
            "sql",
            "SELECT 1",
            "--lake",
            &lake_s,
            "--memory-limit",
            "2 parsecs",
        ],
        &[],
        "--memory-limit \"2 parsecs\": unknown unit",
    );
    refused(
        &[
            "convert",
            &graph_docs,
            "--lake",
            &lake_s,
            "--wait",
            "5 weeks",
        ],
        &[],
        "--wait \"5 weeks\": unknown unit",
    );
    // The environment goes through the same parsers (CLI > environment > default).
    refused(
        &["convert", &graph_docs, "--lake", &lake_s],
        &[("CQLAKE_THREADS", "many")],
        "--threads \"many\"",
    );
    refused(
        &["convert", &graph_docs, "--lake", &lake_s],
        &[("CQLAKE_COMMIT_BYTES", "lots")],
        "--commit-bytes \"lots\": not a number",
    );
    assert!(!lake.exists(), "nothing ran");
}

#[test]
fn failures_on_segments_count_in_the_failures_report_and_the_rates() {
    // Two sessions with no failure information of their own: one has a segment that failed at
    // setup, the other a segment that failed mid-call (Graph gives failureInfo on both levels).
    let segment = |id: &str, failure: &str| {
        format!(
            r#"{{"id":"{id}","startDateTime":"2024-05-01T10:00:00Z","endDateTime":"2024-05-01T10:01:00Z"{failure},"media":[]}}"#
        )
    };
    let session = |id: &str, segments: &[String]| {
        format!(
            r#"{{"id":"{id}","startDateTime":"2024-05-01T10:00:00Z","endDateTime":"2024-05-01T10:01:00Z","segments":[{}]}}"#,
            segments.join(",")
        )
    };
    let record = format!(
        r#"{{"id":"f1","version":1,"type":"groupCall","startDateTime":"2024-05-01T10:00:00Z","endDateTime":"2024-05-01T10:05:00Z","sessions":[{},{},{}]}}"#,
        session(
            "s1",
            &[
                segment("g1", ""),
                segment(
                    "g2",
                    r#","failureInfo":{"stage":"callSetup","reason":"MediaConnectivityFailure"}"#
                )
            ]
        ),
        session(
            "s2",
            &[segment(
                "g3",
                r#","failureInfo":{"stage":"midcall","reason":"Media timeout"}"#
            )]
        ),
        session("s3", &[segment("g4", "")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let input = crate::common::write(dir.path(), "f.json", record.as_bytes());
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&input], &lake).0, 0);
    let lake_s = lake.display().to_string();
    let report = |name: &str| {
        let o = cqlake(&["report", name, "--lake", &lake_s, "--format", "csv"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(
        report("failures"),
        "stage,reason,sessions,segments\n\
         callSetup,MediaConnectivityFailure,0,1\n\
         midcall,Media timeout,0,1\n"
    );
    let summary = report("summary");
    // Setup: 1 of 3 sessions; drops: 1 of the 2 that got past setup.
    assert!(
        summary.contains("setup_failure_rate,,0.3333333333333333,0.01"),
        "{summary}"
    );
    assert!(summary.contains("drop_failure_rate,,0.5,0.03"), "{summary}");
}
