//! The catalogue of bad inputs (issue 5, item 1): each case is an input with its expected outcome.
//!
//! Every case runs through the whole ingest pipeline ([`source::run`]: open, decompress, frame,
//! parse, flatten) and is checked for the same things: no panic; every good record converted and
//! nothing of a bad one kept; each rejection naming its file, line and byte offset with a clear
//! message (and the JSON path when the record parsed); and the counts reconciling
//! (records read = converted + rejected).

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use cqlake_ingest::input::Input;
use cqlake_ingest::source::{self, PipelineOptions, Reject, Stats};
use cqlake_schema::TableId;
use cqlake_schema::batch::FlatBatch;

/// A valid call record with one session, segment, media and stream.
fn call(id: &str) -> String {
    call_with(id, "")
}

/// A valid call record whose stream carries the extra members `stream_extra` (with a leading
/// comma), for putting a bad value where a typed column expects another type.
fn call_with(id: &str, stream_extra: &str) -> String {
    format!(
        r##"{{"id":"{id}","version":1,"type":"groupCall","modalities":["audio"],"lastModifiedDateTime":"2024-05-01T10:30:00Z","startDateTime":"2024-05-01T10:00:00Z","endDateTime":"2024-05-01T10:20:00Z","sessions":[{{"id":"s-{id}","startDateTime":"2024-05-01T10:00:01Z","caller":{{"@odata.type":"#microsoft.graph.callRecords.participantEndpoint","userAgent":{{"platform":"windows"}}}},"segments":[{{"id":"g-{id}","media":[{{"label":"main-audio","streams":[{{"streamId":"1","streamDirection":"callerToCallee","averageJitter":"PT0.01S"{stream_extra}}}]}}]}}]}}]}}"##
    )
}

/// `call(id)` with `from` replaced by `to` (which must occur).
fn call_replacing(id: &str, from: &str, to: &str) -> String {
    let c = call(id);
    assert!(c.contains(from), "{from} is in the fixture");
    c.replacen(from, to, 1)
}

fn lines(docs: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for d in docs {
        out.push_str(d);
        out.push('\n');
    }
    out.into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// What a run produced.
#[derive(Debug)]
struct Run {
    stats: Stats,
    rejects: Vec<Reject>,
    /// Ids of the calls flattened, in input order.
    calls: Vec<String>,
    /// Call ids of the stream rows flattened.
    stream_calls: Vec<String>,
}

fn run_files(files: &[PathBuf]) -> Run {
    let spill = tempfile::tempdir().unwrap();
    let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
    let options = PipelineOptions::default()
        .with_threads(2)
        .with_spill_dir(spill.path());
    let mut batches: Vec<FlatBatch> = Vec::new();
    let mut rejects = Vec::new();
    let stats = source::run(&inputs, &options, &|_| {}, &|p| p.complete(), &mut |d| {
        rejects.extend(d.rejects);
        batches.extend(d.batch);
        Ok(())
    })
    .expect("bad input never fails the run");
    let ids = |b: &FlatBatch, t: TableId| -> Vec<(u64, String)> {
        let batch = &b.batches[t.index()];
        let col = batch.column_by_name("call_id").expect("call_id column");
        let col = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).unwrap();
        let col = col.as_string::<i32>();
        (0..batch.num_rows())
            .map(|r| (b.orders[t.index()][r], col.value(r).to_string()))
            .collect()
    };
    let mut calls: Vec<(u64, String)> = batches
        .iter()
        .flat_map(|b| ids(b, TableId::Calls))
        .collect();
    calls.sort();
    let mut stream_calls: Vec<String> = batches
        .iter()
        .flat_map(|b| ids(b, TableId::Streams))
        .map(|(_, id)| id)
        .collect();
    stream_calls.sort();
    Run {
        stats,
        rejects,
        calls: calls.into_iter().map(|(_, id)| id).collect(),
        stream_calls,
    }
}

/// One expected rejection: the file it names, its line (0: not checked), words of its message,
/// and its JSON path when the record parsed.
#[derive(Debug, Clone)]
struct Expect {
    file: &'static str,
    line: u64,
    says: &'static str,
    path: Option<&'static str>,
}

fn rejected(file: &'static str, line: u64, says: &'static str) -> Expect {
    Expect {
        file,
        line,
        says,
        path: None,
    }
}

fn rejected_at(file: &'static str, line: u64, path: &'static str, says: &'static str) -> Expect {
    Expect {
        file,
        line,
        says,
        path: Some(path),
    }
}

