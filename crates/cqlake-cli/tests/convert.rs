//! `cqlake convert` end to end.

use crate::common::{convert, query, sample, write};

/// A call record `id` at `version`: one audio stream of jitter `jitter` (an ISO duration) on
/// 2024-05-01.
pub(crate) fn call(id: &str, version: i64, jitter: &str) -> String {
    format!(
        r##"{{"id":"{id}","version":{version},"type":"groupCall","modalities":["audio"],"lastModifiedDateTime":"2024-05-01T10:30:00Z","startDateTime":"2024-05-01T10:00:00.1234567Z","endDateTime":"2024-05-01T10:20:00Z","sessions":[{{"id":"s-{id}","startDateTime":"2024-05-01T10:00:01Z","caller":{{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint","userAgent":{{"platform":"windows","productFamily":"teams"}},"feedback":{{"rating":"bad","tokens":{{"NoSound":true,"Echo":false}}}},"identity":{{"user":{{"id":"u1","displayName":"A","acsUser":"x"}}}}}},"segments":[{{"id":"g-{id}","media":[{{"label":"main-audio","callerNetwork":{{"subnet":"10.0.0.0","connectionType":"wifi","linkSpeed":4294967295}},"streams":[{{"streamId":"1","streamDirection":"callerToCallee","averageJitter":"{jitter}","averagePacketLossRate":0.1,"packetUtilization":1200}}]}}]}}]}}]}}"##
    )
}

#[test]
fn golden_values_of_the_graph_docs_example() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (code, s) = convert(&[&sample("graph-docs")], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["rejected"], 0);
    assert_eq!(s["records"], s["converted"]);
    // The seed's record request body (not a response) is the only document skipped.
    assert_eq!(
        s["not_call_records"],
        serde_json::json!({"JSON object with keys bargeInAllowed, clientContext, prompts, maxRecordDurationInSeconds, initialSilenceTimeoutInSeconds": 1})
    );
    let rows = query(
        &lake,
        "SELECT average_packet_loss_rate, average_jitter_ms, max_round_trip_time_ms, callee_network_connection_type, \
         stream_direction, media_label, call_type, call_version, session_callee_feedback_rating, \
         array_to_string(session_callee_feedback_tokens, ','), caller_network_link_speed, callee_network_link_speed, \
         CAST(call_start_date_time AS VARCHAR), CAST(call_start_date AS VARCHAR) \
         FROM streams WHERE stream_id = '1785122252'",
    );
    assert_eq!(
        rows,
        vec![vec![
            "0.01381693",
            "7.0",
            "106.0",
            "wired",
            "calleeToCaller",
            "main-audio",
            "peerToPeer",
            "1",
            "poor",
            "Noisy",
            "54000000",
            "4294967295",
            "2020-02-25T18:52:21.216988Z",
            "2020-02-25"
        ]]
    );
    // One row per stream: the five views of call e523… at version 1 merge into one call.
    assert_eq!(
        query(&lake, "SELECT count(*) FROM streams"),
        vec![vec!["2"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT count(*), max(organizer_user_display_name) FROM calls"
        ),
        vec![vec!["1", "Abbie Wilkins"]]
    );
    assert_eq!(
        query(&lake, "SELECT count(*) FROM participants"),
        vec![vec!["2"]]
    );
}

#[test]
fn reconverting_is_idempotent_and_the_newest_version_wins() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let v1 = write(
        dir.path(),
        "v1.ndjson",
        format!(
            "{}\n{}\n",
            call("a", 1, "PT0.010S"),
            call("b", 1, "PT0.020S")
        )
        .as_bytes(),
    );
    assert_eq!(convert(&[&v1], &lake).0, 0);
    let (_, s) = convert(&[&v1], &lake);
    assert_eq!(s["stale_calls"], 2);
    assert_eq!(s["rows"]["streams"], 0);
    // A newer version of call a, and an older one of b, in a JSON array.
    let v2 = write(
        dir.path(),
        "v2.json",
        format!("[{}, {}]", call("a", 3, "PT0.045S"), call("b", 0, "PT9S")).as_bytes(),
    );
    let (code, s) = convert(&[&v2], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(
        (s["replaced_calls"].as_u64(), s["stale_calls"].as_u64()),
        (Some(1), Some(1))
    );
    let rows = query(
        &lake,
        "SELECT call_id, call_version, average_jitter_ms FROM streams ORDER BY call_id",
    );
    assert_eq!(rows, vec![vec!["a", "3", "45.0"], vec!["b", "1", "20.0"]]);
    assert_eq!(
        query(&lake, "SELECT count(*) FROM sessions"),
        vec![vec!["2"]]
    );
    assert_eq!(query(&lake, "SELECT count(*) FROM calls"), vec![vec!["2"]]);
}

