#!/usr/bin/env bash
# The browser tests of `cqlake serve`: installs what they need (Debian's chromium, Node.js and
# npm when missing; playwright-core from package-lock.json), then runs them with the cqlake
# binary the cargo tests built. Screenshots go to target/screenshots/.
set -euo pipefail
cd "$(dirname "$0")"
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# shellcheck source=../apt-install.sh
source ../apt-install.sh
apt_install "browser tests" "${need[@]}"
# playwright-core only: it drives the system chromium, and downloads no browser.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
target="${CARGO_TARGET_DIR:-../../target}"
export CQLAKE_BIN="${CQLAKE_BIN:-$target/debug/cqlake}"
export CQLAKE_SCREENSHOTS="${CQLAKE_SCREENSHOTS:-../../target/screenshots}"
node --test
