//! Tests of the generator: determinism, every container parses and frames, follow-up pages,
//! threshold values, and the stats against counts taken from the output itself.

use std::collections::HashMap;
use std::io::Read;

use cqlake_schema::TableId;
use serde_json::Value;

use super::*;
use cqlake_ingest::decode::{Decoder, Outcome, PageKind, odata_context, page_kind};
use cqlake_ingest::frame::{FrameKind, Framer};

const ALL: [Container; 6] = [
    Container::Ndjson,
    Container::Array,
    Container::Concat,
    Container::Page,
    Container::PrettyPage,
    Container::Expanded,
];

/// A small corpus with a few large calls, so every container has follow-up material.
fn small(seed: u64, calls: u64) -> Generator {
    Generator::new(seed)
        .with_calls(calls)
        .with_large_call_share(0.2)
        .with_huge_call_share(0.05)
}

fn generate(g: &Generator) -> (Vec<u8>, GenStats) {
    let mut out = Vec::new();
    let stats = g.write_to(&mut out).expect("writing to a Vec works");
    (out, stats)
}

/// Every top-level JSON document of `bytes` (concatenated, NDJSON or a single one).
fn documents(bytes: &[u8]) -> Vec<Value> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("the output is valid JSON")
}

/// One call record, or a follow-up page, as found in the output.
#[derive(Debug)]
enum Item {
    Call(Value),
    Sessions { call_id: String, value: Vec<Value> },
    Participants { call_id: String, value: Vec<Value> },
}

fn items(bytes: &[u8]) -> Vec<Item> {
    let mut out = Vec::new();
    for doc in documents(bytes) {
        match doc {
            Value::Array(calls) => out.extend(calls.into_iter().map(Item::Call)),
            Value::Object(ref o) if o.contains_key("value") => {
                let ctx = o["@odata.context"].as_str().expect("pages have a context");
                let value = o["value"].as_array().expect("value is an array").clone();
                match page_kind(Some(ctx)) {
                    PageKind::CallRecords => out.extend(value.into_iter().map(Item::Call)),
                    PageKind::Sessions { call_id } => out.push(Item::Sessions { call_id, value }),
                    PageKind::Participants { call_id } => {
                        out.push(Item::Participants { call_id, value })
                    }
                    other => panic!("unexpected page {other:?}"),
                }
            }
            call => out.push(Item::Call(call)),
        }
    }
    out
}

fn len(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(0, |a| a.len() as u64)
}

fn session_rows(s: &Value, rows: &mut [u64; 6]) {
    rows[TableId::Sessions.index()] += 1;
    for g in s["segments"].as_array().unwrap() {
        rows[TableId::Segments.index()] += 1;
        for m in g["media"].as_array().unwrap() {
            rows[TableId::Media.index()] += 1;
            rows[TableId::Streams.index()] += len(m, "streams");
        }
    }
}

/// The rows the lake must hold, counted from the parsed output: per call id the record of the
/// highest `version` (then `lastModifiedDateTime`) wins, with the follow-up pages that came after
/// it.
fn count_rows(bytes: &[u8]) -> ([u64; 6], u64) {
    let mut best: HashMap<String, ((i64, String), [u64; 6])> = HashMap::new();
    let mut current: Option<(String, (i64, String))> = None;
    let mut records = 0;
    for item in items(bytes) {
        match item {
            Item::Call(c) => {
                records += 1;
                let id = c["id"].as_str().unwrap().to_string();
                let key = (
                    c["version"].as_i64().unwrap(),
                    c["lastModifiedDateTime"].as_str().unwrap().to_string(),
                );
                let mut rows = [0u64; 6];
                rows[TableId::Calls.index()] = 1;
                rows[TableId::Participants.index()] =
                    len(&c, "participants_v2") + len(&c, "participants");
                for s in c["sessions"].as_array().unwrap() {
                    session_rows(s, &mut rows);
                }
                let e = best.entry(id.clone()).or_insert((key.clone(), [0; 6]));
                if key >= e.0 {
                    *e = (key.clone(), rows);
                }
                current = Some((id, key));
            }
            Item::Sessions { call_id, value } => {
                let (id, key) = current.as_ref().expect("a page follows its call");
                assert_eq!(&call_id, id, "a follow-up page names its call");
                let e = best.get_mut(id).unwrap();
                if &e.0 == key {
                    for s in &value {
                        assert!(s.get("id").is_some());
                        session_rows(s, &mut e.1);
                    }
                }
            }
            Item::Participants { call_id, value } => {
                let (id, key) = current.as_ref().expect("a page follows its call");
                assert_eq!(&call_id, id);
                let e = best.get_mut(id).unwrap();
                if &e.0 == key {
                    assert!(value.iter().all(|p| p["id"].is_string()));
                    e.1[TableId::Participants.index()] += value.len() as u64;
                }
            }
        }
    }
    let mut total = [0u64; 6];
    for (_, rows) in best.values() {
        for (t, r) in total.iter_mut().zip(rows) {
            *t += r;
        }
    }
    (total, records)
}

