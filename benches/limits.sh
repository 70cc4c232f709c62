#!/usr/bin/env bash
# Peak memory of `cqlake convert` on inputs at and beyond the ingest limits (see docs/bad-input.md,
# "Bad input, limits and crashes"): the memory ceiling is checked here, by measurement, not by a
# timed test.
#
#   bash benches/limits.sh
#
# Inputs go to $CQLAKE_BENCH_DIR/limits (default /tmp/cqlake-bench/limits).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet
bin="$CARGO_TARGET_DIR/release/cqlake"
work="${CQLAKE_BENCH_DIR:-/tmp/cqlake-bench}/limits"
threads="${CQLAKE_THREADS:-2}"
mkdir -p "$work"

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def call(i, sessions=1, extra=None):
    c = {"id": f"c{i}", "version": 1, "type": "groupCall", "modalities": ["audio"],
         "startDateTime": "2024-05-01T10:00:00Z", "endDateTime": "2024-05-01T11:00:00Z",
         "sessions": [{"id": f"s{i}-{s}", "caller": {}, "callee": {}, "segments": [{"id": f"g{i}-{s}",
             "media": [{"label": "main-audio", "streams": [{"streamId": "1", "streamDirection": "callerToCallee",
                 "averageJitter": "PT0.01S", "averagePacketLossRate": 0.01}]}]}]} for s in range(sessions)]}
    if extra:
        c.update(extra)
    return json.dumps(c, separators=(",", ":"))
def write(name, make):
    p = os.path.join(work, name)
    if not os.path.exists(p):
        with open(p, "w") as f:
            make(f)
# One document just under the 64 MiB unit limit: a call with 260 000 sessions.
write("wide-60MB.json", lambda f: f.write(call(0, sessions=260_000)))
# One document over it, then a small one: the first is rejected, framing goes on.
write("over-80MB.ndjson", lambda f: (f.write(call(1, sessions=350_000)), f.write("\n" + call(2) + "\n")))
# 40 records each with a 15 MiB string (kept in `extra`) and 40 with a 17 MiB one (rejected).
write("strings.ndjson", lambda f: [f.write(call(10 + i, extra={"note": "x" * ((15 if i % 2 else 17) << 20)}) + "\n") for i in range(80)])
# 200 MB of nesting: rejected at depth 512.
write("deep.json", lambda f: (f.write("[" * 100_000_000), f.write("]" * 100_000_000)))
PY

printf '%-20s %8s %9s %10s %10s %9s\n' input MB seconds peak_RSS converted rejected
for f in wide-60MB.json over-80MB.ndjson strings.ndjson deep.json; do
  lake="$work/lake-$f"
  rm -rf "$lake"
  out=$( { /usr/bin/time -f "TIME %e %M" "$bin" convert "$work/$f" --lake "$lake" --threads "$threads" --json; } 2>&1 || true)
  t=$(echo "$out" | grep '^TIME' | awk '{print $2}')
  rss=$(echo "$out" | grep '^TIME' | awk '{printf "%.0f MB", $3/1024}')
  summary=$(echo "$out" | grep '^{')
  conv=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["converted"])')
  rej=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rejected"])')
  mb=$(python3 -c "import os; print(round(os.path.getsize('$work/$f')/1e6))")
  printf '%-20s %8s %9s %10s %10s %9s\n' "$f" "$mb" "$t" "$rss" "$conv" "$rej"
  rm -rf "$lake"
done
