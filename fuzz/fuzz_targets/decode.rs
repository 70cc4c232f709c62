//! Parsing and flattening one unit: any bytes, as any kind of unit, never panic; a rejected unit
//! leaves no row behind; the rows kept make valid Arrow batches.
#![no_main]

use cqlake_ingest::decode::{Decoder, Outcome, PageKind};
use cqlake_ingest::frame::FrameKind;
use cqlake_schema::TableId;
use libfuzzer_sys::fuzz_target;

fn rows(d: &Decoder) -> Vec<usize> {
    TableId::ALL.iter().map(|t| d.flattener.rows(*t)).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    let cases = [
        (FrameKind::Document, PageKind::Unknown),
        (FrameKind::ArrayItem { index: 0 }, PageKind::Unknown),
        (
            FrameKind::PageItem { page: 0, index: 0 },
            PageKind::CallRecords,
        ),
        (
            FrameKind::PageItem { page: 0, index: 1 },
            PageKind::Sessions {
                call_id: "c".into(),
            },
        ),
        (
            FrameKind::PageItem { page: 0, index: 2 },
            PageKind::Participants {
                call_id: "c".into(),
            },
        ),
        (FrameKind::PageEnd { page: 0, items: 3 }, PageKind::Unknown),
    ];
    for (kind, page) in &cases {
        let before = rows(&d);
        let outcome = d.decode(data, kind, page);
        if matches!(outcome, Outcome::Rejected(_)) {
            assert_eq!(rows(&d), before, "a rejected unit left rows: {outcome:?}");
        }
    }
    if rows(&d).iter().all(|&n| n == 0) {
        return; // nothing kept: no batch to check (and building 880 empty columns is slow)
    }
    let batch = d.flattener.finish();
    for (t, b) in TableId::ALL.iter().zip(&batch.batches) {
        assert_eq!(b.schema(), t.table().schema(), "{}", t.name());
        for c in b.columns() {
            c.to_data().validate_full().expect("valid Arrow data");
        }
    }
});
