#!/usr/bin/env bash
# Benchmark: N HTTP checks at a 30 s interval against a local target, with
# every result persisted in SQLite. Reports Upstate's CPU (share of one
# core) and RSS over the measurement window, how late probes start (p99 of
# upstate_schedule_lag_seconds), and how long after start-up every check
# had run once, the start-up to the first page, and the data directory's
# size at the end.
#
#   [PPROF=127.0.0.1:6060] bench/checks.sh [N=10000] [MEASURE_SECONDS=120]
#
# PPROF makes Upstate serve Go's profiles there, on loopback
# (bench/profile.sh checks).
#
# Loopback only; bounded in time; cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
MEASURE=${2:-120}
WARMUP=40
INTERVAL=30
OUT=bench/out/checks
rm -rf "$OUT" && mkdir -p "$OUT/data"

go build -o "$OUT/upstate" ./cmd/upstate
go build -o "$OUT/target" ./bench/target

{
  echo "page: {name: Bench, url: http://127.0.0.1:19080, time_zone: UTC}"
  echo "server: {listen: 127.0.0.1:19080, data_dir: ./data}"
  echo "components:"
  for ((c = 0; c < 100; c++)); do echo "  - {id: c$c, name: Component $c, group: G$((c / 10))}"; done
  echo "checks:"
  for ((i = 0; i < N; i++)); do
    echo "  - {id: k$i, kind: http, url: 'http://127.0.0.1:19000/k$i', interval: ${INTERVAL}s, timeout: 5s, components: [c$((i % 100))]}"
  done
} > "$OUT/upstate.yaml"

"$OUT/target" -listen 127.0.0.1:19000 & TARGET=$!
START=$(date +%s.%N)
UPSTATE_PPROF=${PPROF:-} "$OUT/upstate" serve --config "$OUT/upstate.yaml" --log-level warn > "$OUT/serve.out" 2> "$OUT/serve.log" & UP=$!
trap 'kill $UP $TARGET 2>/dev/null; wait $UP $TARGET 2>/dev/null || true' EXIT

ticks() { awk '{print $14 + $15}' "/proc/${1:-$UP}/stat"; }
# Counters past a million are written 1.236072e+06: printed as integers for bc.
metric() { curl -s http://127.0.0.1:19080/metrics | { grep -F "$1 " || true; } | awk '{printf "%d\n", $2}'; }
hist() { curl -s http://127.0.0.1:19080/metrics | grep '^upstate_schedule_lag_seconds_bucket' | sed 's/.*le="\([^"]*\)"} \(.*\)/\1 \2/'; }

until curl -sf -o /dev/null http://127.0.0.1:19080/; do sleep 0.05; done
PAGE=$(echo "$(date +%s.%N) - $START" | bc -l)
sleep "$WARMUP"
TT0=$(ticks $TARGET); T0=$(ticks); H0=$(hist); R0=$(metric 'upstate_checks_total{kind="http",outcome="ok"}')
sleep "$MEASURE"
TT1=$(ticks $TARGET); T1=$(ticks); H1=$(hist); R1=$(metric 'upstate_checks_total{kind="http",outcome="ok"}')
HZ=$(getconf CLK_TCK)
CPU=$(echo "($T1 - $T0) / $HZ / $MEASURE * 100" | bc -l)
TCPU=$(echo "($TT1 - $TT0) / $HZ / $MEASURE * 100" | bc -l)
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$UP/status")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$UP/status")
P99=$(paste <(echo "$H0") <(echo "$H1") | awk '{le[NR] = $1; c[NR] = $4 - $2} END {total = c[NR]; for (i = 1; i <= NR; i++) if (c[i] >= 0.99 * total) {print le[i]; exit}}')
FAILS=$(metric 'upstate_checks_total{kind="http",outcome="fail"}')
# With PPROF, what is live: the heap just after a collection (gc=1), exact
# where a heap profile's figures are sampled.
LIVE=
[[ -n ${PPROF:-} ]] && LIVE=$(curl -s "http://$PPROF/debug/pprof/heap?gc=1&debug=1" | awk '/^# HeapAlloc/ {print $4}')
kill $UP; wait $UP 2>/dev/null || true
# When had every check run once? From the stored results.
FIRST_ALL=$(sqlite3 "$OUT/data/upstate.db" "SELECT (MAX(first) - (SELECT MIN(at) FROM results)) / 1000.0 FROM (SELECT MIN(at) AS first FROM results GROUP BY check_id);")
RAN=$(sqlite3 "$OUT/data/upstate.db" "SELECT COUNT(DISTINCT check_id) FROM results;")

printf 'checks                      %d at a %ds interval\n' "$N" "$INTERVAL"
printf 'probes in window            %.0f (%.1f/s, expected %.1f/s), failures: %s\n' "$(echo "$R1 - $R0" | bc)" "$(echo "($R1 - $R0) / $MEASURE" | bc -l)" "$(echo "$N / $INTERVAL" | bc -l)" "${FAILS:-0}"
printf 'CPU (share of one core)     %.1f%% (the target answering them: %.1f%%)\n' "$CPU" "$TCPU"
printf 'RSS at end / peak           %.0f MiB / %.0f MiB\n' "$(echo "$RSS / 1024" | bc -l)" "$(echo "$HWM / 1024" | bc -l)"
[[ -n $LIVE ]] && printf 'live heap at end            %.0f MiB (%.0f bytes a check)\n' "$(echo "$LIVE / 1048576" | bc -l)" "$(echo "$LIVE / $N" | bc -l)"
printf 'start lag p99               <= %s s\n' "$P99"
printf 'start-up to first page      %.2f s\n' "$PAGE"
DB=$(du -k "$OUT/data" | tail -1 | cut -f1)
printf 'database after the run      %.0f MiB\n' "$(echo "$DB / 1024" | bc -l)"
printf 'every check run once after  %.1f s (%d of %d checks ran)\n' "$FIRST_ALL" "$RAN" "$N"
