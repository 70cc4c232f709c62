#!/usr/bin/env bash
# The object-storage tests: installs what they need (Node.js and npm when missing; Azurite from
# package-lock.json; moto's server and azure-storage-blob in the virtual environment of
# benches/venv.sh), then runs tests/store/test_store.py with the cqlake binary the cargo tests
# built. The tests start moto and Azurite themselves, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# shellcheck source=../apt-install.sh
source ../apt-install.sh
apt_install "store tests" "${need[@]}"
npm ci --no-audit --no-fund --silent
# shellcheck source=../../benches/venv.sh
source ../../benches/venv.sh
export CQLAKE_PYTHON="$venv/bin/python"
target="${CARGO_TARGET_DIR:-../../target}"
export CQLAKE_BIN="${CQLAKE_BIN:-$(cd "$target" && pwd)/debug/cqlake}"
"$venv/bin/python" -m unittest -v "${@:-test_store}"
