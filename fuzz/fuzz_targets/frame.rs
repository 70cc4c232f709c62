//! Framing: any bytes, split anywhere, frame without panicking and the same whatever the split.
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
