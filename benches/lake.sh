#!/usr/bin/env bash
# Sourced by benches/sql.sh and benches/serve.sh: builds the release binaries and a lake of
# $CQLAKE_BENCH_STREAMS streams (default 50 million) without 110 GB of JSON, then sets $bin
# (the release cqlake) and $lake (the lake's directory).
#
# A generated 2 GB JSON array (seed 20261124) is converted once, then `replicate-lake` copies its
# calls, sessions and streams (the tables the reports read) with new call ids and dates shifted
# by whole 30-day spans within 90 days (about 550 000 streams a day, a large tenant's quarter)
# until there are enough streams, and `cqlake optimize` compacts it (CQLAKE_BENCH_OPTIMIZE=0
# keeps convert's layout, for a fresh lake). Corpora and lakes go to $CQLAKE_BENCH_DIR (default
# /tmp/cqlake-bench), the release build to $CARGO_TARGET_DIR (default ~/.cache/cqlake-release).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet
bin="$CARGO_TARGET_DIR/release/cqlake"
work="${CQLAKE_BENCH_DIR:-/tmp/cqlake-bench}"
streams="${CQLAKE_BENCH_STREAMS:-50000000}"
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
# into row groups of 128K rows.
if [ "${CQLAKE_BENCH_OPTIMIZE:-1}" = 1 ] && [ ! -f "$lake/.optimized" ]; then
  /usr/bin/time -f "optimize: %e s, peak RSS %M KB" "$bin" optimize --lake "$lake"
  "$bin" vacuum --lake "$lake" --retain-hours 0
  touch "$lake/.optimized"
fi