/// Runs `files` (name, bytes) and checks the outcome: exactly the `good` calls converted (in input
/// order), each with its one stream, and exactly the `expect`ed rejections.
fn check(case: &str, files: &[(&str, Vec<u8>)], good: &[&str], expect: &[Expect]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, bytes)| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    let run = run_files(&paths);
    let ctx = || {
        let rejects: Vec<String> = run
            .rejects
            .iter()
            .map(|r| {
                format!(
                    "{}:{} (byte {}) {:?}: {}",
                    r.source, r.line, r.offset, r.path, r.error
                )
            })
            .collect();
        format!("case {case}: calls {:?}, rejects {rejects:#?}", run.calls)
    };
    assert_eq!(run.calls, good, "{}", ctx());
    let mut want_streams: Vec<String> = good.iter().map(|s| s.to_string()).collect();
    want_streams.sort();
    assert_eq!(
        run.stream_calls,
        want_streams,
        "no row of a bad record is kept: {}",
        ctx()
    );
    assert_eq!(run.rejects.len(), expect.len(), "{}", ctx());
    let mut got: Vec<&Reject> = run.rejects.iter().collect();
    got.sort_by_key(|r| (r.source.to_string(), r.line, r.offset));
    let mut want = expect.to_vec();
    want.sort_by_key(|e| (e.file, e.line));
    for (r, e) in got.iter().zip(&want) {
        let named = Path::new(&*r.source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        assert_eq!(
            named.as_deref(),
            Some(e.file),
            "the rejection names its file: {}",
            ctx()
        );
        if e.line != 0 {
            assert_eq!(r.line, e.line, "line: {}", ctx());
        }
        assert!(
            r.error.contains(e.says),
            "the message says {:?}: {}",
            e.says,
            ctx()
        );
        if let Some(p) = e.path {
            assert_eq!(r.path.as_deref(), Some(p), "path: {}", ctx());
        }
        assert!(
            r.offset <= files.iter().map(|(_, b)| b.len() as u64 * 64).sum(),
            "offset within the (decompressed) input: {}",
            ctx()
        );
    }
    assert_eq!(
        run.stats.records(),
        run.calls.len() as u64 + run.rejects.len() as u64,
        "records = converted + rejected: {}",
        ctx()
    );
    assert_eq!(run.stats.rejected, run.rejects.len() as u64, "{}", ctx());
    assert_eq!(run.stats.files, files.len() as u64, "{}", ctx());
    run
}

/// The byte offsets in `doc` just before each structural character (brackets, colons, commas,
/// quotes), where a cut leaves an incomplete document.
fn structural_cuts(doc: &str) -> Vec<usize> {
    doc.char_indices()
        .filter(|(i, c)| *i > 0 && matches!(c, '{' | '}' | '[' | ']' | ':' | ',' | '"'))
        .map(|(i, _)| i)
        .collect()
}

// ---- truncation ----------------------------------------------------------------------------

#[test]
fn truncated_ndjson_line_at_every_structural_position() {
    let cut_from = call("b");
    let cuts = structural_cuts(&cut_from);
    assert!(cuts.len() > 80, "{}", cuts.len());
    for at in cuts {
        let input = lines(&[&call("a"), &cut_from[..at], &call("c")]);
        check(
            &format!("ndjson cut at {at}"),
            &[("cut.ndjson", input)],
            &["a", "c"],
            &[rejected(
                "cut.ndjson",
                2,
                "line ends inside a JSON document",
            )],
        );
    }
}

#[test]
fn truncated_last_document_at_every_structural_position() {
    let cut_from = call("b");
    for at in structural_cuts(&cut_from) {
        let mut input = lines(&[&call("a")]);
        input.extend_from_slice(&cut_from.as_bytes()[..at]);
        check(
            &format!("end cut at {at}"),
            &[("end.ndjson", input)],
            &["a"],
            &[rejected(
                "end.ndjson",
                2,
                "input ends inside a JSON document",
            )],
        );
    }
}

#[test]
fn truncated_array_and_page_at_every_structural_position() {
    let cut_from = call("b");
    for at in structural_cuts(&cut_from) {
        let array = format!("[\n{},\n{}", call("a"), &cut_from[..at]);
        check(
            &format!("array cut at {at}"),
            &[("array.json", array.into_bytes())],
            &["a"],
            &[rejected(
                "array.json",
                3,
                "input ends inside a JSON document",
            )],
        );
        let page = format!(
            "{{\n\"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#communications/callRecords\",\n\"value\": [\n{},\n{}",
            call("a"),
            &cut_from[..at]
        );
        check(
            &format!("page cut at {at}"),
            &[("page.json", page.into_bytes())],
            &["a"],
            &[rejected(
                "page.json",
                5,
                "input ends inside a JSON document",
            )],
        );
    }
}

// ---- encodings, empty and garbage -----------------------------------------------------------