#[test]
fn unknown_keys_are_kept_in_extra_and_typed_columns_hold_types() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let f = write(dir.path(), "c.json", call("a", 1, "PT1M2.5S").as_bytes());
    assert_eq!(convert(&[&f], &lake).0, 0);
    let expected = vec![
        r#"{"caller.identity.user.acsUser":"x"}"#,
        "62500.0",
        "1200",
        "#microsoft.graph.callRecords.participantEndpoint",
        r#"{"NoSound":true,"Echo":false}"#,
    ];
    let rows = query(
        &lake,
        "SELECT e.extra, average_jitter_ms, packet_utilization, e.caller_odata_type, \
         session_caller_feedback_tokens_json FROM streams s JOIN sessions e USING (call_id, session_id)",
    );
    assert_eq!(rows, vec![expected.clone()]);
    // The session's columns `streams` does not keep, through the view (`cqlake sql`).
    let lake_s = lake.display().to_string();
    let names = [
        "session_extra",
        "session_caller_odata_type",
        "session_caller_feedback_tokens_json",
    ];
    let sql = format!("SELECT {} FROM streams_wide", names.join(", "));
    let out = crate::common::cqlake(&["sql", &sql, "--lake", &lake_s, "--format", "json"]);
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&out.stdout).expect("JSON rows");
    let got: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| {
            names
                .iter()
                .map(|n| r[*n].as_str().expect("a string"))
                .collect()
        })
        .collect();
    assert_eq!(got, vec![vec![expected[0], expected[3], expected[4]]]);
}

