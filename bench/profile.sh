#!/usr/bin/env bash
# A CPU and a memory profile for one benchmark target, made the same way
# each time so that the next engineer can see where the time goes:
#
#   bench/profile.sh checks [N=10000]   bench/checks.sh's N checks: a 30 s CPU
#                                       profile from 40 s after start-up, then
#                                       the heap and the goroutines
#   bench/profile.sh page [CONNECTIONS=1000] [CASE=json-gzip]
#                                       bench/page.sh's page under wrk's read
#                                       load (one case, see page.sh's CASES):
#                                       a 30 s CPU profile during the load, the
#                                       heap and the goroutines at its end
#   bench/profile.sh report [SIZE=23360] BenchmarkReportYear (internal/report)
#                                       at one size (300, 2920, 11680, 23360),
#                                       every format, with go test's
#                                       -cpuprofile and -memprofile
#
# The two server targets run the benchmark script with PPROF (default
# 127.0.0.1:6060)
# (UPSTATE_PPROF: `upstate serve` answers Go's profiles on loopback) and
# read /debug/pprof/ from the running server. Profiles go to
# bench/out/profiles/TARGET-*.pprof; the script prints the go tool pprof
# lines that read them. Loopback only; bounded in time; cleans up after
# itself (the benchmark script it starts stops its own processes).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-}
OUT=bench/out/profiles
PPROF=${PPROF:-127.0.0.1:6060}
mkdir -p "$OUT"
if curl -s -o /dev/null "http://$PPROF/"; then
  echo "something already listens on $PPROF: name a free loopback address with PPROF=127.0.0.1:PORT"
  exit 1
fi

BG=
trap '[[ -n $BG ]] && { kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null || true; }' EXIT

# wait_for URL SECONDS: until the URL answers, or fail.
wait_for() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$BG" 2>/dev/null || { echo "the benchmark stopped early: see $LOG"; exit 1; }
    sleep 0.2
  done
  echo "$1 did not answer within $2 s: see $LOG"
  exit 1
}

# grab NAME: a 30 s CPU profile, then the heap (in use and allocated since
# start: one file, pick with -sample_index) and the goroutines.
grab() {
  local base=http://$PPROF/debug/pprof
  curl -sf -o "$OUT/$1-cpu.pprof" "$base/profile?seconds=30"
  curl -sf -o "$OUT/$1-heap.pprof" "$base/heap"
  curl -sf -o "$OUT/$1-goroutine.txt" "$base/goroutine?debug=1"
  curl -sf "$base/heap?debug=1" | grep -E '^# (HeapAlloc|HeapInuse|HeapIdle|HeapReleased|Stack|NextGC|NumGC)' > "$OUT/$1-memstats.txt" || true
}

show() {
  echo "profiles in $OUT ($(head -1 "$OUT/$1-goroutine.txt" 2>/dev/null | sed 's/.*total //') goroutines at the end):"
  echo "  go tool pprof -top $OUT/$1-cpu.pprof"
  echo "  go tool pprof -top -sample_index=inuse_space $OUT/$1-heap.pprof"
  echo "  go tool pprof -top -sample_index=alloc_space $OUT/$1-heap.pprof"
  echo "  go tool pprof -http 127.0.0.1:8080 $OUT/$1-cpu.pprof   # flame graph in a browser"
  [[ -s $OUT/$1-memstats.txt ]] && sed 's/^/  /' "$OUT/$1-memstats.txt"
  return 0
}

case $TARGET in
  checks)
    N=${2:-10000}
    LOG=$OUT/checks-bench.log
    # checks.sh waits 40 s after start-up, then measures; 45 s of it covers
    # the 30 s profile and what follows.
    PPROF=$PPROF bench/checks.sh "$N" 45 > "$LOG" 2>&1 & BG=$!
    wait_for "http://$PPROF/debug/pprof/" 180
    wait_for http://127.0.0.1:19080/healthz 60
    sleep 40
    grab checks
    wait "$BG" || true
    BG=
    sed 's/^/  /' "$LOG"
    show checks
    ;;
  page)
    CONNS=${2:-1000}
    CASE=${3:-json-gzip}
    LOG=$OUT/page-bench.log
    PPROF=$PPROF FLOOR=0 SETTLE=0 CASES=$CASE bench/page.sh 40 "$CONNS" > "$LOG" 2>&1 & BG=$!
    wait_for "http://$PPROF/debug/pprof/" 180
    # Until wrk is loading this Upstate (page.sh starts it once the page
    # carries its incident), then a few seconds for the load to settle.
    for ((i = 0; i < 300; i++)); do
      pgrep -f "wrk .*127.0.0.1:19081" > /dev/null && break
      kill -0 "$BG" 2>/dev/null || { echo "the benchmark stopped early: see $LOG"; exit 1; }
      sleep 0.2
    done
    sleep 3
    grab page
    wait "$BG" || true
    BG=
    sed 's/^/  /' "$LOG"
    show page
    ;;
  report)
    SIZE=${2:-23360}
    go test -run '^$' -bench "ReportYear/^$SIZE\$" -benchtime 1x -benchmem \
      -cpuprofile "$OUT/report-cpu.pprof" -memprofile "$OUT/report-mem.pprof" \
      -o "$OUT/report.test" ./internal/report/
    echo "profiles in $OUT:"
    echo "  go tool pprof -top $OUT/report.test $OUT/report-cpu.pprof"
    echo "  go tool pprof -top -sample_index=alloc_space $OUT/report.test $OUT/report-mem.pprof"
    ;;
  *)
    echo "usage: bench/profile.sh checks [N] | page [CONNECTIONS] [CASE] | report [SIZE]"
    exit 2
    ;;
esac
