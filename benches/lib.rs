//! Shared setup of cqlake's criterion benchmarks (`cargo bench -p cqlake-benches`): generated
//! corpora with a fixed seed, so runs compare across commits.
//!
//! Run as `cargo bench`, a corpus is [`BENCH_BYTES`] (or `CQLAKE_BENCH_MB` megabytes); run as a
//! test (`cargo test --benches`, as CI does), it is [`SMOKE_BYTES`], so every bench is exercised
//! once, quickly.

use cqlake_ingest::generate::{Container, GenStats, Generator};

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