#[test]
fn bad_records_are_quarantined_with_their_location_and_the_rest_converts() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let bad_type = call("bad", 1, "PT0.01S").replace(
        r#""averagePacketLossRate":0.1"#,
        r#""averagePacketLossRate":"high""#,
    );
    let bad_duration = call("dur", 1, "PT");
    let input = format!(
        "{}\n{}\n{{\"id\":\"cut\",\n{}\n{}\n",
        call("a", 1, "PT0.01S"),
        bad_type,
        bad_duration,
        call("z", 1, "PT0.02S")
    );
    let f = write(dir.path(), "mixed.ndjson", input.as_bytes());
    let (code, s) = convert(&[&f], &lake);
    assert_eq!(code, 3, "some records were rejected: {s}");
    assert_eq!(s["rejected"], 3);
    assert_eq!(s["converted"], 2);
    assert_eq!(s["records"], 5);
    assert_eq!(
        query(&lake, "SELECT call_id FROM calls ORDER BY call_id"),
        vec![vec!["a"], vec!["z"]]
    );
    // No half call: the bad calls left no sessions or streams behind.
    assert_eq!(
        query(&lake, "SELECT count(*) FROM streams"),
        vec![vec!["2"]]
    );
    let rejects_file = std::path::PathBuf::from(s["rejects_file"].as_str().unwrap());
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(rejects_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut by_line: Vec<(u64, String, String)> = rejects
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["path"].as_str().unwrap_or("").to_string(),
                r["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    by_line.sort();
    assert_eq!(by_line[0].0, 2);
    assert_eq!(
        by_line[0].1,
        "$.sessions[0].segments[0].media[0].streams[0].averagePacketLossRate"
    );
    assert!(
        by_line[0].2.contains("expected a number, got a string"),
        "{by_line:?}"
    );
    assert_eq!(by_line[1].0, 3);
    assert!(
        by_line[1].2.contains("line ends inside a JSON document"),
        "{by_line:?}"
    );
    assert_eq!(by_line[2].0, 4);
    assert!(
        by_line[2].2.contains("invalid ISO-8601 duration"),
        "{by_line:?}"
    );
    assert!(
        rejects
            .iter()
            .all(|r| r["source"].as_str().unwrap().ends_with("mixed.ndjson"))
    );
}

#[test]
fn compressed_inputs_and_plain_parquet_output() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(call("g", 1, "PT0.01S").as_bytes()).unwrap();
    let gz_path = write(dir.path(), "no-extension", &gz.finish().unwrap());
    let zst = zstd::encode_all(call("z", 1, "PT0.01S").as_bytes(), 3).unwrap();
    let zst_path = write(dir.path(), "x.json.zst", &zst);
    let lake = dir.path().join("lake");
    let (code, s) = convert(&[&gz_path, &zst_path], &lake);
    assert_eq!((code, s["call_records"].as_u64()), (0, Some(2)), "{s}");
    let out = dir.path().join("pq");
    let o = crate::common::cqlake(&[
        "convert",
        &gz_path.display().to_string(),
        "--format",
        "parquet",
        "--out",
        &out.display().to_string(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Hive-style partitions, the partition column in the directory name.
    let day: Vec<_> = std::fs::read_dir(out.join("streams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(day, vec!["call_start_date=2024-05-01"]);
    let files: Vec<_> = std::fs::read_dir(out.join("streams").join(&day[0]))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let rows =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&files[0]).unwrap())
            .map(|r| {
                parquet::file::reader::FileReader::metadata(&r)
                    .file_metadata()
                    .num_rows()
            })
            .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn python_deltalake_and_pyarrow_read_the_lake() {
    let python = std::env::var("CQLAKE_PYTHON").unwrap_or_else(|_| "python3".into());
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(
        convert(&[&sample("graph-docs"), &sample("logs")], &lake).0,
        0
    );
    let script = r#"
import sys, glob, decimal, deltalake, pyarrow.parquet as pq
lake = sys.argv[1]
t = deltalake.DeltaTable(lake + "/streams").to_pyarrow_table()
row = [r for r in t.to_pylist() if r["stream_id"] == "1785122252"][0]
print(t.num_rows, row["average_jitter_ms"], row["callee_network_connection_type"], str(row["call_start_date"]))
# The files of the table's current version, as the log lists them. A run may also leave
# files that a later commit of the same run removed (Delta keeps them for older readers).
files = deltalake.DeltaTable(lake + "/streams").file_uris()
print(sum(pq.read_table(f).num_rows for f in files))
on_disk = glob.glob(lake + "/streams/**/*.parquet", recursive=True)
print(len(on_disk) >= len(files))
# A side table with its decimals: the charges of sample-data/logs, exactly.
p = deltalake.DeltaTable(lake + "/pstn_calls").to_pyarrow_table()
print(p.num_rows, sum(p.column("charge").to_pylist()), p.schema.field("charge").type)
# deltalake's runtime threads can abort the interpreter's shutdown ("terminate called without
# an active exception"): leave without it.
sys.stdout.flush()
import os
os._exit(0)
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, &lake.display().to_string()])
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            panic!("{python} could not run ({e}); .ci/test.sh installs deltalake and pyarrow")
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            "2 7.0 wired 2020-02-25",
            "2",
            "True",
            "5 2.4856000000 decimal128(38, 10)"
        ]
    );
}

