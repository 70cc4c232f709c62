#!/usr/bin/env bash
# cqlake's reports against DuckDB on a lake of 50 million streams, the same SQL on the same
# Parquet files, in one run. The figures of the report issue come from this script.
#
#   bash benches/sql.sh                                # 50M streams; summary and networks; 3 runs each
#   CQLAKE_BENCH_STREAMS=5000000 bash benches/sql.sh   # a smaller lake, for a quick look
#
# The lake: benches/lake.sh. DuckDB goes into the virtual environment $CQLAKE_VENV (default
# ~/.cache/cqlake-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lake.sh
source benches/lake.sh
source benches/venv.sh
"$venv/bin/python" benches/sql_compare.py --lake "$lake" --cqlake "$bin" \
  --runs "${CQLAKE_BENCH_RUNS:-3}" --threads "${CQLAKE_THREADS:-2}" \
  --reports "${CQLAKE_BENCH_REPORTS:-summary,networks}" --json "$work/sql-results.json" \
  --markdown "$work/sql-results.md"