#[test]
fn invalid_utf8_costs_only_its_record() {
    for (case, bad) in [
        ("byte 0xff in a value", b"\xff".as_slice()),
        ("overlong encoding", b"\xc0\xaf".as_slice()),
        ("lone continuation byte", b"\x80".as_slice()),
        ("surrogate encoded in UTF-8", b"\xed\xa0\x80".as_slice()),
    ] {
        let mut input = lines(&[&call("a")]);
        let bad_call = call("b");
        let (head, tail) = bad_call.split_once("windows").unwrap();
        input.extend_from_slice(head.as_bytes());
        input.extend_from_slice(bad);
        input.extend_from_slice(tail.as_bytes());
        input.push(b'\n');
        input.extend_from_slice(&lines(&[&call("c")]));
        check(
            case,
            &[("utf8.ndjson", input)],
            &["a", "c"],
            &[rejected("utf8.ndjson", 2, "invalid JSON")],
        );
    }
    // In a key rather than a value.
    let bad_key = call("b").replacen("\"platform\"", "\"plat\u{1}form\"", 1);
    let bad_key = bad_key.replace('\u{1}', "\u{fffd}").replacen(
        "\u{fffd}",
        std::str::from_utf8(b"\xef\xbf\xbd").unwrap(),
        1,
    );
    let mut input = bad_key.into_bytes();
    let at = input.windows(3).position(|w| w == b"\xef\xbf\xbd").unwrap();
    input.splice(at..at + 3, [0xfe]);
    input.push(b'\n');
    input.extend_from_slice(&lines(&[&call("c")]));
    check(
        "invalid UTF-8 in a key",
        &[("key.ndjson", input)],
        &["c"],
        &[rejected("key.ndjson", 1, "invalid JSON")],
    );
}

#[test]
fn empty_inputs_are_reported_and_cost_nothing_else() {
    for (name, bytes) in [
        ("empty.json", Vec::new()),
        ("bom.json", b"\xef\xbb\xbf".to_vec()),
        ("blank.json", b"  \n\r\n\t\n".to_vec()),
        ("empty.json.gz", gzip(b"")),
    ] {
        check(
            name,
            &[(name, bytes), ("good.ndjson", lines(&[&call("a")]))],
            &["a"],
            &[rejected(name, 1, "no JSON document in the input")],
        );
    }
    // An empty page is not empty input: it is a day with no calls.
    check(
        "empty page",
        &[(
            "page.json",
            br#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#communications/callRecords","value":[]}"#.to_vec(),
        )],
        &[],
        &[],
    );
}

#[test]
fn binary_garbage_is_one_rejection_and_framing_resumes() {
    // Deterministic noise with no newline or bracket, so it is one run of garbage.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            if matches!(b, b'\n' | b'{' | b'[' | b'\r') {
                b'#'
            } else {
                b
            }
        })
        .collect();
    let mut input = lines(&[&call("a")]);
    input.extend_from_slice(&noise);
    input.push(b'\n');
    input.extend_from_slice(&lines(&[&call("c")]));
    check(
        "garbage line",
        &[("garbage.ndjson", input)],
        &["a", "c"],
        &[rejected("garbage.ndjson", 2, "outside a JSON document")],
    );
    check(
        "a file of garbage",
        &[("garbage.bin", noise.clone())],
        &[],
        &[rejected("garbage.bin", 1, "outside a JSON document")],
    );
    // NUL bytes inside a document.
    let nul = call("b").replacen("windows", "win\0dows", 1);
    check(
        "NUL in a string",
        &[("nul.ndjson", lines(&[&call("a"), &nul, &call("c")]))],
        &["a", "c"],
        &[rejected("nul.ndjson", 2, "invalid JSON")],
    );
}

// ---- compression ----------------------------------------------------------------------------

/// Enough records that the compressed stream is many blocks long.
fn many_calls(n: usize) -> (Vec<String>, Vec<u8>) {
    let ids: Vec<String> = (0..n).map(|i| format!("call-{i:05}")).collect();
    let docs: Vec<String> = ids.iter().map(|id| call(id)).collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    (ids, lines(&refs))
}

/// A compressed file cut short: what decompressed before the cut converts (a prefix of the
/// records, whole), and the cut is reported (with the record it cut into, if any).
fn check_cut(name: &'static str, bytes: Vec<u8>, ids: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let run = run_files(std::slice::from_ref(&p));
    let ctx = format!(
        "{name}: {} of {}, {:?}",
        run.calls.len(),
        ids.len(),
        run.rejects
    );
    assert!(
        ids.starts_with(&run.calls),
        "a prefix of the records converts: {ctx}"
    );
    assert!(run.calls.len() <= ids.len(), "{ctx}");
    assert!(
        run.rejects
            .iter()
            .any(|r| r.error.contains("reading stopped") && r.line == run.calls.len() as u64 + 1),
        "the cut is reported at the line after the last whole record: {ctx}"
    );
    assert!(run.rejects.len() <= 2, "{ctx}");
    assert!(
        run.rejects.iter().all(|r| r.source.ends_with(name)),
        "{ctx}"
    );
    assert_eq!(
        run.stats.records(),
        run.calls.len() as u64 + run.rejects.len() as u64
    );
    let mut streams = run.calls.clone();
    streams.sort();
    assert_eq!(run.stream_calls, streams);
}

