#!/usr/bin/env bash
# The PostgreSQL tests of `cqlake serve --pg-port`: installs what they need (Debian's
# postgresql-client for psql and openssl when missing; psycopg in the virtual environment of
# benches/venv.sh), then runs tests/pg/test_pg.py with the cqlake binary the cargo tests built.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v psql >/dev/null || need+=(postgresql-client)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "pg tests: installing ${need[*]} (apt-get)" >&2
  $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi
# shellcheck source=../../benches/venv.sh
source ../../benches/venv.sh
target="${CARGO_TARGET_DIR:-../../target}"
export CQLAKE_BIN="${CQLAKE_BIN:-$(cd "$target" && pwd)/debug/cqlake}"
"$venv/bin/python" -m unittest -v "${@:-test_pg}"
