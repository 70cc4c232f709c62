//! Framing: any bytes, split anywhere, frame without panicking and the same whatever the split;
//! with lines of NDJSON framed unchecked (a line parsed as JSON, or else framed again), the same
//! as with every byte scanned.
#![no_main]

use cqlake_ingest::frame::{FrameKind, Framer};
use libfuzzer_sys::fuzz_target;

/// (kind, bytes — not for errors, whose excerpt may stop at a push boundary —, offset, line)
type Framed = Vec<(FrameKind, Option<Vec<u8>>, u64, u64)>;

fn frame<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Framed {
    let mut f = Framer::new().with_max_depth(64).with_max_string_bytes(4096);
    let mut out = Vec::new();
    let mut cb = |fr: cqlake_ingest::frame::Frame<'_>| {
        let bytes = (!matches!(fr.kind, FrameKind::Error(_))).then(|| fr.bytes.to_vec());
        out.push((fr.kind, bytes, fr.offset, fr.line));
    };
    for c in chunks {
        f.push(c, &mut cb);
    }
    f.finish(&mut cb);
    out
}

/// As [`frame`], with NDJSON lines framed unchecked: a line that simd-json parses (at most 64
/// deep) is one document, any other is framed again, as the pipeline's workers do.
fn frame_unchecked<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Framed {
    let mut f = Framer::new()
        .with_max_depth(64)
        .with_max_string_bytes(4096)
        .with_unchecked_lines(true);
    let mut again = Framer::new().with_max_depth(64).with_max_string_bytes(4096);
    let mut buffers = simd_json::Buffers::with_max_depth(128, 64);
    let mut out = Vec::new();
    let mut keep = |fr: cqlake_ingest::frame::Frame<'_>, out: &mut Framed| {
        let bytes = (!matches!(fr.kind, FrameKind::Error(_))).then(|| fr.bytes.to_vec());
        out.push((fr.kind, bytes, fr.offset, fr.line));
    };
    let mut cb = |fr: cqlake_ingest::frame::Frame<'_>| {
        if fr.checked {
            return keep(fr, &mut out);
        }
        let mut copy = fr.bytes.to_vec();
        if simd_json::to_tape_with_buffers(&mut copy, &mut buffers).is_ok() {
            keep(fr, &mut out);
        } else {
            again.frame_line(fr.bytes, fr.offset, fr.line, &mut |g| keep(g, &mut out));
        }
    };
    for c in chunks {
        f.push(c, &mut cb);
    }
    f.finish(&mut cb);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let whole = frame(std::iter::once(input));
    let at = split as usize % (input.len() + 1);
    let halves = frame([&input[..at], &input[at..]].into_iter());
    assert_eq!(
        whole, halves,
        "framing depends on where the input is split ({at})"
    );
    // Byte by byte for small inputs (every split at once); in pieces of 7 otherwise.
    let size = if input.len() <= 4096 { 1 } else { 7 };
    let pieces = frame(input.chunks(size));
    assert_eq!(whole, pieces, "framing depends on the push size ({size})");
    assert_eq!(
        whole,
        frame_unchecked(std::iter::once(input)),
        "unchecked lines frame otherwise"
    );
    assert_eq!(
        whole,
        frame_unchecked(input.chunks(size)),
        "unchecked lines frame otherwise in pieces of {size}"
    );
    for (kind, bytes, offset, _) in &whole {
        assert!(*offset <= input.len() as u64, "{kind:?} at {offset}");
        if let (FrameKind::Document | FrameKind::ArrayItem { .. }, Some(b)) = (kind, bytes) {
            let start = *offset as usize;
            assert_eq!(
                &input[start..start + b.len()],
                &b[..],
                "a document frame is the input's bytes at its offset"
            );
        }
    }
});
