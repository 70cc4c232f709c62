#!/usr/bin/env bash
# Measures `cqlake convert` end to end on generated corpora: MB/s of input JSON and peak RSS,
# into the full Delta lake (six tables). The figures of the convert issue come from this script.
#
#   bash benches/convert.sh            # 1 GB NDJSON, a 200 MB pretty-printed page, a 2 GB JSON array; 3 runs each
#   CQLAKE_BENCH_SCALE=0.1 bash benches/convert.sh   # a tenth of the sizes, for a quick look
#   CQLAKE_BENCH_CORPORA=ndjson CQLAKE_BENCH_CONVERT_ARGS=--pseudonymise \
#     CQLAKE_PSEUDONYM_KEY=$(head -c 48 /dev/urandom | base64) bash benches/convert.sh
#                                       # one corpus, with extra convert options (the privacy figures)
#
# Corpora and lakes go to $CQLAKE_BENCH_DIR (default /tmp/cqlake-bench); the release build to
# $CARGO_TARGET_DIR (default ~/.cache/cqlake-release).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cqlake-release}"
cargo build --release --locked -p cqlake-cli -p cqlake-benches --bins --quiet # the set sql.sh builds: one feature set, one build
bin="$CARGO_TARGET_DIR/release/cqlake"
work="${CQLAKE_BENCH_DIR:-/tmp/cqlake-bench}"
scale="${CQLAKE_BENCH_SCALE:-1}"
runs="${CQLAKE_BENCH_RUNS:-3}"
threads="${CQLAKE_THREADS:-2}"
corpora="${CQLAKE_BENCH_CORPORA:-ndjson pretty-page array}"
read -r -a extra <<< "${CQLAKE_BENCH_CONVERT_ARGS:-}"
mkdir -p "$work"

mb() { python3 -c "print(int($1 * $scale))"; }
corpus() { # name container megabytes
  local f="$work/$1.json"
  if [ ! -s "$f" ]; then
    "$bin" gen --seed 20261124 --size "$(mb "$3")MB" --container "$2" -o "$f" --stats "$f.stats.json"
  fi
  echo "$f"
}

printf '%-12s %8s %8s %9s %9s %10s %12s\n' corpus "MB" threads "median_s" "MB/s" "peak_RSS" "stream_rows"
for spec in "ndjson ndjson 1000" "pretty-page pretty-page 200" "array array 2000"; do
  set -- $spec
  [[ " $corpora " == *" $1 "* ]] || continue
  f=$(corpus "$1" "$2" "$3")
  size=$(stat -c %s "$f")
  times=()
  rss=0
  rows=0
  for _ in $(seq "$runs"); do
    rm -rf "$work/lake"
    out=$( { /usr/bin/time -f "TIME %e %M" "$bin" convert "$f" --lake "$work/lake" --threads "$threads" --json --quiet "${extra[@]}" > "$work/summary.json"; } 2>&1 )
    t=$(echo "$out" | awk '/^TIME/ {print $2}')
    m=$(echo "$out" | awk '/^TIME/ {print $3}')
    times+=("$t")
    [ "$m" -gt "$rss" ] && rss=$m
    rows=$(python3 -c "import json;print(json.load(open('$work/summary.json'))['rows']['streams'])")
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  python3 - "$1" "$size" "$threads" "$med" "$rss" "$rows" <<'PY'
import sys
name, size, threads, med, rss, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
print(f"{name:<12} {size/1e6:8.0f} {threads:>8} {med:9.2f} {size/1e6/med:9.1f} {rss/1024:8.0f}MB {rows:>12}")
PY
done
