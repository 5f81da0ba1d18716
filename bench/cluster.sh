#!/usr/bin/env bash
# Benchmark: N HTTP checks at a 30 s interval shared by three `upstate
# serve` instances on one PostgreSQL database, then one instance killed
# with SIGKILL.
#
# Steady state, over MEASURE_SECONDS after a warm-up: each instance's CPU
# (share of one core) and RSS, its schedule's start lag (p99 of
# upstate_schedule_lag_seconds), how many checks each runs, and the
# database server's CPU (every `postgres` process).
#
# A CPU profile of n1 over the window is left in bench/out/cluster/n1.cpu.
#
# Fail-over: instance 1 is killed with SIGKILL; the script polls the
# survivors' /healthz until they run every check between them, polls their
# pages meanwhile, and then reads the stored results: how many checks missed
# a slot (a gap over 1.5 intervals), the longest gap, and whether any check
# ever ran twice in a slot (a gap under half an interval).
#
#   BENCH_DATABASE='host=… user=… password=…' bench/cluster.sh [N=50000] [MEASURE_SECONDS=120]
#
# BENCH_DATABASE (default $UPSTATE_TEST_POSTGRES_DSN, which .ci/databases
# sets) is a keyword DSN of a server where the user may create databases;
# the script makes its own database there and drops it after. Loopback
# only; bounded in time; cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
MEASURE=${2:-120}
WARMUP=${WARMUP:-60}
INTERVAL=30
SERVER=${BENCH_DATABASE:-${UPSTATE_TEST_POSTGRES_DSN:?set BENCH_DATABASE (or UPSTATE_TEST_POSTGRES_DSN) to a PostgreSQL server}}
DB=upstate_bench_$$
DSN="$SERVER dbname=$DB"
OUT=bench/out/cluster
rm -rf "$OUT" && mkdir -p "$OUT"

go build -o "$OUT/upstate" ./cmd/upstate
go build -o "$OUT/target" ./bench/target
psql "$SERVER dbname=postgres" -qc "CREATE DATABASE $DB" > /dev/null

for n in 1 2 3; do
  {
    echo "page: {name: Bench, url: http://127.0.0.1:1908$n, time_zone: UTC}"
    printf 'server:\n  listen: 127.0.0.1:1908%s\n  data_dir: ./data%s\n  database: ${BENCH_DSN}\n  cluster: {name: n%s}\n' "$n" "$n" "$n"
    echo "components:"
    for ((c = 0; c < 100; c++)); do echo "  - {id: c$c, name: Component $c, group: G$((c / 10))}"; done
    echo "checks:"
    for ((i = 0; i < N; i++)); do
      echo "  - {id: k$i, kind: http, url: 'http://127.0.0.1:19000/k$i', interval: ${INTERVAL}s, timeout: 5s, components: [c$((i % 100))]}"
    done
  } > "$OUT/n$n.yaml"
done

"$OUT/target" -listen 127.0.0.1:19000 & TARGET=$!
declare -A UP
for n in 1 2 3; do
  BENCH_DSN="$DSN" UPSTATE_PPROF=127.0.0.1:1909$n "$OUT/upstate" serve --config "$OUT/n$n.yaml" --log-level info > "$OUT/n$n.out" 2> "$OUT/n$n.log" & UP[$n]=$!
