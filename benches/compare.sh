#!/usr/bin/env bash
# cqlake side by side with DuckDB, pyarrow and Polars, in one run on one machine: the figures of
# BENCHMARKS.md come from this script.
#
#   bash benches/compare.sh                              # the full run (about 30 minutes on 2 cores)
#   CQLAKE_BENCH_SCALE=0.05 CQLAKE_BENCH_STREAMS=2000000 CQLAKE_BENCH_RUNS=1 bash benches/compare.sh
#                                                        # a small run, for a quick look
#
# 1. Convert (benches/compare.py): a 1 GB NDJSON corpus, a 200 MB pretty-printed page and a
#    2 GB JSON array from `cqlake gen` (seed 20261124), converted by cqlake (a Delta lake of six
#    tables) and by DuckDB, pyarrow and Polars (one Parquet file of one row per stream, 32 core
#    columns; benches/peers.py), at 1 and 2 threads, CQLAKE_BENCH_RUNS (3) times each. Every
#    tool's stream rows must equal the generator's count and its columns cqlake's values.
# 2. SQL (benches/sql.sh): the poor-audio-by-day and poor-audio-by-subnet queries of
#    benches/queries/ and the summary and networks reports, in cqlake and DuckDB on the same
#    Parquet files of a lake of CQLAKE_BENCH_STREAMS (50 million) streams; results must agree.
#
# Python packages (benches/requirements.txt) go into $CQLAKE_VENV (default ~/.cache/cqlake-venv);
# corpora, lakes and results (compare-convert.md, sql-results.md) into $CQLAKE_BENCH_DIR
# (default /tmp/cqlake-bench, about 25 GB at full size); the release build into
# $CARGO_TARGET_DIR (default ~/.cache/cqlake-release).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet
source benches/venv.sh
work="${CQLAKE_BENCH_DIR:-/tmp/cqlake-bench}"
mkdir -p "$work"
lscpu | awk -F: '/^Model name|^CPU\(s\)/ {gsub(/^ +/, "", $2); printf "%s: %s\n", $1, $2}'
awk '/MemTotal/ {printf "Memory: %.0f GiB\n", $2 / 1048576}' /proc/meminfo
"$venv/bin/python" benches/compare.py --cqlake "$CARGO_TARGET_DIR/release/cqlake" --work "$work" \
  --scale "${CQLAKE_BENCH_SCALE:-1}" --runs "${CQLAKE_BENCH_RUNS:-3}" --threads 1,2 \
  --json "$work/compare-convert.json" --markdown "$work/compare-convert.md"
CQLAKE_BENCH_REPORTS="${CQLAKE_BENCH_REPORTS:-benches/queries/poor-audio-by-day.sql,benches/queries/poor-audio-by-subnet.sql,summary,networks}" \
  bash benches/sql.sh
echo "tables: $work/compare-convert.md, $work/sql-results.md"
