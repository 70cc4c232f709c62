//! cqlake's pipeline, stage by stage: frame, parse, flatten (with parse), assemble Arrow
//! batches, write (Parquet and Delta), and convert end to end, each with `Throughput::Bytes` of
//! input JSON, on NDJSON and on one pretty-printed collection page.

use std::io::Write as _;

use cqlake_benches::{convert_into, corpus, corpus_bytes};
use cqlake_gen::Container;
use cqlake_ingest::decode::{Decoder, PageKind, odata_context, page_kind};
use cqlake_ingest::frame::{FrameKind, Framer};
use cqlake_lake::{LakeWriter, ParquetWriter};
use cqlake_schema::TableId;
use cqlake_schema::batch::FlatBatch;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// The framed units of `input`: (kind, page kind, bytes).
fn framed(input: &[u8]) -> Vec<(FrameKind, PageKind, Vec<u8>)> {
    let mut out = Vec::new();
    let mut page = PageKind::Unknown;
    let mut f = Framer::new();
    let mut cb = |fr: cqlake_ingest::frame::Frame<'_>| match fr.kind {
        FrameKind::PageStart { .. } => page = page_kind(odata_context(fr.bytes).as_deref()),
        FrameKind::Error(e) => panic!("generated data frames cleanly: {e}"),
        k => out.push((k, page.clone(), fr.bytes.to_vec())),
    };
    f.push(input, &mut cb);
    f.finish(&mut cb);
    out
}

fn flatten_all(units: &[(FrameKind, PageKind, Vec<u8>)]) -> FlatBatch {
    let mut d = Decoder::new();
    for (k, p, b) in units {
        d.decode(b, k, p);
    }
    d.flattener.finish()
}

fn corpora() -> Vec<(&'static str, Vec<u8>)> {
    let bytes = corpus_bytes();
    vec![
        ("ndjson", corpus(Container::Ndjson, bytes).0),
        ("pretty-page", corpus(Container::PrettyPage, bytes).0),
    ]
}

fn stages(c: &mut Criterion) {
    for (name, input) in corpora() {
        let units = framed(&input);
        let mut g = c.benchmark_group(format!("stages/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function("frame", |b| {
            b.iter(|| {
                let mut n = 0usize;
                let mut f = Framer::new();
                f.push(&input, &mut |fr| n += fr.bytes.len());
                f.finish(&mut |fr| n += fr.bytes.len());
                n
            })
        });
        g.bench_function("parse", |b| {
            let mut buffers = simd_json::Buffers::default();
            let mut scratch = Vec::new();
            b.iter(|| {
                let mut nodes = 0usize;
                for (_, _, bytes) in &units {
                    scratch.clear();
                    scratch.extend_from_slice(bytes);
                    let mut tape = simd_json::Tape::null().reset();
                    simd_json::fill_tape(&mut scratch, &mut buffers, &mut tape)
                        .expect("generated JSON parses");
                    nodes += tape.0.len();
                }
                nodes
            })
        });
        g.bench_function("parse+flatten", |b| {
            b.iter(|| flatten_all(&units).rows(TableId::Streams))
        });
        let batch = flatten_all(&units);
        g.bench_function("write-parquet", |b| {
            b.iter_batched(
                || (tempfile::tempdir().expect("tempdir"), batch.clone()),
                |(dir, copy)| {
                    let mut w = ParquetWriter::create(dir.path().join("out")).expect("create");
                    w.push(copy).expect("write");
                    w.finish().expect("finish")
                },
                BatchSize::PerIteration,
            )
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        g.bench_function("write-delta", |b| {
            b.iter_batched(
                || (tempfile::tempdir().expect("tempdir"), batch.clone()),
                |(dir, copy)| {
                    rt.block_on(async {
                        let mut w = LakeWriter::open(dir.path()).await.expect("open");
                        w.push(copy).await.expect("push");
                        w.finish().await.expect("finish")
                    })
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("convert-end-to-end", |b| {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("input.json");
            std::fs::File::create(&path)
                .and_then(|mut f| f.write_all(&input))
                .expect("write the corpus");
            b.iter_batched(
                || tempfile::tempdir().expect("tempdir"),
                |lake| convert_into(&path, lake.path()),
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
