#!/usr/bin/env bash
# The dashboard's views on a lake of 50 million streams: `cqlake serve` (release build, 2 query
# threads) answering every panel of every page as the page asks for it, 3 runs each. The
# per-view figures of the serve issue come from this script.
#
#   bash benches/serve.sh                                # 50M streams
#   CQLAKE_BENCH_STREAMS=5000000 bash benches/serve.sh   # a smaller lake, for a quick look
#
# The lake: benches/lake.sh. Results: $CQLAKE_BENCH_DIR/serve-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lake.sh
source benches/lake.sh
out="$work/serve.out"
"$bin" serve --lake "$lake" --port 0 --threads "${CQLAKE_THREADS:-2}" >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'http://[0-9.:]*' "$out" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$out" >&2; exit 1; }
python3 benches/serve_views.py --url "$url" --runs "${CQLAKE_BENCH_RUNS:-3}" \
  --markdown "$work/serve-results.md"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")"
