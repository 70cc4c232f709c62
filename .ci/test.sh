#!/usr/bin/env bash
# Runs every test of cqlake. Installs what the tests need first: Python's deltalake, pyarrow,
# duckdb, polars and psycopg at the versions pinned in benches/requirements.txt, in a virtual
# environment (for the interoperability, PostgreSQL and object-storage tests), idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../benches/venv.sh
source benches/venv.sh
export CQLAKE_PYTHON="$venv/bin/python"
# The crash tests need the lake's crash points, which only this feature compiles in.
cargo test --workspace --all-targets --features cqlake-cli/crash-points "$@"
cargo test --workspace --doc --features cqlake-cli/crash-points
# `cqlake serve` in a real browser (headless chromium), with the binary built above.
bash tests/browser/run.sh
# `cqlake serve --pg-port` with real PostgreSQL clients (psql, psycopg), same binary.
bash tests/pg/run.sh
# The lake on object storage: S3 (moto's server) and Azure Blob (Azurite), same binary.
bash tests/store/run.sh
