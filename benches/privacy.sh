#!/usr/bin/env bash
# The cost of personal data, on this machine: `cqlake convert` of the 1 GB NDJSON corpus with
# and without --pseudonymise, and `cqlake forget` of the person with the most streams on the
# lake of benches/lake.sh (50 million streams), then `cqlake vacuum --retain-hours 0`. The
# figures of the privacy issue come from this script.
#
#   bash benches/privacy.sh                                # 1 GB corpus, 50M-stream lake
#   CQLAKE_BENCH_SCALE=0.1 CQLAKE_BENCH_STREAMS=5000000 bash benches/privacy.sh   # a quick look
#
# The forget runs on the lake itself, which is then deleted (the next bench that needs it builds
# it again): a copy would need twice its disk. Results go to $CQLAKE_BENCH_DIR/privacy-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lake.sh
source benches/lake.sh
scale="${CQLAKE_BENCH_SCALE:-1}"
runs="${CQLAKE_BENCH_RUNS:-3}"
threads="${CQLAKE_THREADS:-2}"
CQLAKE_PSEUDONYM_KEY="$(head -c 48 /dev/urandom | base64)"
export CQLAKE_PSEUDONYM_KEY
mb=$(python3 -c "print(int(1000 * $scale))")
corpus="$work/ndjson.json"
[ "$scale" = 1 ] || corpus="$work/ndjson-$mb.json"
if [ ! -s "$corpus" ]; then
  "$bin" gen --seed 20261124 --size "${mb}MB" --container ndjson -o "$corpus"
fi
size=$(stat -c %s "$corpus")
out="$work/privacy-results.md"
{
  echo "convert of $((size / 1000000)) MB NDJSON, $threads threads, median of $runs"
  echo
  echo "| convert | median s | MB/s | peak RSS MB |"
  echo "|---|---:|---:|---:|"
} > "$out"
for mode in plain --pseudonymise; do
  times=()
  rss=0
  for _ in $(seq "$runs"); do
    rm -rf "$work/privacy-lake"
    extra=()
    [ "$mode" = plain ] || extra=("$mode")
    t=$( { /usr/bin/time -f "TIME %e %M" "$bin" convert "$corpus" --lake "$work/privacy-lake" \
          --threads "$threads" --quiet "${extra[@]}"; } 2>&1 | awk '/^TIME/ {print $2, $3}')
    times+=("${t% *}")
    m=${t#* }
    [ "$m" -gt "$rss" ] && rss=$m
  done
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  python3 -c "print(f'| $mode | {$med:.2f} | {$size/1e6/$med:.1f} | {$rss/1024:.0f} |')" >> "$out"
done
rm -rf "$work/privacy-lake"

copy="$lake"
du -sh "$copy"
streams_total=$("$bin" sql "SELECT count(*) FROM streams" --lake "$copy" --format csv | tail -1)
person=$("$bin" sql "SELECT session_caller_identity_user_id FROM streams WHERE session_caller_identity_user_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1" --lake "$copy" --format csv | tail -1)
theirs=$("$bin" sql "SELECT count(*) FROM streams WHERE session_caller_identity_user_id = '$person' OR session_callee_identity_user_id = '$person'" --lake "$copy" --format csv | tail -1)
f=$( { /usr/bin/time -f "TIME %e %M" "$bin" forget --lake "$copy" --user "$person" --json > "$work/forget.json"; } 2>&1 | awk '/^TIME/ {print $2, $3}')
v=$( { /usr/bin/time -f "TIME %e %M" "$bin" vacuum --lake "$copy" --retain-hours 0 > /dev/null; } 2>&1 | awk '/^TIME/ {print $2, $3}')
{
  echo
  echo "forget on a lake of $streams_total streams: the person with the most streams ($theirs of them)"
  echo
  echo "| step | s | peak RSS MB |"
  echo "|---|---:|---:|"
  python3 -c "print(f'| forget | ${f% *} | {${f#* }/1024:.0f} |')"
  python3 -c "print(f'| vacuum --retain-hours 0 | ${v% *} | {${v#* }/1024:.0f} |')"
  echo
  echo "forget's summary: $(cat "$work/forget.json")"
} >> "$out"
rm -rf "$copy"
cat "$out"
