#!/usr/bin/env bash
# The PostgreSQL tests of `cqlake serve --pg-port`: installs what they need (Debian's
# postgresql-client for psql and openssl when missing; psycopg in the virtual environment of
# benches/venv.sh), then runs tests/pg/test_pg.py with the cqlake binary the cargo tests built.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v psql >/dev/null || need+=(postgresql-client)
command -v openssl >/dev/null || need+=(openssl)
# shellcheck source=../apt-install.sh
source ../apt-install.sh
apt_install "pg tests" "${need[@]}"
# shellcheck source=../../benches/venv.sh
source ../../benches/venv.sh
target="${CARGO_TARGET_DIR:-../../target}"
export CQLAKE_BIN="${CQLAKE_BIN:-$(cd "$target" && pwd)/debug/cqlake}"
"$venv/bin/python" -m unittest -v "${@:-test_pg}"