/// Frames `bytes` with the crate's framer and flattens every unit with its decoder, as
/// `cqlake convert` does; returns the flattened rows per table and the outcomes.
fn flatten(bytes: &[u8]) -> ([u64; 6], Vec<Outcome>) {
    let mut framer = Framer::new();
    let mut decoder = Decoder::new();
    let mut outcomes = Vec::new();
    let mut page = PageKind::Unknown;
    let mut on_frame = |f: cqlake_ingest::frame::Frame<'_>| match &f.kind {
        FrameKind::Error(e) => panic!("framing error {e} at byte {}", f.offset),
        FrameKind::PageStart { .. } => page = page_kind(odata_context(f.bytes).as_deref()),
        _ => outcomes.push(decoder.decode(f.bytes, &f.kind, &page)),
    };
    for chunk in bytes.chunks(64 * 1024 + 7) {
        framer.push(chunk, &mut on_frame);
    }
    framer.finish(&mut on_frame);
    let batch = decoder.flattener.finish();
    let mut rows = [0u64; 6];
    for t in TableId::ALL {
        rows[t.index()] = batch.rows(t) as u64;
    }
    (rows, outcomes)
}

#[test]
fn generate_is_deterministic_and_seeds_differ() {
    for c in ALL {
        let g = small(42, 12).with_container(c).with_revisions(0.3);
        let (a, sa) = generate(&g);
        let (b, sb) = generate(&g);
        assert!(a == b, "{}: same seed, same bytes", c.name());
        assert_eq!(sa, sb);
        let (other, _) = generate(&small(43, 12).with_container(c).with_revisions(0.3));
        assert!(a != other, "{}: another seed, other bytes", c.name());
    }
    // The model of a call does not depend on the calls around it.
    let g = Generator::new(5);
    assert_eq!(g.call(17), Generator::new(5).with_calls(3).call(17));
    assert_ne!(g.call(17), g.call(18));
}

#[test]
fn generate_every_container_parses_frames_and_matches_its_stats() {
    for c in ALL {
        let g = small(7, 25).with_container(c);
        let (out, stats) = generate(&g);
        assert_eq!(stats.bytes, out.len() as u64, "{}", c.name());
        assert_eq!(stats.bytes_out, stats.bytes);
        assert_eq!((stats.calls, stats.records), (25, 25));
        let (rows, records) = count_rows(&out);
        assert_eq!(records, 25, "{}", c.name());
        assert_eq!(
            rows,
            stats.table_rows,
            "{}: stats vs parsed output",
            c.name()
        );
        let (flat, outcomes) = flatten(&out);
        assert!(
            !outcomes.iter().any(|o| matches!(o, Outcome::Rejected(_))),
            "{}: {:?}",
            c.name(),
            outcomes.iter().find(|o| matches!(o, Outcome::Rejected(_)))
        );
        let calls = outcomes.iter().filter(|o| **o == Outcome::Call).count();
        assert_eq!(calls, 25, "{}", c.name());
        if c != Container::Expanded {
            assert_eq!(flat, stats.table_rows, "{}: flattened rows", c.name());
        } else {
            let sessions = outcomes.iter().filter(|o| **o == Outcome::Session).count();
            let participants = outcomes
                .iter()
                .filter(|o| **o == Outcome::Participant)
                .count();
            assert_eq!(sessions as u64, stats.page_sessions);
            assert_eq!(participants as u64, stats.page_participants);
            assert_eq!(flat, stats.table_rows, "expanded: flattened rows");
        }
        let streams: u64 = stats.streams_by_label.values().sum();
        assert_eq!(streams, stats.rows(TableId::Streams));
    }
}

