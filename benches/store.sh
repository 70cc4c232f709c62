#!/usr/bin/env bash
# Measures the lake on object storage against the local disk, on this machine: `cqlake convert`
# of a generated corpus, then `cqlake report summary` and `report networks`, into a local
# directory, moto's S3 server and Azurite's Blob service (both on loopback, started here). The
# figures of the object-storage issue come from this script.
#
#   bash benches/store.sh                          # a 200 MB NDJSON corpus, 3 runs each
#   CQLAKE_BENCH_SCALE=0.1 bash benches/store.sh   # a tenth of it
#
# Corpus and lakes go to $CQLAKE_BENCH_DIR (default /tmp/cqlake-bench); the release build to
# $CARGO_TARGET_DIR (default ~/.cache/cqlake-release); results to $CQLAKE_BENCH_DIR/store-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet # the set sql.sh builds: one feature set, one build
export CQLAKE_BIN="$CARGO_TARGET_DIR/release/cqlake"
(cd tests/store && npm ci --no-audit --no-fund --silent)
# shellcheck source=venv.sh
source benches/venv.sh
export CQLAKE_PYTHON="$venv/bin/python"
"$venv/bin/python" benches/store.py