fn flip_middle(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut bad = bytes.to_vec();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + n] {
        *b ^= 0x5a;
    }
    bad
}

#[test]
fn corrupt_and_truncated_gzip_and_zstd() {
    let (ids, plain) = many_calls(3000);
    let gz = gzip(&plain);
    let zst = zstd::encode_all(plain.as_slice(), 3).unwrap();
    assert!(
        gz.len() > 4_000 && zst.len() > 4_000,
        "{} {}",
        gz.len(),
        zst.len()
    );

    check_cut("truncated.json.gz", gz[..gz.len() / 2].to_vec(), &ids);
    check_cut("truncated.json.zst", zst[..zst.len() / 2].to_vec(), &ids);
    check_cut("no-trailer.json.gz", gz[..gz.len() - 4].to_vec(), &ids);

    // Damage: a single flipped bit in a gzip member decodes to the full length and is only
    // caught by its checksum at the end, so the whole file is one rejected unit.
    let damaged = [
        ("flipped-bit.json.gz", {
            let mut b = gz.clone();
            let mid = b.len() / 2;
            b[mid] ^= 1;
            b
        }),
        ("corrupt.json.gz", flip_middle(&gz, 64)),
        ("corrupt.json.zst", flip_middle(&zst, 64)),
        ("trailing-garbage.json.gz", {
            let mut b = gzip(&lines(&[&call("x")]));
            b.extend_from_slice(b"\x1f\x8b\x08garbage");
            b
        }),
    ];
    for (name, bytes) in damaged {
        check(
            name,
            &[(name, bytes), ("good.ndjson", lines(&[&call("a")]))],
            &["a"],
            &[rejected(name, 0, "damaged compressed data")],
        );
    }

    // Only the magic bytes.
    for (name, bytes) in [
        ("magic.gz", vec![0x1f, 0x8b]),
        ("magic.zst", vec![0x28, 0xb5, 0x2f, 0xfd]),
    ] {
        check(
            name,
            &[(name, bytes), ("good.ndjson", lines(&[&call("a")]))],
            &["a"],
            &[rejected(name, 1, "reading stopped")],
        );
    }
}

// ---- wrong types ----------------------------------------------------------------------------

