//! Personal data: `--pseudonymise` leaves no personal value in the lake, tokens agree across
//! lakes under one key, and a lake takes only writers of its own kind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use cqlake_schema::{Column, SideTable, TableId};

use crate::common::{query, sample};

const KEY: &str = "an example pseudonym key, 48 bytes long........";
const OTHER_KEY: &str = "another pseudonym key, also long enough to use...";

/// The inputs: the Graph docs' examples, the logs, the call flows and a generated corpus (with
/// unknown keys, so `extra` has strings), as one list of arguments.
fn inputs() -> Vec<String> {
    ["graph-docs", "logs", "call-flows", "generated/calls.ndjson"]
        .iter()
        .map(|r| sample(r).display().to_string())
        .collect()
}

/// `cqlake ARGS` with the pseudonym key `key` in the environment (none for `None`).
fn cqlake_with_key(args: &[&str], key: Option<&str>) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cqlake"));
    c.args(args).env_remove("CQLAKE_PSEUDONYM_KEY");
    if let Some(k) = key {
        c.env("CQLAKE_PSEUDONYM_KEY", k);
    }
    c.output().expect("cqlake runs")
}

/// `cqlake convert INPUTS --lake LAKE [EXTRA]`, which must succeed (exit 0 or 3, rejects).
fn convert(lake: &Path, extra: &[&str], key: Option<&str>) {
    let lake = lake.display().to_string();
    let inputs = inputs();
    let mut args: Vec<&str> = vec!["convert"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(["--lake", &lake, "--quiet", "--threads", "2"]);
    args.extend(extra);
    let out = cqlake_with_key(&args, key);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "convert failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The columns of the lake table in directory `name`.
fn columns_of(name: &str) -> &'static [Column] {
    match (TableId::from_name(name), SideTable::from_name(name)) {
        (Some(t), _) => &t.table().columns,
        (_, Some(s)) => &s.def().columns,
        _ => panic!("no table {name}"),
    }
}

/// Every string of an array (list items included), with nulls left out.
fn strings(a: &ArrayRef, out: &mut Vec<String>) {
    match a.data_type() {
        DataType::List(_) => strings(a.as_list::<i32>().values(), out),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let a = arrow::compute::cast(a, &DataType::Utf8).unwrap();
            out.extend(a.as_string::<i32>().iter().flatten().map(str::to_string));
        }
        _ => {}
    }
}

/// The strings of an `extra` cell's JSON: its values (at any depth), not its keys, and not an
/// enum's own spelling (`…@cqlake.raw`).
fn json_strings(text: &str, out: &mut Vec<String>) {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let v: serde_json::Value = serde_json::from_str(text).expect("extra is JSON");
    match &v {
        serde_json::Value::Object(m) => m
            .iter()
            .filter(|(k, _)| !k.ends_with("@cqlake.raw"))
            .for_each(|(_, v)| walk(v, out)),
        other => walk(other, out),
    }
}

/// Every string cell of every Parquet data file under `lake`, read with the `parquet` crate
/// (not cqlake's reader): table directory → column → values (`extra` cells as the strings in
/// their JSON).
fn cells(lake: &Path) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for e in walkdir::WalkDir::new(lake) {
        let e = e.unwrap();
        let p = e.path();
        if p.extension().is_none_or(|x| x != "parquet")
            || p.to_string_lossy().contains("_delta_log")
        {
            continue;
        }
        let table = p
            .strip_prefix(lake)
            .unwrap()
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let file = std::fs::File::open(p).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
                let mut v = Vec::new();
                strings(a, &mut v);
                if f.name() == "extra" || f.name().ends_with("_extra") {
                    let texts = std::mem::take(&mut v);
                    texts.iter().for_each(|t| json_strings(t, &mut v));
                }
                out.entry((table.clone(), f.name().clone()))
                    .or_default()
                    .extend(v);
            }
        }
    }
    out
}

/// The personal values of a plain lake that no non-personal column holds too.
fn personal_values(plain: &Path) -> BTreeSet<String> {
    let cells = cells(plain);
    let mut personal = BTreeSet::new();
    let mut other = BTreeSet::new();
    for ((table, column), values) in &cells {
        let is_personal = columns_of(table)
            .iter()
            .find(|c| &c.name == column)
            .unwrap_or_else(|| panic!("{table}.{column} is not in the schema"))
            .personal;
        let set = if is_personal {
            &mut personal
        } else {
            &mut other
        };
        set.extend(values.iter().filter(|v| !v.trim().is_empty()).cloned());
    }
    &personal - &other
}

