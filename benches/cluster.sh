#!/usr/bin/env bash
# The reports on a cqlake cluster against the local engine, on the lake of 50 million streams:
# `cqlake report` locally (2 threads), then with --cluster on a scheduler and 1 executor, then
# 2 executors, each running 2 tasks at once, all on this machine. The scale-out figures of the
# cluster issue come from this script; docs/cluster.md works out a larger lake from them.
#
#   bash benches/cluster.sh                                # 50M streams; summary and networks; 3 runs each
#   CQLAKE_BENCH_STREAMS=5000000 bash benches/cluster.sh   # a smaller lake, for a quick look
#
# The lake: benches/lake.sh. Results: $CQLAKE_BENCH_DIR/cluster-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lake.sh
source benches/lake.sh
runs="${CQLAKE_BENCH_RUNS:-3}"
reports="${CQLAKE_BENCH_REPORTS:-summary networks}"
tasks="${CQLAKE_BENCH_TASKS:-2}"
out="$work/cluster-results.md"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# time_report NAME ARGS…: the fastest of $runs runs, in seconds; the rows go to $work/cluster-NAME-*.csv.
time_report() {
  local label=$1 report=$2; shift 2
  local best=""
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" report "$report" --lake "$lake" --format csv "$@" >"$work/cluster-$report-$label.csv"
    t1=$(date +%s.%N)
    best=$(python3 -c "a='$best'; b=$t1-$t0; print(f'{min(float(a), b) if a else b:.2f}')")
  done
  echo "$best"
}

peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A local_s one_s two_s
for r in $reports; do local_s[$r]=$(time_report local "$r" --threads 2); done

sched_out="$work/cluster-scheduler.out"
"$bin" scheduler --port 0 >"$sched_out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  url=$(grep -o 'df://[0-9.:]*' "$sched_out" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$sched_out" >&2; exit 1; }

start_executor() {
  "$bin" executor --scheduler "$url" --port "$(free_port)" --grpc-port "$(free_port)" \
    --tasks "$tasks" --work-dir "$work/cluster-work-$1" >"$work/cluster-executor-$1.out" 2>&1 &
  pids+=($!)
  executors+=($!)
  sleep 2
}
executors=()
start_executor 1
for r in $reports; do one_s[$r]=$(time_report one "$r" --cluster "$url" --threads "$tasks"); done
one_rss=$(peak_kb "${executors[0]}")
start_executor 2
for r in $reports; do two_s[$r]=$(time_report two "$r" --cluster "$url" --threads $((2 * tasks))); done
two_rss="$(peak_kb "${executors[0]}") + $(peak_kb "${executors[1]}")"

for r in $reports; do
  for c in one two; do
    sort "$work/cluster-$r-local.csv" >"$work/a.csv"
    sort "$work/cluster-$r-$c.csv" >"$work/b.csv"
    cmp -s "$work/a.csv" "$work/b.csv" || echo "warning: $r with $c executor(s) differs from the local rows (floats may differ in the last digits)" >&2
  done
done
rm -f "$work/a.csv" "$work/b.csv"

{
  echo "Lake: $lake. Executors: $tasks tasks each. Fastest of $runs runs, seconds."
  echo
  echo "| report | local (2 threads) | cluster, 1 executor | cluster, 2 executors |"
  echo "|---|---:|---:|---:|"
  for r in $reports; do echo "| $r | ${local_s[$r]} | ${one_s[$r]} | ${two_s[$r]} |"; done
  echo
  echo "Executor peak RSS (kB): 1 executor $one_rss; 2 executors $two_rss."
} | tee "$out"
