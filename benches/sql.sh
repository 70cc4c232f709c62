#!/usr/bin/env bash
# cqlake's reports against DuckDB on a lake of 50 million streams, the same SQL on the same
# Parquet files, in one run. The figures of the report issue come from this script.
#
#   bash benches/sql.sh                                # 50M streams; summary and networks; 3 runs each
#   CQLAKE_BENCH_STREAMS=5000000 bash benches/sql.sh   # a smaller lake, for a quick look
#
# The lake is made without 110 GB of JSON: a generated 2 GB JSON array (seed 20261124) is
# converted once, then `replicate-lake` copies its calls, sessions and streams (the tables the
# reports read) with new call ids and dates shifted by whole 30-day spans within 90 days (about
# 550 000 streams a day, a large tenant's quarter) until there are enough streams, and
# `cqlake optimize` compacts it. Corpora
# and lakes go to $CQLAKE_BENCH_DIR (default /tmp/cqlake-bench), the release build to
# $CARGO_TARGET_DIR (default ~/.cache/cqlake-release), DuckDB into the virtual environment
# $CQLAKE_VENV (default ~/.cache/cqlake-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet
bin="$CARGO_TARGET_DIR/release/cqlake"
work="${CQLAKE_BENCH_DIR:-/tmp/cqlake-bench}"
streams="${CQLAKE_BENCH_STREAMS:-50000000}"
source benches/venv.sh
mkdir -p "$work"
src="$work/array.json"
if [ ! -s "$src" ]; then
  "$bin" gen --seed 20261124 --size 2000MB --container array -o "$src" --stats "$src.stats.json"
fi
if [ ! -d "$work/sql-source/calls/_delta_log" ]; then
  rm -rf "$work/sql-source"
  "$bin" convert "$src" --lake "$work/sql-source" --quiet
fi
lake="$work/sql-lake-$streams"
if [ ! -f "$lake/.replicated" ]; then
  rm -rf "$lake"
  "$CARGO_TARGET_DIR/release/replicate-lake" "$work/sql-source" "$lake" --streams "$streams" \
    --tables calls,sessions,streams --days 90
  touch "$lake/.replicated"
fi
# The layout a user gets by running `cqlake optimize` after converts: each date's files packed
# into row groups of 128K rows (CQLAKE_BENCH_OPTIMIZE=0 keeps convert's layout, for a fresh lake).
if [ "${CQLAKE_BENCH_OPTIMIZE:-1}" = 1 ] && [ ! -f "$lake/.optimized" ]; then
  /usr/bin/time -f "optimize: %e s, peak RSS %M KB" "$bin" optimize --lake "$lake"
  "$bin" vacuum --lake "$lake" --retain-hours 0
  touch "$lake/.optimized"
fi
"$venv/bin/python" benches/sql_compare.py --lake "$lake" --cqlake "$bin" \
  --runs "${CQLAKE_BENCH_RUNS:-3}" --threads "${CQLAKE_THREADS:-2}" \
  --reports "${CQLAKE_BENCH_REPORTS:-summary,networks}" --json "$work/sql-results.json" \
  --markdown "$work/sql-results.md"
