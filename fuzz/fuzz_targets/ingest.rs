//! The ingest path without I/O: any bytes framed and every unit decoded; every unit is either
//! converted or rejected (never both, never lost), and the rows make valid Arrow batches.
#![no_main]

use cqlake_ingest::decode::{Decoder, Outcome, PageKind, odata_context, page_kind};
use cqlake_ingest::frame::{FrameKind, Framer};
use cqlake_schema::TableId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new()
        .with_max_depth(64)
        .with_max_string_bytes(1 << 16);
    let mut d = Decoder::new();
    let mut page = PageKind::Unknown;
    let (mut units, mut outcomes) = (0usize, 0usize);
    let mut handle = |f: cqlake_ingest::frame::Frame<'_>| match &f.kind {
        FrameKind::PageStart { .. } => page = page_kind(odata_context(f.bytes).as_deref()),
        FrameKind::Error(_) => {}
        kind => {
            units += 1;
            let p = if matches!(kind, FrameKind::PageItem { .. } | FrameKind::PageEnd { .. }) {
                page.clone()
            } else {
                PageKind::Unknown
            };
            let before: Vec<usize> = TableId::ALL.iter().map(|t| d.flattener.rows(*t)).collect();
            let o = d.decode(f.bytes, kind, &p);
            if let Outcome::Rejected(_) = o {
                let after: Vec<usize> = TableId::ALL.iter().map(|t| d.flattener.rows(*t)).collect();
                assert_eq!(before, after, "a rejected unit left rows");
            }
            outcomes += 1;
            if matches!(kind, FrameKind::PageEnd { .. }) {
                page = PageKind::Unknown;
            }
        }
    };
    framer.push(data, &mut handle);
    framer.finish(&mut handle);
    assert_eq!(units, outcomes);
    if TableId::ALL.iter().all(|t| d.flattener.rows(*t) == 0) {
        return;
    }
    let batch = d.flattener.finish();
    for b in &batch.batches {
        for c in b.columns() {
            c.to_data().validate_full().expect("valid Arrow data");
        }
    }
});