#[test]
fn wrong_types_on_every_kind_of_column() {
    const STREAM: &str = "$.sessions[0].segments[0].media[0].streams[0]";
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "string for a float",
            call_with("b", r#","averagePacketLossRate":"high""#),
            format!("{STREAM}.averagePacketLossRate"),
            "expected a number, got a string",
        ),
        (
            "bool for an integer",
            call_with("b", r#","packetUtilization":true"#),
            format!("{STREAM}.packetUtilization"),
            "expected",
        ),
        (
            "fraction for an integer",
            call_with("b", r#","packetUtilization":12.5"#),
            format!("{STREAM}.packetUtilization"),
            "expected",
        ),
        (
            "integer beyond 64 bits",
            call_with("b", r#","packetUtilization":99999999999999999999"#),
            String::new(),
            "invalid JSON",
        ),
        (
            "number for a duration",
            call_with("b", r#","averageRoundTripTime":12"#),
            format!("{STREAM}.averageRoundTripTime"),
            "expected",
        ),
        (
            "number for a boolean",
            call_with("b", r#","wasMediaBypassed":1"#),
            format!("{STREAM}.wasMediaBypassed"),
            "expected",
        ),
        (
            "object for a string",
            call_replacing("b", r#""type":"groupCall""#, r#""type":{"x":1}"#),
            "$.type".into(),
            "expected",
        ),
        (
            "array for an object",
            call_replacing(
                "b",
                r#""userAgent":{"platform":"windows"}"#,
                r#""userAgent":[]"#,
            ),
            "$.sessions[0].caller.userAgent".into(),
            "expected",
        ),
        (
            "string for a list",
            call_replacing("b", r#""modalities":["audio"]"#, r#""modalities":"audio""#),
            "$.modalities".into(),
            "expected",
        ),
        (
            "number in a list of strings",
            call_replacing(
                "b",
                r#""modalities":["audio"]"#,
                r#""modalities":["audio",7]"#,
            ),
            "$.modalities[1]".into(),
            "expected",
        ),
        (
            "number for an id",
            call_replacing("b", r#""id":"s-b""#, r#""id":5"#),
            "$.sessions[0].id".into(),
            "",
        ),
        (
            "string for a timestamp that is not one",
            call_replacing(
                "b",
                r#""endDateTime":"2024-05-01T10:20:00Z""#,
                r#""endDateTime":"yesterday""#,
            ),
            "$.endDateTime".into(),
            "timestamp",
        ),
        (
            "object for a list of objects",
            call_replacing("b", r#""segments":["#, r#""segments":{"x":"#)
                .replace("}]}]}]}]}", "}]}]}}}]}"),
            "$.sessions[0].segments".into(),
            "expected",
        ),
    ];
    for (case, bad, path, says) in &cases {
        let path: &'static str = Box::leak(path.clone().into_boxed_str());
        let says: &'static str = Box::leak(says.to_string().into_boxed_str());
        check(
            case,
            &[("types.ndjson", lines(&[&call("a"), bad, &call("c")]))],
            &["a", "c"],
            &[if path.is_empty() {
                rejected("types.ndjson", 2, says)
            } else {
                rejected_at("types.ndjson", 2, path, says)
            }],
        );
    }
}

#[test]
fn invalid_durations_and_timestamps() {
    let jitter = "$.sessions[0].segments[0].media[0].streams[0].averageJitter";
    for bad in [
        "PT",
        "P",
        "P1X",
        "PT-5S",
        "PT5",
        "5S",
        "P1Y",
        "PT1S2M",
        "PT99999999999999999999S",
        "PT1e3S",
        "",
    ] {
        let doc = call_replacing(
            "b",
            r#""averageJitter":"PT0.01S""#,
            &format!(r#""averageJitter":"{bad}""#),
        );
        check(
            &format!("duration {bad:?}"),
            &[("dur.ndjson", lines(&[&call("a"), &doc, &call("c")]))],
            &["a", "c"],
            &[rejected_at(
                "dur.ndjson",
                2,
                jitter,
                "invalid ISO-8601 duration",
            )],
        );
    }
    for bad in [
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01",
        "not a date",
        "2024-05-01T10:00:00+25:00",
    ] {
        let doc = call_replacing(
            "b",
            r#""lastModifiedDateTime":"2024-05-01T10:30:00Z""#,
            &format!(r#""lastModifiedDateTime":"{bad}""#),
        );
        check(
            &format!("timestamp {bad:?}"),
            &[("ts.ndjson", lines(&[&call("a"), &doc, &call("c")]))],
            &["a", "c"],
            &[rejected_at(
                "ts.ndjson",
                2,
                "$.lastModifiedDateTime",
                "timestamp",
            )],
        );
    }
    // The partition column: a call record must say when it started.
    let doc = call_replacing(
        "b",
        r#""startDateTime":"2024-05-01T10:00:00Z""#,
        r#""startDateTime":"soon""#,
    );
    check(
        "bad startDateTime",
        &[("start.ndjson", lines(&[&call("a"), &doc, &call("c")]))],
        &["a", "c"],
        &[rejected_at(
            "start.ndjson",
            2,
            "$.startDateTime",
            "invalid timestamp \"soon\"",
        )],
    );
}

// ---- ids, keys, structure -------------------------------------------------------------------

#[test]
fn missing_ids_and_duplicate_keys() {
    let cases = [
        (
            "call without id",
            call_replacing("b", r#""id":"b","#, ""),
            "$",
            "the call record has no id",
        ),
        (
            "session without id",
            call_replacing("b", r#""id":"s-b","#, ""),
            "$.sessions[0]",
            "the session has no id",
        ),
        (
            "segment without id",
            call_replacing("b", r#""id":"g-b","#, ""),
            "$.sessions[0].segments[0]",
            "the segment has no id",
        ),
        (
            "duplicate key at the top",
            call_replacing(
                "b",
                r#""type":"groupCall""#,
                r#""type":"groupCall","type":"peerToPeer""#,
            ),
            "$.type",
            "duplicate key",
        ),
        (
            "duplicate key in a stream",
            call_with("b", r#","averageJitter":"PT0.02S""#),
            "$.sessions[0].segments[0].media[0].streams[0].averageJitter",
            "duplicate key",
        ),
        (
            "duplicate id",
            call_replacing("b", r#""id":"b","#, r#""id":"b","id":"x","#),
            "$.id",
            "duplicate key",
        ),
        (
            "duplicate unknown key",
            call_replacing(
                "b",
                r#""type":"groupCall""#,
                r#""type":"groupCall","newThing":1,"newThing":2"#,
            ),
            "$.newThing",
            "duplicate key",
        ),
    ];
    for (case, doc, path, says) in &cases {
        check(
            case,
            &[("ids.ndjson", lines(&[&call("a"), doc, &call("c")]))],
            &["a", "c"],
            &[rejected_at("ids.ndjson", 2, path, says)],
        );
    }
}

/// `doc` (a call record) with its `sessions` member written twice, the same both times.
fn sessions_twice(doc: &str) -> String {
    let at = doc.find(r#""sessions":"#).expect("a sessions member");
    let member = &doc[at..doc.len() - 1];
    format!("{},{member}}}", &doc[..doc.len() - 1])
}

#[test]
fn a_key_written_twice_with_the_same_value_is_one_value() {
    // Some real bodies (a Graph docs example among them) repeat a key with the same value: the
    // repeat is taken as one value and counted, at every level and for every kind of key.
    let cases = [
        (
            "leaf at the top",
            call_replacing(
                "b",
                r#""type":"groupCall""#,
                r#""type":"groupCall","type":"groupCall""#,
            ),
        ),
        (
            "leaf in a stream",
            call_with("b", r#","averageJitter":"PT0.01S""#),
        ),
        (
            "the id",
            call_replacing("b", r#""id":"b","#, r#""id":"b","id":"b","#),
        ),
        (
            "@odata.type of an endpoint",
            call_replacing(
                "b",
                r##""@odata.type":"#microsoft.graph.callRecords.participantEndpoint","##,
                r##""@odata.type":"#microsoft.graph.callRecords.participantEndpoint","@odata.type":"#microsoft.graph.callRecords.participantEndpoint","##,
            ),
        ),
        (
            "a nested object",
            call_replacing(
                "b",
                r#""userAgent":{"platform":"windows"}"#,
                r#""userAgent":{"platform":"windows"},"userAgent":{"platform":"windows"}"#,
            ),
        ),
        (
            "an unknown key",
            call_replacing(
                "b",
                r#""type":"groupCall""#,
                r#""type":"groupCall","newThing":[1,{"a":2}],"newThing":[1,{"a":2}]"#,
            ),
        ),
        ("the sessions array", sessions_twice(&call("b"))),
    ];
    for (case, doc) in &cases {
        let run = check(
            case,
            &[("repeats.ndjson", lines(&[&call("a"), doc, &call("c")]))],
            &["a", "b", "c"],
            &[],
        );
        assert_eq!(run.stats.repeated_keys, 1, "{case}");
    }
    // A record with a repeat that is rejected for something else counts no repeat.
    let bad = call_with(
        "b",
        r#","averageJitter":"PT0.01S","packetUtilization":"many""#,
    );
    let run = check(
        "repeat in a rejected record",
        &[("repeats.ndjson", lines(&[&call("a"), &bad]))],
        &["a"],
        &[rejected_at(
            "repeats.ndjson",
            2,
            "$.sessions[0].segments[0].media[0].streams[0].packetUtilization",
            "expected",
        )],
    );
    assert_eq!(run.stats.repeated_keys, 0);
}

#[test]
fn deep_nesting_huge_strings_and_numbers() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep_in_call = call_replacing(
        "b",
        r#""type":"groupCall""#,
        &format!(r#""type":"groupCall","x":{deep}"#),
    );
    check(
        "100 000 levels in a record",
        &[(
            "deep.ndjson",
            lines(&[&call("a"), &deep_in_call, &call("c")]),
        )],
        &["a", "c"],
        &[rejected(
            "deep.ndjson",
            2,
            "nesting deeper than the limit of 512 levels",
        )],
    );
    check(
        "100 000 levels at the top",
        &[("deep.json", lines(&[&call("a"), &deep, &call("c")]))],
        &["a", "c"],
        &[rejected(
            "deep.json",
            2,
            "nesting deeper than the limit of 512 levels",
        )],
    );

    let big = "x".repeat(100 << 20);
    let huge = call_replacing("b", "windows", &big);
    check(
        "a 100 MB string",
        &[("huge.ndjson", lines(&[&call("a"), &huge, &call("c")]))],
        &["a", "c"],
        &[rejected(
            "huge.ndjson",
            2,
            "a string longer than the limit of 16777216 bytes",
        )],
    );
    drop(huge);

    // A number beyond any float is not a value the lake can hold; 10 000 digits after the point
    // are a valid JSON number that rounds to the nearest double like any other.
    let digits = "9".repeat(10_000);
    for (case, doc, rejected_with) in [
        (
            "10 000 digits in a float column",
            call_with("b", &format!(r#","averagePacketLossRate":{digits}"#)),
            Some("invalid JSON"),
        ),
        (
            "10 000 digits in an unknown member",
            call_replacing(
                "b",
                r#""type":"groupCall""#,
                &format!(r#""type":"groupCall","big":{digits}"#),
            ),
            Some("invalid JSON"),
        ),
        (
            "10 000 fraction digits",
            call_with("b", &format!(r#","averagePacketLossRate":0.{digits}"#)),
            None,
        ),
    ] {
        let input = lines(&[&call("a"), &doc, &call("c")]);
        match rejected_with {
            Some(says) => check(
                case,
                &[("num.ndjson", input)],
                &["a", "c"],
                &[rejected("num.ndjson", 2, says)],
            ),
            None => check(case, &[("num.ndjson", input)], &["a", "b", "c"], &[]),
        };
    }
}

#[test]
fn json_syntax_errors() {
    let stream_metric = |v: &str| call_with("b", &format!(r#","averagePacketLossRate":{v}"#));
    let cases: Vec<(&str, String)> = vec![
        ("NaN", stream_metric("NaN")),
        ("Infinity", stream_metric("Infinity")),
        ("-Infinity", stream_metric("-Infinity")),
        (
            "trailing comma",
            call("b").replacen(r#""version":1,"#, r#""version":1,,"#, 1),
        ),
        (
            "single quotes",
            call("b").replacen(r#""windows""#, "'windows'", 1),
        ),
        (
            "comment",
            call("b").replacen(r#""version":1,"#, r#""version":1,/* c */"#, 1),
        ),
        (
            "unquoted key",
            call("b").replacen(r#""version":1"#, "version:1", 1),
        ),
        (
            "missing colon",
            call("b").replacen(r#""version":1"#, r#""version" 1"#, 1),
        ),
        (
            "invalid escape",
            call("b").replacen("windows", r"win\xdows", 1),
        ),
        (
            "lone surrogate escape",
            call("b").replacen("windows", r"win\ud800dows", 1),
        ),
        (
            "control character in a string",
            call("b").replacen("windows", "win\u{7}dows", 1),
        ),
        ("leading zero", stream_metric("01")),
        ("bare minus", stream_metric("-")),
        (
            "true misspelt",
            call("b").replacen(r#""version":1"#, r#""version":tru"#, 1),
        ),
    ];
    for (case, doc) in &cases {
        check(
            case,
            &[("syntax.ndjson", lines(&[&call("a"), doc, &call("c")]))],
            &["a", "c"],
            &[rejected("syntax.ndjson", 2, "invalid JSON")],
        );
    }
    // Structure the framer sees.
    check(
        "extra closing bracket",
        &[(
            "close.ndjson",
            lines(&[&call("a"), &format!("{}}}", call("b")), &call("c")]),
        )],
        &["a", "b", "c"],
        &[rejected("close.ndjson", 2, "unexpected byte '}'")],
    );
    check(
        "mismatched bracket",
        &[(
            "mismatch.ndjson",
            lines(&[
                &call("a"),
                &call("b").replacen("]}]}]}]}", "]}]}]}]]", 1),
                &call("c"),
            ]),
        )],
        &["a", "c"],
        &[rejected("mismatch.ndjson", 2, "does not match")],
    );
    check(
        "scalars at the top",
        &[(
            "scalars.ndjson",
            lines(&["42", &call("a"), "\"text\"", "null", "true"]),
        )],
        &["a"],
        &[
            rejected(
                "scalars.ndjson",
                1,
                "unexpected byte '4' outside a JSON document",
            ),
            rejected(
                "scalars.ndjson",
                3,
                "unexpected byte '\"' outside a JSON document",
            ),
            rejected(
                "scalars.ndjson",
                4,
                "unexpected byte 'n' outside a JSON document",
            ),
            rejected(
                "scalars.ndjson",
                5,
                "unexpected byte 't' outside a JSON document",
            ),
        ],
    );
}

// ---- pages and versions ---------------------------------------------------------------------

#[test]
fn page_shapes_that_are_wrong() {
    let ctx = "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords";
    // A bad item among good ones costs only itself.
    let page = format!(
        "{{\"@odata.context\":\"{ctx}\",\"value\":[\n{},\n42,\n{},\n\"x\",\n{}\n]}}",
        call("a"),
        call_replacing("b", r#""id":"b","#, ""),
        call("c")
    );
    check(
        "bad items in a page",
        &[("page.json", page.into_bytes())],
        &["a", "c"],
        &[
            rejected_at("page.json", 3, "$", "must be an object, not an integer"),
            rejected_at("page.json", 4, "$", "the call record has no id"),
            rejected_at("page.json", 5, "$", "must be an object, not a string"),
        ],
    );
    // A sessions page whose context names no call: its sessions cannot be placed.
    let session = r#"{"id":"s1","caller":{},"callee":{},"segments":[]}"#;
    for context in [
        "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords/sessions",
        "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('')/sessions",
    ] {
        let page =
            format!("{{\"@odata.context\":\"{context}\",\"value\":[\n{session},\n{session}\n]}}");
        check(
            context,
            &[
                ("sessions.json", page.into_bytes()),
                ("good.ndjson", lines(&[&call("a")])),
            ],
            &["a"],
            &[
                rejected("sessions.json", 2, "names no call record"),
                rejected("sessions.json", 3, "names no call record"),
            ],
        );
    }
}

#[test]
fn the_same_call_twice_with_different_versions() {
    // Both versions are read and flattened; the lake keeps the newest (see the CLI tests), so
    // neither is an error and nothing is rejected.
    let v1 = call("a");
    let v2 = call_replacing("a", r#""version":1"#, r#""version":2"#);
    let run = check(
        "two versions",
        &[("twice.ndjson", lines(&[&v2, &call("b"), &v1]))],
        &["a", "b", "a"],
        &[],
    );
    assert_eq!(run.stats.calls, 3);
}

#[test]
fn valid_oddities_are_not_errors() {
    let crlf = format!("{}\r\n{}\r\n", call("a"), call("b"));
    check(
        "CRLF lines",
        &[("crlf.ndjson", crlf.into_bytes())],
        &["a", "b"],
        &[],
    );
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&lines(&[&call("a"), &call("b")]));
    check("BOM then NDJSON", &[("bom.ndjson", bom)], &["a", "b"], &[]);
    let concatenated = format!("{}{}", call("a"), call("b"));
    check(
        "documents with nothing between them",
        &[("cat.json", concatenated.into_bytes())],
        &["a", "b"],
        &[],
    );
    let escaped = call("a").replacen("windows", r#"w\u0069n\"dows\\ \ud83d\ude00"#, 1);
    check(
        "escapes",
        &[("esc.ndjson", lines(&[&escaped]))],
        &["a"],
        &[],
    );
    let unknown_enum = call("a").replacen("groupCall", "someFutureType", 1);
    check(
        "an enum value the schema does not know",
        &[("enum.ndjson", lines(&[&unknown_enum]))],
        &["a"],
        &[],
    );
    let nulls = call_with(
        "a",
        r#","averagePacketLossRate":null,"packetUtilization":null"#,
    );
    check("nulls", &[("null.ndjson", lines(&[&nulls]))], &["a"], &[]);
}

#[test]
fn a_failed_item_costs_only_itself_in_arrays_and_pages() {
    let deep = call_replacing(
        "b",
        r#""type":"groupCall""#,
        &format!(
            r#""type":"groupCall","x":{}{}"#,
            "[".repeat(600),
            "]".repeat(600)
        ),
    );
    let mismatched = call("b").replacen("]}]}]}]}", "]}]}]]]}", 1);
    let long = call_replacing("b", "windows", &"w".repeat(17 << 20));
    let ctx = "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords";
    let long_scalar = format!("\"{}\"", "s".repeat(17 << 20));
    // (case, item, what an array says, what a page says)
    for (case, bad, in_array, in_page) in [
        (
            "too deep",
            deep.as_str(),
            "nesting deeper than the limit of 512 levels",
            "",
        ),
        ("mismatched", mismatched.as_str(), "does not match", ""),
        (
            "string too long",
            long.as_str(),
            "a string longer than the limit",
            "",
        ),
        // A top-level array's elements must be objects: the framer skips anything else.
        (
            "scalar string too long",
            long_scalar.as_str(),
            "unexpected byte '\"'",
            "a string longer than the limit",
        ),
    ] {
        let in_page = if in_page.is_empty() {
            in_array
        } else {
            in_page
        };
        let array = format!("[\n{},\n{bad},\n{}\n]\n", call("a"), call("c"));
        check(
            &format!("array: {case}"),
            &[
                ("array.json", array.into_bytes()),
                ("after.ndjson", lines(&[&call("d")])),
            ],
            &["a", "c", "d"],
            &[rejected("array.json", 3, in_array)],
        );
        let page = format!(
            "{{\"@odata.context\":\"{ctx}\",\n\"value\":[\n{},\n{bad},\n{}\n],\n\"@odata.nextLink\":\"https://next\"}}\n{}\n",
            call("a"),
            call("c"),
            call("d")
        );
        let run = check(
            &format!("page: {case}"),
            &[("page.json", page.into_bytes())],
            &["a", "c", "d"],
            &[rejected("page.json", 4, in_page)],
        );
        assert_eq!(run.stats.pages, 1, "{case}");
        assert_eq!(
            run.stats.pages_with_next_link, 1,
            "{case}: the page's end was read"
        );
    }
    // A page cut off inside a failed item: the item is reported once, the items before it stand.
    let page = format!(
        "{{\"@odata.context\":\"{ctx}\",\n\"value\":[\n{},\n{}",
        call("a"),
        &deep[..deep.len() / 2]
    );
    check(
        "page cut inside a failed item",
        &[("page.json", page.into_bytes())],
        &["a"],
        &[
            rejected("page.json", 4, "nesting deeper than the limit"),
            rejected("page.json", 1, "input ends inside a JSON document"),
        ],
    );
}
