//! Shared setup of cqlake's criterion benchmarks (`cargo bench -p cqlake-benches`): generated
//! corpora with a fixed seed, so runs compare across commits.
//!
//! Run as `cargo bench`, a corpus is [`BENCH_BYTES`] (or `CQLAKE_BENCH_MB` megabytes); run as a
//! test (`cargo test --benches`, as CI does), it is [`SMOKE_BYTES`], so every bench is exercised
//! once, quickly.

use cqlake_gen::{Container, GenStats, Generator};

pub mod replicate;

/// The seed of every generated corpus.
pub const SEED: u64 = 20_261_124;
/// Corpus size under `cargo bench`.
pub const BENCH_BYTES: u64 = 64 * 1024 * 1024;
/// Corpus size when the benches run as tests.
pub const SMOKE_BYTES: u64 = 1024 * 1024;

/// True when criterion runs for measurements (`cargo bench` passes `--bench`).
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The corpus size for this run: `CQLAKE_BENCH_MB` megabytes, else [`BENCH_BYTES`] when
/// measuring and [`SMOKE_BYTES`] when testing.
pub fn corpus_bytes() -> u64 {
    match std::env::var("CQLAKE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(mb) => mb * 1024 * 1024,
        None if measuring() => BENCH_BYTES,
        None => SMOKE_BYTES,
    }
}

/// A generated corpus of about `bytes` in `container`, and its ground truth.
pub fn corpus(container: Container, bytes: u64) -> (Vec<u8>, GenStats) {
    let mut out = Vec::with_capacity(bytes as usize + (1 << 20));
    let stats = Generator::new(SEED)
        .with_target_bytes(bytes)
        .with_container(container)
        .write_to(&mut out)
        .expect("writing to memory cannot fail");
    (out, stats)
}

/// Converts the JSON file at `input` into a new lake at `lake` through cqlake's pipeline (as
/// `cqlake convert` does, with its default settings).
pub fn convert_into(input: &std::path::Path, lake: &std::path::Path) {
    use cqlake_ingest::Error;
    use cqlake_ingest::input::Input;
    use cqlake_ingest::source::{self, PipelineOptions};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut w = rt
        .block_on(cqlake_lake::LakeWriter::open(lake))
        .expect("open the lake");
    let preparer = w.preparer();
    let prepare = |b| preparer.prepare(b).map_err(Box::new);
    source::run(
        &[Input::File(input.to_path_buf())],
        &PipelineOptions::default(),
        &|_| {},
        &prepare,
        &mut |d| {
            if let Some(p) = d.batch {
                let p = p.map_err(|e| Error::sink("preparing", e))?;
                rt.block_on(w.push_prepared(p))
                    .map_err(|e| Error::sink("writing the lake", e))?;
            }
            Ok(())
        },
    )
    .expect("pipeline");
    rt.block_on(w.finish()).expect("finish");
}