done
cleanup() {
  kill "${UP[@]}" $TARGET 2>/dev/null || true
  wait "${UP[@]}" $TARGET 2>/dev/null || true
  psql "$SERVER dbname=postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" > /dev/null || true
}
trap cleanup EXIT

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pgticks() { local s=0 p; for p in $(pgrep -x postgres); do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat" 2> /dev/null || echo 0))); done; echo $s; }
hist() { curl -s "http://127.0.0.1:1908$1/metrics" | grep '^upstate_schedule_lag_seconds_bucket' | sed 's/.*le="\([^"]*\)"} \(.*\)/\1 \2/'; }
runs() { local v; v=$(curl -s "http://127.0.0.1:1908$1/healthz" | sed -n 's/.*"checks": *\([0-9]*\).*/\1/p'); echo "${v:-0}"; }
role() { curl -s "http://127.0.0.1:1908$1/healthz" | sed -n 's/.*"role": *"\([a-z]*\)".*/\1/p'; }
ms() { date +%s%3N; }

for n in 1 2 3; do
  for ((w = 0; w < 240; w++)); do
    curl -sf "http://127.0.0.1:1908$n/healthz" > /dev/null && break
    kill -0 "${UP[$n]}" 2> /dev/null || { echo "n$n exited:" >&2; tail -5 "$OUT/n$n.log" >&2; exit 1; }
    sleep 0.5
  done
done
STARTED=$(ms)
sleep "$WARMUP"
declare -A T0 H0
for n in 1 2 3; do T0[$n]=$(ticks "${UP[$n]}"); H0[$n]=$(hist $n); done
P0=$(pgticks)
# A CPU profile of n1 over the window: go tool pprof bench/out/cluster/upstate bench/out/cluster/n1.cpu
curl -s -o "$OUT/n1.cpu" "http://127.0.0.1:19091/debug/pprof/profile?seconds=$((MEASURE - 2))" &
sleep "$MEASURE"
P1=$(pgticks)
printf 'checks                      %d at a %ds interval, on 3 instances sharing one PostgreSQL\n' "$N" "$INTERVAL"
for n in 1 2 3; do
  T1=$(ticks "${UP[$n]}")
  H1=$(hist $n)
  CPU=$(echo "($T1 - ${T0[$n]}) / $HZ / $MEASURE * 100" | bc -l)
  RSS=$(awk '/VmRSS/ {print $2}' "/proc/${UP[$n]}/status")
  P99=$(paste <(echo "${H0[$n]}") <(echo "$H1") | awk '{le[NR] = $1; c[NR] = $4 - $2} END {total = c[NR]; for (i = 1; i <= NR; i++) if (c[i] >= 0.99 * total) {print le[i]; exit}}')
  printf 'n%d (%-6s) runs %6s checks   CPU %5.1f%%   RSS %4.0f MiB   start lag p99 <= %s s\n' "$n" "$(role $n)" "$(runs $n)" "$CPU" "$(echo "$RSS / 1024" | bc -l)" "$P99"
done
printf 'PostgreSQL (every postgres process) CPU %.1f%% of one core\n' "$(echo "($P1 - $P0) / $HZ / $MEASURE * 100" | bc -l)"

# Fail-over: kill n1 outright.
KILLED=$(ms)
kill -9 "${UP[1]}"
wait "${UP[1]}" 2> /dev/null || true
unset 'UP[1]'
ERRORS=0 TAKEN=""
DEADLINE=$((KILLED + 120000))
while (($(ms) < DEADLINE)); do
  for n in 2 3; do curl -sf -o /dev/null "http://127.0.0.1:1908$n/" || ERRORS=$((ERRORS + 1)); done
  SUM=$(($(runs 2) + $(runs 3)))
  if [[ -z "$TAKEN" && $SUM -eq $N ]]; then TAKEN=$(($(ms) - KILLED)); fi
  [[ -n "$TAKEN" ]] && (($(ms) > KILLED + (INTERVAL * 2 + 15) * 1000)) && break
  sleep 0.2
done
sleep 5 # the survivors' last results committed
read -r MISSED MAXGAP DOUBLE <<< "$(psql "$DSN" -Atqc "
  WITH r AS (SELECT check_id, at - lag(at) OVER (PARTITION BY check_id ORDER BY at) AS gap
             FROM results WHERE at >= $STARTED + ${WARMUP}000)
  SELECT count(DISTINCT check_id) FILTER (WHERE gap > ${INTERVAL}000 * 3 / 2),
         coalesce(max(gap), 0), count(*) FILTER (WHERE gap < ${INTERVAL}000 / 2) FROM r" | tr '|' ' ')"
printf 'fail-over (n1 killed)       survivors ran all %d checks %.1f s after the kill; their pages: %d failed requests\n' "$N" "$(echo "${TAKEN:-0} / 1000" | bc -l)" "$ERRORS"
printf '                            %d checks missed one slot, longest gap between results %.1f s; runs twice in one slot: %d\n' "$MISSED" "$(echo "$MAXGAP / 1000" | bc -l)" "$DOUBLE"
