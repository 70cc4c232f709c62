//! A session id that Graph repeats within a call (once per identity involved: an auto
//! attendant, then a call queue) is numbered by occurrence wherever it comes from: the reader
//! numbers the items of a sessions page in input order, so the number does not depend on which
//! worker flattens an item; inside one expanded record the flattener numbers them and writes the
//! repeated media and streams once, from the last occurrence.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int32Type;
use cqlake_ingest::input::Input;
use cqlake_ingest::source::{self, PipelineOptions};
use cqlake_schema::TableId;
use cqlake_schema::batch::FlatBatch;

fn flows(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-data/call-flows")
        .join(name)
}

/// The batches of a run over `files` with work units of `unit_bytes`.
fn run(files: &[PathBuf], unit_bytes: usize) -> Vec<FlatBatch> {
    let spill = tempfile::tempdir().unwrap();
    let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
    let options = PipelineOptions::default()
        .with_threads(2)
        .with_unit_bytes(unit_bytes)
        .with_spill_dir(spill.path());
    let mut batches = Vec::new();
    let stats = source::run(&inputs, &options, &|_| {}, &|p| p.complete(), &mut |d| {
        assert!(d.rejects.is_empty(), "{:?}", d.rejects);
        batches.extend(d.batch);
        Ok(())
    })
    .unwrap();
    assert_eq!(stats.rejected, 0);
    batches
}

/// `(input order, session id, occurrence, segment id or "")` of every row of `t`.
fn keys(batches: &[FlatBatch], t: TableId) -> Vec<(u64, String, i32, String)> {
    let mut out = Vec::new();
    for b in batches {
        let batch = &b.batches[t.index()];
        let sid = batch
            .column_by_name("session_id")
            .unwrap()
            .as_string::<i32>();
        let occ = batch
            .column_by_name("session_occurrence")
            .unwrap()
            .as_primitive::<Int32Type>();
        let seg = batch
            .column_by_name("segment_id")
            .map(|c| c.as_string::<i32>().clone());
        for r in 0..batch.num_rows() {
            out.push((
                b.orders[t.index()][r],
                sid.value(r).to_string(),
                occ.value(r),
                seg.as_ref()
                    .filter(|s| s.is_valid(r))
                    .map_or(String::new(), |s| s.value(r).to_string()),
            ));
        }
    }
    out.sort();
    out
}

fn rows(batches: &[FlatBatch], t: TableId) -> usize {
    batches.iter().map(|b| b.rows(t)).sum()
}

const A: &str = "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a01";

#[test]
fn items_of_a_sessions_page_are_numbered_by_the_reader_in_input_order() {
    // Units of one byte: every item is a unit of its own, and two workers take them.
    for unit_bytes in [1, 1 << 20] {
        let batches = run(&[flows("aa-cq-answered.sessions.json")], unit_bytes);
        let sessions: Vec<(String, i32)> = keys(&batches, TableId::Sessions)
            .into_iter()
            .map(|(_, s, o, _)| (s, o))
            .collect();
        let expected: Vec<(String, i32)> = [
            (A, 0),
            (A, 1),
            (A, 2),
            ("0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a02", 0),
            ("0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a03", 0),
            ("0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a04", 0),
        ]
        .iter()
        .map(|(s, o)| (s.to_string(), *o))
        .collect();
        assert_eq!(sessions, expected, "units of {unit_bytes} bytes");
        let segments: Vec<i32> = keys(&batches, TableId::Segments)
            .into_iter()
            .filter(|k| k.1 == A)
            .map(|k| k.2)
            .collect();
        assert_eq!(segments, [0, 1, 2]);
        // A page's items are flattened one by one: each occurrence writes its media and
        // streams, and the lake keeps the last one's (see the lake's plan).
        assert_eq!(rows(&batches, TableId::Media), 5);
        assert_eq!(rows(&batches, TableId::Streams), 10);
    }
}

#[test]
fn an_expanded_record_writes_every_occurrence_and_the_repeated_streams_once() {
    let batches = run(&[flows("aa-cq-abandoned.expanded.json")], 1 << 20);
    let x = "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a11";
    let sessions: Vec<(String, i32)> = keys(&batches, TableId::Sessions)
        .into_iter()
        .map(|(_, s, o, _)| (s, o))
        .collect();
    assert_eq!(
        sessions,
        [
            (x.to_string(), 0),
            (x.to_string(), 1),
            ("0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a12".to_string(), 0)
        ]
    );
    assert_eq!(rows(&batches, TableId::Segments), 3);
    assert_eq!(rows(&batches, TableId::Media), 1);
    assert_eq!(rows(&batches, TableId::Streams), 2);
    // The streams' session context is the last occurrence's: the call queue.
    let b = batches
        .iter()
        .find(|b| b.rows(TableId::Streams) > 0)
        .unwrap();
    let s = &b.batches[TableId::Streams.index()];
    let callee = s
        .column_by_name("session_callee_identity_application_instance_display_name")
        .unwrap()
        .as_string::<i32>();
    let started = s
        .column_by_name("segment_start_date_time")
        .unwrap()
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
    for r in 0..s.num_rows() {
        assert_eq!(callee.value(r), "Contoso Support Queue");
        // 2024-05-07T10:00:15Z, the queue's slice of the segment.
        assert_eq!(started.value(r), 1_715_076_015_000_000);
    }
}
