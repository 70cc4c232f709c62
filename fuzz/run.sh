#!/usr/bin/env bash
# Builds the fuzz targets with cargo-fuzz and runs each for a bounded time (default 60 s).
# Usage: bash fuzz/run.sh [SECONDS]. Installs cargo-fuzz if missing. The random seed is fixed
# (CQLAKE_FUZZ_SEED, default 1) so that CI explores the same inputs on every run; set
# CQLAKE_FUZZ_SEED=0 for a random one in a longer campaign. The seed corpus is the
# repository's sample data (every Graph docs example and the generated shapes), copied into
# fuzz/corpus/<target>/ next to what earlier runs found; a crash leaves its input in
# fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
export RUSTC_BOOTSTRAP=1 # cargo-fuzz needs -Zsanitizer; the stable compiler allows it so
export CARGO_TARGET_DIR="${CQLAKE_FUZZ_TARGET:-$HOME/.cache/cqlake-fuzz-target}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
for f in ../sample-data/graph-docs/*.json; do
  cp "$f" "$seeds/$(basename "$f")"
done
# One generated record per seed (the file itself is larger than -max_len).
head -n 30 ../sample-data/generated/calls.ndjson | split -l 1 - "$seeds/generated-"
head -c 60000 ../sample-data/generated/calls.ndjson > "$seeds/generated-ndjson-head"
for t in frame decode ingest; do
  mkdir -p "corpus/$t"
  cargo fuzz build --release "$t" 2>&1 | tail -1
  # -max_len: enough for a whole Graph example; -timeout: one input must not take a second.
  cargo fuzz run --release "$t" "corpus/$t" "$seeds" -- \
    -seed="${CQLAKE_FUZZ_SEED:-1}" -max_total_time="$secs" -max_len=32768 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done|#[0-9]+ *DONE)|ERROR|panicked|SUMMARY" || true
  if ls "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failing input in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