#[test]
fn generate_stats_resolve_revisions_to_the_highest_version() {
    for c in [Container::Ndjson, Container::Expanded, Container::Page] {
        let g = small(11, 60)
            .with_container(c)
            .with_revisions(0.4)
            .with_revision_delay(5);
        let (out, stats) = generate(&g);
        assert_eq!(stats.calls, 60);
        assert!(stats.revisions > 10, "{stats:?}");
        assert_eq!(stats.records, stats.calls + stats.revisions);
        let (rows, records) = count_rows(&out);
        assert_eq!(records, stats.records);
        assert_eq!(rows, stats.table_rows, "{}", c.name());
        assert_eq!(rows[TableId::Calls.index()], 60);
    }
    // Revisions come later, with a higher version and a later lastModifiedDateTime.
    let g = Generator::new(3).with_revisions(1.0);
    let mut seen: HashMap<u64, CallModel> = HashMap::new();
    for (e, call) in g.records(30) {
        match seen.get(&e.index) {
            None => assert_eq!(e.revision, 0),
            Some(prev) => {
                assert_eq!(call.version, prev.version + 1);
                // A revision keeps every session of the previous record (and may add one).
                assert!(
                    prev.sessions
                        .iter()
                        .zip(&call.sessions)
                        .all(|(a, b)| a.id == b.id)
                );
                assert!(call.sessions.len() >= prev.sessions.len());
                assert!(call.last_modified > prev.last_modified);
                assert_eq!(call.id, prev.id);
            }
        }
        seen.insert(e.index, call);
    }
    assert_eq!(seen.len(), 30);
}

#[test]
fn generate_expanded_splits_sessions_beyond_60_and_participants_beyond_130() {
    let g = Generator::new(9)
        .with_calls(3)
        .with_group_call_share(1.0)
        .with_huge_call_share(1.0)
        .with_container(Container::Expanded);
    let (out, stats) = generate(&g);
    assert!(stats.session_pages >= 6, "{stats:?}");
    assert!(stats.participant_pages >= 2, "{stats:?}");
    let docs = documents(&out);
    let mut i = 0;
    while i < docs.len() {
        let call = &docs[i];
        let id = call["id"].as_str().expect("a call document");
        let sessions = call["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 60, "the first page holds 60 sessions");
        assert!(call["sessions@odata.nextLink"].is_string());
        assert!(
            call.get("participants_v2")
                .map_or(0, |p| p.as_array().unwrap().len())
                <= 130
        );
        i += 1;
        let mut follow = 0;
        while i < docs.len() && docs[i].get("value").is_some() {
            let page = &docs[i];
            let ctx = page["@odata.context"].as_str().unwrap();
            assert!(ctx.contains(&format!("callRecords('{id}')/")), "{ctx}");
            assert!(page["value"].as_array().unwrap().len() <= 130);
            for item in page["value"].as_array().unwrap() {
                assert!(item.get("id").is_some());
                if ctx.ends_with("/sessions") {
                    assert!(item["segments"].is_array());
                }
            }
            // Every page but the last of its kind links to the next.
            let last_of_kind = docs
                .get(i + 1)
                .and_then(|d| d.get("@odata.context"))
                .and_then(Value::as_str)
                != Some(ctx);
            assert_eq!(
                page.get("@odata.nextLink").is_some(),
                !last_of_kind,
                "{ctx}"
            );
            follow += 1;
            i += 1;
        }
        assert!(follow >= 2, "sessions and participants follow the call");
    }
    // With the expansion limit raised, the same calls fit in one document each.
    let (one, s) = generate(
        &g.clone()
            .with_sessions_per_page(1000)
            .with_participants_per_page(1000),
    );
    assert_eq!(
        (s.session_pages, s.participant_pages, s.documents),
        (0, 0, 3)
    );
    assert_eq!(documents(&one).len(), 3);
    assert_eq!(s.table_rows, stats.table_rows);
}

/// Every duration and number of the audio metrics of the main-audio streams.
fn audio_values(bytes: &[u8]) -> HashMap<&'static str, Vec<f64>> {
    let mut v: HashMap<&'static str, Vec<f64>> = HashMap::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let call: Value = serde_json::from_slice(line).unwrap();
        for s in call["sessions"].as_array().unwrap() {
            for g in s["segments"].as_array().unwrap() {
                for m in g["media"].as_array().unwrap() {
                    if m["label"] != "main-audio" {
                        continue;
                    }
                    for st in m["streams"].as_array().unwrap() {
                        for (k, dur) in [
                            ("averageJitter", true),
                            ("averageRoundTripTime", true),
                            ("averagePacketLossRate", false),
                            ("averageAudioDegradation", false),
                            ("averageRatioOfConcealedSamples", false),
                        ] {
                            let x = match (&st[k], dur) {
                                (Value::String(s), true) => {
                                    cqlake_ingest::values::parse_duration_ms(s).unwrap()
                                }
                                (Value::Number(n), false) => n.as_f64().unwrap(),
                                _ => continue,
                            };
                            v.entry(k).or_default().push(x);
                        }
                    }
                }
            }
        }
    }
    v
}