#[test]
fn views_of_one_call_resolve_by_input_order_whatever_the_workers_do() {
    // The Graph docs examples hold five views (basic, expanded, participants_v2; v1.0 and the
    // older shape) of one call with one version, and pages of its sessions: however the
    // workers interleave them, the lake ends the same.
    let dir = tempfile::tempdir().unwrap();
    let mut first = None;
    for (i, threads) in ["1", "3", "2", "3"].iter().enumerate() {
        let lake = dir.path().join(format!("lake{i}"));
        let o = crate::common::cqlake(&[
            "convert",
            &sample("graph-docs").display().to_string(),
            "--lake",
            &lake.display().to_string(),
            "--threads",
            threads,
            "-q",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let content = crate::common::lake_content(&lake);
        match &first {
            None => first = Some(content),
            Some(f) => assert!(*f == content, "run {i} ({threads} threads) differs"),
        }
    }
}

#[test]
fn a_directory_of_bad_exports_lands_every_good_record_once_and_reconciles() {
    // One file of each kind of damage next to good ones, through the whole convert: the lake
    // holds exactly the good calls (the newest version of one given twice), the rejects file
    // holds one line per bad unit naming its file, line and byte, and the counts add up.
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("exports");
    std::fs::create_dir(&inputs).unwrap();
    let lake = dir.path().join("lake");
    let good = |id: &str| call(id, 1, "PT0.01S");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..200 {
        writeln!(gz, "{}", good(&format!("gz{i:03}"))).unwrap();
    }
    let gz = gz.finish().unwrap();
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("01-empty.json", Vec::new()),
        ("02-garbage.bin", b"\x00\x9f\x92garbage\xff".to_vec()),
        (
            "03-mixed.ndjson",
            format!(
                "{}\n{}\n{}\n{}\n",
                good("m1"),
                call("m2", 1, "P1X"),
                &good("m3")[..40],
                good("m4")
            )
            .into_bytes(),
        ),
        (
            "04-twice.ndjson",
            format!(
                "{}\n{}\n",
                call("tw", 2, "PT0.02S"),
                call("tw", 1, "PT0.09S")
            )
            .into_bytes(),
        ),
        ("05-cut.json.gz", gz[..gz.len() / 2].to_vec()),
        ("06-flipped.json.gz", flipped),
        (
            "07-deep.json",
            format!(
                "{}{}\n{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000),
                good("d1")
            )
            .into_bytes(),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(inputs.join(name), bytes).unwrap();
    }
    let (code, s) = convert(&[&inputs], &lake);
    assert_eq!(code, 3, "rejects make exit code 3: {s}");
    let calls: Vec<String> = query(&lake, "SELECT call_id FROM calls ORDER BY call_id")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let cut: Vec<&String> = calls.iter().filter(|c| c.starts_with("gz")).collect();
    assert!(
        !cut.is_empty() && cut.len() < 200,
        "a prefix of the cut gzip file converts: {}",
        cut.len()
    );
    assert!(
        cut.iter()
            .enumerate()
            .all(|(i, c)| **c == format!("gz{i:03}")),
        "and it is a prefix"
    );
    let others: Vec<&str> = calls
        .iter()
        .filter(|c| !c.starts_with("gz"))
        .map(String::as_str)
        .collect();
    assert_eq!(others, ["d1", "m1", "m4", "tw"]);
    assert_eq!(
        query(
            &lake,
            "SELECT call_version, average_jitter_ms FROM streams WHERE call_id = 'tw'"
        ),
        vec![vec!["2", "20.0"]],
        "the newest version of a call given twice wins, once"
    );
    assert_eq!(
        query(&lake, "SELECT count(*) FROM streams")[0][0],
        calls.len().to_string(),
        "one stream per good call, none of a bad one"
    );
    let rejects: Vec<serde_json::Value> =
        std::fs::read_to_string(s["rejects_file"].as_str().unwrap())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let mut by_file: Vec<(String, u64, String)> = rejects
        .iter()
        .map(|r| {
            let file = std::path::Path::new(r["source"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                r["offset"].is_u64() && r["line"].as_u64().unwrap() >= 1,
                "{r}"
            );
            (
                file,
                r["line"].as_u64().unwrap(),
                r["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    by_file.sort();
    let expected = [
        ("01-empty.json", "no JSON document in the input"),
        ("02-garbage.bin", "outside a JSON document"),
        ("03-mixed.ndjson", "invalid ISO-8601 duration"),
        ("03-mixed.ndjson", "line ends inside a JSON document"),
        ("05-cut.json.gz", "reading stopped"),
        ("06-flipped.json.gz", "damaged compressed data"),
        ("07-deep.json", "nesting deeper than the limit"),
    ];
    // The cut gzip file may also cost the record it cut into.
    let by_file: Vec<&(String, u64, String)> = by_file
        .iter()
        .filter(|(f, _, e)| f != "05-cut.json.gz" || e.contains("reading stopped"))
        .collect();
    assert_eq!(by_file.len(), expected.len(), "{by_file:#?}");
    for ((file, _, error), (want_file, says)) in by_file.iter().zip(expected) {
        assert_eq!(file, want_file);
        assert!(error.contains(says), "{file}: {error}");
    }
    assert_eq!(by_file[2].1, 2, "the bad duration is on line 2");
    assert_eq!(by_file[3].1, 3, "the cut line is line 3");
    // Counts reconcile: records read = converted + rejected, and the rejects file has them all.
    let (records, converted, rejected) = (
        s["records"].as_u64().unwrap(),
        s["converted"].as_u64().unwrap(),
        s["rejected"].as_u64().unwrap(),
    );
    assert_eq!(records, converted + rejected, "{s}");
    assert_eq!(rejected as usize, rejects.len());
    assert_eq!(
        converted as usize,
        calls.len() + 1,
        "tw was read twice: {s}"
    );
    assert_eq!(s["files"], 7);
}
