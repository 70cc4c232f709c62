#!/usr/bin/env bash
# Runs every test of cqlake. Installs what the tests need first: Python's deltalake, pyarrow,
# duckdb and polars in a virtual environment (for the interoperability tests), idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CQLAKE_VENV:-$HOME/.cache/cqlake-venv}"
if ! "$VENV/bin/python" -c "import deltalake, pyarrow, duckdb, polars" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check deltalake pyarrow duckdb polars
fi
export CQLAKE_PYTHON="$VENV/bin/python"
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