#[test]
fn generate_audio_metrics_cross_and_touch_every_threshold() {
    let g = Generator::new(2024)
        .with_calls(2000)
        .with_group_call_share(0.1)
        .with_large_call_share(0.0)
        .with_huge_call_share(0.0);
    let (out, stats) = generate(&g);
    let v = audio_values(&out);
    let mut streams = 0;
    for (k, threshold) in [
        ("averageJitter", 30.0),
        ("averageRoundTripTime", 500.0),
        ("averagePacketLossRate", 0.1),
        ("averageAudioDegradation", 1.0),
        ("averageRatioOfConcealedSamples", 0.07),
    ] {
        let xs = &v[k];
        let above = xs.iter().filter(|x| **x > threshold).count();
        let at = xs.iter().filter(|x| **x == threshold).count();
        let share = above as f64 / xs.len() as f64;
        assert!(at > 0, "{k}: some values exactly at {threshold}");
        assert!(
            (0.005..0.12).contains(&share),
            "{k}: a few percent poor, got {share} ({above} of {})",
            xs.len()
        );
        streams = streams.max(xs.len());
    }
    assert!(streams > 2000, "{streams}");
    // Most metrics are present, some are missing.
    let audio = stats.streams_by_label["main-audio"] as usize;
    let jitter = v["averageJitter"].len();
    assert!(
        jitter < audio && jitter > audio * 8 / 10,
        "{jitter} of {audio}"
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#""averageJitter":"PT0.03S""#));
    assert!(text.contains(r#""averageRoundTripTime":"PT0.5S""#));
    assert!(text.contains(r#""averageJitter":null"#));
    for codec in ["satin", "silk", "opus", "g722"] {
        assert!(
            text.contains(&format!(r#""audioCodec":"{codec}""#)),
            "{codec}"
        );
    }
}

#[test]
fn generate_covers_the_value_space() {
    let (out, stats) = generate(&Generator::new(77).with_calls(400).with_shape(Shape::Mixed));
    let text = String::from_utf8(out).unwrap();
    for needle in [
        // labels and kinds
        r#""label":"main-audio""#,
        r#""label":"main-video""#,
        r#""label":"applicationsharing-video""#,
        r#""label":"data""#,
        // feedback ratings and tokens
        r#""rating":"notRated""#,
        r#""rating":"bad""#,
        r#""rating":"poor""#,
        r#""rating":"fair""#,
        r#""rating":"good""#,
        r#""rating":"excellent""#,
        r#""tokens":{"NoSound":"#,
        // failures
        r#""stage":"callSetup""#,
        r#""stage":"midcall""#,
        // networks
        r#""connectionType":"wired""#,
        r#""connectionType":"wifi""#,
        r#""connectionType":"mobile""#,
        r#""connectionType":"tunnel""#,
        r#""connectionType":"unknown""#,
        r#""wifiBand":"frequency50GHz""#,
        r#""wifiRadioType":"wifi80211ax""#,
        r#""linkSpeed":4294967295"#,
        r#""relayIPAddress":"52."#,
        r#""traceRouteHops":[{"hopCount":1"#,
        r#""subnet":"10."#,
        // user agents
        r#""platform":"windows""#,
        r#""platform":"macOS""#,
        r#""platform":"iOS""#,
        r#""platform":"android""#,
        r#""platform":"web""#,
        r#""productFamily":"teams""#,
        r#""productFamily":"skypeForBusiness""#,
        r#""productFamily":"lync""#,
        r#""role":"skypeForBusinessAudioVideoMcu""#,
        // identities, v1.0 and beta shapes
        r#""associatedIdentity":{"#,
        r#""identity":{"#,
        r#""participants_v2":["#,
        r#""participants":["#,
        r#""organizer_v2":{"#,
        r#""organizer":{"#,
        r#""guest":{"#,
        r#""phone":{"id":"+1425"#,
        r#""administrativeUnitInfos":[{"id":"#,
        // keys not in the schema
        r#""acsUser":{"#,
        // nulls and types
        r#""dnsSuffix":null"#,
        r#""averageFreezeDuration":"PT1M"#,
        r#""videoCodec":"h264""#,
        r#""averageVideoFrameRate":"#,
        r#""postForwardErrorCorrectionPacketLossRate":"#,
    ] {
        assert!(text.contains(needle), "no {needle}");
    }
    assert!(
        pools::UNKNOWN_STREAM_KEYS
            .iter()
            .any(|(k, _)| text.contains(&format!("\"{k}\":"))),
        "an unknown stream key"
    );
    assert!(
        pools::NEW_TOKENS
            .iter()
            .any(|k| text.contains(&format!("\"{k}\":"))),
        "an unknown token"
    );
    let subnets: std::collections::HashSet<&str> = text
        .match_indices(r#""subnet":"10."#)
        .map(|(i, _)| {
            let rest = &text[i + 10..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert!(
        subnets.len() > 100 && subnets.len() <= pools::SUBNETS,
        "{}",
        subnets.len()
    );
    assert!(
        stats.streams_by_label.len() >= 5,
        "{:?}",
        stats.streams_by_label
    );
    // Timestamps have seven fractional digits.
    let i = text.find(r#""startDateTime":""#).unwrap() + 17;
    assert_eq!(text.as_bytes()[i + 19], b'.');
    assert_eq!(text.as_bytes()[i + 27], b'Z');
}

#[test]
fn generate_compression_bom_and_target_size() {
    let g = small(5, 20).with_container(Container::Array);
    let (plain, plain_stats) = generate(&g);
    let (gz, gz_stats) = generate(&g.clone().with_compression(Compression::Gzip));
    let (zst, zst_stats) = generate(&g.clone().with_compression(Compression::Zstd));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert!(unzipped == plain);
    assert!(zstd::decode_all(&zst[..]).unwrap() == plain);
    assert_eq!(gz_stats.bytes, plain_stats.bytes);
    assert_eq!(gz_stats.bytes_out, gz.len() as u64);
    assert_eq!(zst_stats.bytes_out, zst.len() as u64);
    assert!(gz.len() * 4 < plain.len() && zst.len() * 4 < plain.len());

    let (bom, bom_stats) = generate(&g.clone().with_bom(true));
    assert!(bom.starts_with(BOM) && bom[3..] == plain[..]);
    assert_eq!(bom_stats.bytes, plain_stats.bytes + 3);
    assert_eq!(flatten(&bom).0, plain_stats.table_rows);

    let target = 300_000;
    let (sized, s) = generate(
        &Generator::new(5)
            .with_target_bytes(target)
            .with_revisions(0.2),
    );
    assert!(s.bytes >= target);
    let (_, smaller) = generate(
        &Generator::new(5)
            .with_calls(s.calls - 1)
            .with_revisions(0.2),
    );
    assert!(
        smaller.bytes < s.bytes,
        "the call count stops at the target"
    );
    assert_eq!(count_rows(&sized).0, s.table_rows);
}

#[test]
fn generate_directory_holds_one_file_per_document() {
    let dir = std::env::temp_dir().join(format!("cqlake-gen-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let g = Generator::new(9)
        .with_calls(4)
        .with_group_call_share(1.0)
        .with_large_call_share(1.0)
        .with_container(Container::Expanded);
    let stats = g.clone().with_bom(true).write_dir(&dir).unwrap();
    let (stream, _) = generate(&g);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len() as u64, stats.documents);
    assert_eq!(stats.files, stats.documents);
    assert!(stats.session_pages >= 4);
    assert_eq!(names[0], "00000000.json");
    let mut joined = Vec::new();
    for n in &names {
        let bytes = std::fs::read(dir.join(n)).unwrap();
        assert!(bytes.starts_with(BOM), "{n}");
        joined.extend_from_slice(&bytes[3..]);
    }
    assert!(joined == stream, "the files are the stream's documents");
    assert_eq!(stats.bytes, stream.len() as u64 + 3 * stats.files);
    let _ = std::fs::remove_dir_all(&dir);
}