struct Lakes {
    _dir: tempfile::TempDir,
    plain: PathBuf,
    pseudo: PathBuf,
}

/// A record the lake rejects (its start is not a date), naming a person.
const BAD_RECORD: &str = r#"{"id":"0000000a-0000-0000-0000-00000000000b","version":1,"startDateTime":"yesterday","organizer":{"user":{"id":"u-rejected","displayName":"Zed Rejectman"}}}"#;

fn lakes() -> Lakes {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    let pseudo = dir.path().join("pseudo");
    let bad = crate::common::write(dir.path(), "bad.json", BAD_RECORD.as_bytes());
    let bad = bad.display().to_string();
    convert(&plain, &[&bad], None);
    convert(&pseudo, &["--pseudonymise", &bad], Some(KEY));
    Lakes {
        _dir: dir,
        plain,
        pseudo,
    }
}

#[test]
fn a_pseudonymised_lake_holds_no_personal_value_of_its_input() {
    let l = lakes();
    let raw = personal_values(&l.plain);
    // The inputs have people in them: UPNs, display names, IP and MAC addresses, phone numbers.
    for v in [
        "Abbie Wilkins",
        "ann.lee@contoso.com",
        "10.139.0.12",
        "+0123456789",
        "00-00-00-00-00-00",
    ] {
        assert!(raw.contains(v), "{v} is a personal value of the input");
    }
    assert!(
        raw.len() > 50,
        "only {} personal values in the input",
        raw.len()
    );
    let cells = cells(&l.pseudo);
    let mut leaks = Vec::new();
    for ((table, column), values) in &cells {
        for v in values {
            if raw.contains(v) {
                leaks.push(format!("{table}.{column}: {v}"));
            }
            // Inside a link, a JSON text or any other text, a long value is found as a part.
            for r in raw.iter().filter(|r| r.len() >= 12) {
                if v.contains(r.as_str()) {
                    leaks.push(format!("{table}.{column}: {v} contains {r}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "personal values left: {leaks:#?}");
    // The rejected record is in the plain lake's rejects, not in the pseudonymised lake's.
    let rejects = |lake: &Path| -> String {
        std::fs::read_dir(lake.join("_rejects"))
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(rejects(&l.plain).contains("Zed Rejectman"));
    let pseudo_rejects = rejects(&l.pseudo);
    assert!(pseudo_rejects.contains("bad.json"), "{pseudo_rejects}");
    assert!(
        !pseudo_rejects.contains("Zed Rejectman"),
        "{pseudo_rejects}"
    );
    // Nor in the Delta logs (column statistics) or anything else written as text.
    for e in walkdir::WalkDir::new(&l.pseudo) {
        let e = e.unwrap();
        if e.path()
            .extension()
            .is_some_and(|x| x == "json" || x == "ndjson")
        {
            let text = std::fs::read_to_string(e.path()).unwrap();
            for r in raw.iter().filter(|r| r.len() >= 8) {
                assert!(
                    !text.contains(r.as_str()),
                    "{} holds {r}",
                    e.path().display()
                );
            }
        }
    }
    // Every personal cell holds a token.
    for ((table, column), values) in &cells {
        let personal = columns_of(table)
            .iter()
            .any(|c| &c.name == column && c.personal);
        if personal && column != "extra" && !column.ends_with("link") && column != "query" {
            for v in values.iter().filter(|v| !v.is_empty()) {
                assert!(
                    v.starts_with("psn_") && v.len() == 36,
                    "{table}.{column} holds {v}"
                );
            }
        }
    }
}

#[test]
fn pseudonyms_keep_subnets_counts_and_per_person_analysis() {
    let l = lakes();
    let same = [
        "SELECT caller_network_subnet, callee_network_subnet, count(*) FROM streams GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT count(*) FROM streams",
        "SELECT count(*) FROM calls",
        "SELECT count(*) FROM participants",
        "SELECT caller_network_relay_ip_address, count(*) FROM media GROUP BY 1 ORDER BY 1",
        "SELECT count(DISTINCT session_caller_identity_user_id), count(DISTINCT caller_network_ip_address) FROM streams",
        "SELECT count(*), sum(charge) FROM pstn_calls",
    ];
    for sql in same {
        assert_eq!(query(&l.plain, sql), query(&l.pseudo, sql), "{sql}");
    }
    // `cqlake pseudonym` finds a person: the token of a UPN of the plain lake is in the
    // pseudonymised lake wherever the UPN is in the plain one.
    let upns = query(
        &l.plain,
        "SELECT DISTINCT user_principal_name FROM pstn_calls WHERE user_principal_name IS NOT NULL ORDER BY 1",
    );
    assert!(!upns.is_empty());
    let upn = &upns[0][0];
    let out = cqlake_with_key(
        &["pseudonym", upn, "--lake", &l.pseudo.display().to_string()],
        Some(KEY),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let sql = |lake: &Path, v: &str| {
        query(
            lake,
            &format!(
                "SELECT count(*), sum(charge) FROM pstn_calls WHERE user_principal_name = '{v}'"
            ),
        )
    };
    assert_eq!(sql(&l.plain, upn), sql(&l.pseudo, &token));
    assert_ne!(sql(&l.pseudo, &token)[0][0], "0");
}

#[test]
fn one_key_gives_one_token_in_every_lake_and_a_lake_takes_only_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let key_file = crate::common::write(dir.path(), "key", format!("{KEY}\n").as_bytes());
    convert(&a, &["--pseudonymise"], Some(KEY));
    convert(
        &b,
        &[
            "--pseudonymise",
            "--pseudonym-key-file",
            &key_file.display().to_string(),
        ],
        None,
    );
    let people = "SELECT call_id, session_id, segment_id, media_index, stream_index, \
                  session_caller_identity_user_id, session_caller_identity_user_display_name, \
                  caller_network_ip_address, call_organizer_user_id FROM streams ORDER BY 1, 2, 3, 4, 5";
    assert_eq!(query(&a, people), query(&b, people));
    let lake = a.display().to_string();
    let fail = |args: &[&str], key: Option<&str>, says: &str| {
        let out = cqlake_with_key(args, key);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        for k in [KEY, OTHER_KEY] {
            assert!(!err.contains(&k[..20]), "the key is in the error: {err}");
        }
    };
    let input = sample("graph-docs").display().to_string();
    // Without the key, with another key, without --pseudonymise: refused, nothing written.
    let before = query(&a, "SELECT count(*) FROM calls");
    fail(
        &["convert", &input, "--lake", &lake, "--pseudonymise"],
        None,
        "CQLAKE_PSEUDONYM_KEY",
    );
    fail(
        &["convert", &input, "--lake", &lake, "--pseudonymise"],
        Some(OTHER_KEY),
        "another key",
    );
    fail(
        &["convert", &input, "--lake", &lake],
        Some(KEY),
        "is pseudonymised",
    );
    fail(
        &["pseudonym", "x", "--lake", &lake],
        Some(OTHER_KEY),
        "another key",
    );
    // A short key is refused; so is pseudonymising a lake of raw values in place.
    fail(
        &["convert", &input, "--lake", &lake, "--pseudonymise"],
        Some("short key"),
        "at least 32",
    );
    let plain = dir.path().join("plain").display().to_string();
    let out = cqlake_with_key(&["convert", &input, "--lake", &plain, "--quiet"], None);
    assert!(out.status.success());
    fail(
        &["convert", &input, "--lake", &plain, "--pseudonymise"],
        Some(KEY),
        "holds personal values",
    );
    assert_eq!(query(&a, "SELECT count(*) FROM calls"), before);
    // Converting again with the key doubles nothing and keeps the tokens.
    let streams = query(&a, people);
    convert(&a, &["--pseudonymise"], Some(KEY));
    assert_eq!(query(&a, people), streams);
    // A token is a token under its key only.
    let t = |key: &str| {
        String::from_utf8(cqlake_with_key(&["pseudonym", "Jane@Contoso.com"], Some(key)).stdout)
            .unwrap()
    };
    assert_eq!(t(KEY), t(KEY));
    assert_ne!(t(KEY), t(OTHER_KEY));
    assert_eq!(
        t(KEY),
        String::from_utf8(cqlake_with_key(&["pseudonym", "jane@contoso.com"], Some(KEY)).stdout)
            .unwrap()
    );
    // forget on a pseudonymised lake: the value with the key finds the person's token.
    let ann =
        String::from_utf8(cqlake_with_key(&["pseudonym", "ann.lee@contoso.com"], Some(KEY)).stdout)
            .unwrap();
    let ann = ann.trim();
    let rows = |lake: &Path| {
        query(
            lake,
            &format!("SELECT count(*) FROM pstn_calls WHERE user_principal_name = '{ann}'"),
        )
    };
    assert_ne!(rows(&a), [["0"]]);
    fail(
        &["forget", "--lake", &lake, "--user", "ann.lee@contoso.com"],
        None,
        "CQLAKE_PSEUDONYM_KEY",
    );
    fail(
        &["forget", "--lake", &lake, "--user", "ann.lee@contoso.com"],
        Some(OTHER_KEY),
        "another key",
    );
    let out = cqlake_with_key(
        &[
            "forget",
            "--lake",
            &lake,
            "--user",
            "ann.lee@contoso.com",
            "--json",
        ],
        Some(KEY),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["rows"]["pstn_calls"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(rows(&a), [["0"]]);
    // Her token alone (a helpdesk without the key) is enough, and finds nothing left.
    let out = cqlake_with_key(&["forget", "--lake", &lake, "--user", ann, "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        s["rows"].as_object().unwrap().values().all(|v| v == 0),
        "{s}"
    );
}

/// The first value of the first row of `sql`.
fn one(lake: &Path, sql: &str) -> String {
    query(lake, sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// `cqlake ARGS`, which must succeed; its stdout.
fn ok(args: &[&str]) -> String {
    let out = cqlake_with_key(args, None);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every string anywhere under `lake`: the cells of every Parquet file (Delta checkpoints
/// included, their structs walked) and every other file as text.
fn every_string(lake: &Path) -> Vec<(String, String)> {
    fn walk(a: &ArrayRef, out: &mut Vec<String>) {
        match a.data_type() {
            DataType::Struct(_) => a.as_struct().columns().iter().for_each(|c| walk(c, out)),
            DataType::Map(_, _) => {
                let m = a.as_map();
                walk(m.keys(), out);
                walk(m.values(), out);
            }
            _ => strings(a, out),
        }
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(lake) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let p = e.path();
        let name = p.display().to_string();
        if p.extension().is_some_and(|x| x == "parquet") {
            let file = std::fs::File::open(p).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
            for batch in reader {
                let mut v = Vec::new();
                for c in batch.unwrap().columns() {
                    walk(c, &mut v);
                }
                out.extend(v.into_iter().map(|s| (name.clone(), s)));
            }
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).to_string();
            out.push((name, text));
        }
    }
    out
}

#[test]
fn forget_erases_one_person_everywhere_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    convert(&lake, &[], None);
    let l = lake.display().to_string();
    // The participant with the most streams as a segment's caller, found by the UPN that
    // only `participants` holds (call records carry ids and names): forget finds the id.
    let upn = one(
        &lake,
        "SELECT p.identity_user_user_principal_name FROM participants p \
         JOIN streams s ON s.segment_caller_identity_user_id = p.identity_user_id \
         WHERE p.identity_user_user_principal_name IS NOT NULL \
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    );
    let id = one(
        &lake,
        &format!(
            "SELECT max(identity_user_id) FROM participants WHERE identity_user_user_principal_name = '{upn}'"
        ),
    );
    let name = one(
        &lake,
        &format!(
            "SELECT max(caller_identity_user_display_name) FROM segments WHERE caller_identity_user_id = '{id}'"
        ),
    );
    // Their addresses that nobody else used (as the caller or callee of a segment).
    let addresses = query(
        &lake,
        &format!(
            "WITH sides AS (
               SELECT caller_network_ip_address AS ip, segment_caller_identity_user_id AS who FROM streams
               UNION ALL SELECT callee_network_ip_address, segment_callee_identity_user_id FROM streams)
             SELECT ip FROM sides WHERE ip IS NOT NULL GROUP BY ip
             HAVING bool_and(who = '{id}') ORDER BY ip"
        ),
    );
    assert!(!addresses.is_empty(), "{upn} has addresses of their own");
    let others_name = one(
        &lake,
        &format!(
            "SELECT count(*) FROM segments WHERE caller_identity_user_display_name = '{name}' AND caller_identity_user_id <> '{id}'"
        ),
    );
    let metrics = "SELECT count(*), sum(average_jitter_ms), sum(packet_utilization), count(caller_network_subnet) FROM streams";
    let before_metrics = query(&lake, metrics);
    // Their calls, found before they are forgotten (after, their ids are gone).
    let theirs = query(
        &lake,
        &format!(
            "SELECT DISTINCT call_id FROM segments WHERE caller_identity_user_id = '{id}' OR callee_identity_user_id = '{id}' \
             UNION SELECT call_id FROM participants WHERE participant_id = '{id}' OR identity_user_id = '{id}' \
             UNION SELECT call_id FROM calls WHERE organizer_user_id = '{id}' OR organizer_v2_id = '{id}' OR organizer_v2_identity_user_id = '{id}'"
        ),
    );
    let theirs: Vec<String> = theirs.iter().map(|r| format!("'{}'", r[0])).collect();
    let others = format!(
        "SELECT * FROM streams WHERE call_id NOT IN ({}) \
         ORDER BY call_id, session_id, segment_id, media_index, stream_index",
        theirs.join(", ")
    );
    let before_others = query(&lake, &others);
    let out = ok(&["forget", "--lake", &l, "--user", &upn, "--json"]);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    for t in ["sessions", "segments", "media", "streams"] {
        assert!(s["rows"][t].as_u64().unwrap() > 0, "{t}: {s}");
    }
    // Stream counts and metrics are unchanged, and so is every stream of other people's calls.
    assert_eq!(query(&lake, metrics), before_metrics);
    let after_others = query(&lake, &others);
    assert!(
        after_others.len() > 10,
        "other people's streams are compared"
    );
    assert!(
        after_others == before_others,
        "other people's streams changed"
    );
    // Forgetting again changes nothing.
    let again: serde_json::Value =
        serde_json::from_str(&ok(&["forget", "--lake", &l, "--user", &upn, "--json"])).unwrap();
    assert!(
        again["rows"].as_object().unwrap().values().all(|v| v == 0),
        "{again}"
    );
    // After vacuum — with its default retention of 7 days, which keeps the files an optimize
    // or an update replaced — no file of the lake holds the person: not the data files, not
    // the logs.
    let vacuumed = ok(&["vacuum", "--lake", &l]);
    assert!(
        vacuumed.contains("log files before a checkpoint"),
        "{vacuumed}"
    );
    let mut gone = vec![upn.clone(), id.clone()];
    if others_name == "0" {
        gone.push(name.clone());
    }
    gone.extend(addresses.into_iter().map(|r| r[0].clone()));
    for (file, text) in every_string(&lake) {
        for v in &gone {
            assert!(!text.contains(v.as_str()), "{file} holds {v}");
        }
    }
    assert_eq!(query(&lake, metrics), before_metrics);
}

#[test]
fn forget_erases_the_copies_in_streams_of_a_person_named_by_an_id_streams_does_not_keep() {
    // `streams` keeps a session caller's feedback text but not the encrypted identity that
    // names her: the copy goes by the session she was found in.
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let l = lake.display().to_string();
    let endpoint = |who: &str| {
        format!(
            r##"{{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint",
                "identity":{{"encrypted":{{"id":"{who}","displayName":"Name of {who}"}}}},
                "feedback":{{"rating":"poor","text":"words of {who}"}}}}"##
        )
    };
    let call = format!(
        r#"{{"id":"c1","version":1,"type":"groupCall","modalities":["audio"],
            "startDateTime":"2024-05-06T10:00:00Z","endDateTime":"2024-05-06T10:10:00Z",
            "sessions":[{{"id":"s1","startDateTime":"2024-05-06T10:00:00Z",
              "endDateTime":"2024-05-06T10:10:00Z","caller":{a},"callee":{b},
              "segments":[{{"id":"g1","startDateTime":"2024-05-06T10:00:00Z",
                "endDateTime":"2024-05-06T10:10:00Z","caller":{a},"callee":{b},
                "media":[{{"label":"main-audio","streams":[
                  {{"streamId":"1","streamDirection":"callerToCallee","averageJitter":"PT0.01S"}}]}}]}}]}}]}}"#,
        a = endpoint("enc-ann"),
        b = endpoint("enc-bob"),
    );
    let input = dir.path().join("c1.json");
    std::fs::write(&input, call.replace('\n', " ")).unwrap();
    ok(&[
        "convert",
        &input.display().to_string(),
        "--lake",
        &l,
        "--quiet",
    ]);
    let texts = "SELECT session_caller_feedback_text, session_callee_feedback_text, \
                 count(average_jitter_ms) FROM streams GROUP BY 1, 2";
    assert_eq!(
        query(&lake, texts),
        vec![vec!["words of enc-ann", "words of enc-bob", "1"]]
    );
    ok(&["forget", "--lake", &l, "--user", "enc-ann"]);
    assert_eq!(
        query(&lake, texts),
        vec![vec!["NULL", "words of enc-bob", "1"]]
    );
    ok(&["vacuum", "--lake", &l]);
    for (file, text) in every_string(&lake) {
        for v in ["enc-ann", "words of enc-ann", "Name of enc-ann"] {
            assert!(!text.contains(v), "{file} holds {v}");
        }
    }
}

#[test]
fn purge_removes_exactly_the_older_calls_and_a_kept_retention_applies_to_later_converts() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    convert(&lake, &[], None);
    let l = lake.display().to_string();
    let dates = query(
        &lake,
        "SELECT DISTINCT CAST(call_start_date AS VARCHAR) FROM calls ORDER BY 1",
    );
    assert!(dates.len() >= 3, "{dates:?}");
    let cut = dates[dates.len() / 2][0].clone();
    let kept = |t: &str| {
        let mut rows = query(
            &lake,
            &format!("SELECT * FROM {t} WHERE call_start_date >= DATE '{cut}'"),
        );
        rows.sort();
        rows
    };
    let before: Vec<_> = crate::common::tables().map(kept).collect();
    let pstn_kept = format!(
        "SELECT id FROM pstn_calls WHERE start_date_time >= TIMESTAMP '{cut}T00:00:00Z' ORDER BY 1"
    );
    let pstn_before = query(&lake, &pstn_kept);
    let out = ok(&["purge", "--lake", &l, "--before", &cut, "--json"]);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(s["rows"]["calls"].as_u64().unwrap() > 0, "{s}");
    for (t, rows) in crate::common::tables().zip(&before) {
        assert_eq!(
            one(
                &lake,
                &format!("SELECT count(*) FROM {t} WHERE call_start_date < DATE '{cut}'")
            ),
            "0",
            "{t}"
        );
        assert_eq!(&kept(t), rows, "{t} keeps its later rows");
    }
    assert_eq!(
        one(
            &lake,
            &format!(
                "SELECT count(*) FROM pstn_calls WHERE start_date_time < TIMESTAMP '{cut}T00:00:00Z'"
            )
        ),
        "0"
    );
    assert_eq!(query(&lake, &pstn_kept), pstn_before);
    // vacuum frees the files of the removed dates.
    ok(&["vacuum", "--lake", &l, "--retain-hours", "0"]);
    for t in crate::common::tables() {
        for e in std::fs::read_dir(lake.join(t)).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(date) = name.strip_prefix("call_start_date=") {
                let files = std::fs::read_dir(e.path()).unwrap().count();
                assert!(
                    date >= cut.as_str() || files == 0,
                    "{t}/{name} has {files} files"
                );
            }
        }
    }
    // A retention kept in the lake: converting everything again keeps only what it allows.
    let today = chrono_days_since(&cut);
    ok(&["purge", "--lake", &l, "--keep-days", &today.to_string()]);
    convert(&lake, &[], None);
    assert_eq!(
        one(
            &lake,
            &format!("SELECT count(*) FROM calls WHERE call_start_date < DATE '{cut}'")
        ),
        "0"
    );
    for (t, rows) in crate::common::tables().zip(&before) {
        assert_eq!(&kept(t), rows, "{t} after the retention");
    }
    ok(&["purge", "--lake", &l, "--keep-all"]);
    convert(&lake, &[], None);
    assert_ne!(
        one(
            &lake,
            &format!("SELECT count(*) FROM calls WHERE call_start_date < DATE '{cut}'")
        ),
        "0"
    );
}

/// Days from the UTC date `date` (YYYY-MM-DD) to today.
fn chrono_days_since(date: &str) -> i64 {
    let d = arrow::compute::cast(
        &arrow::array::StringArray::from(vec![date]),
        &DataType::Date32,
    )
    .unwrap();
    let days = d.as_primitive::<arrow::datatypes::Date32Type>().value(0) as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 86_400;
    now - days
}
