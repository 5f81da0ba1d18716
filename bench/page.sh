#!/usr/bin/env bash
# Benchmark: the public page and summary.json for a page of 1,000
# components under CONNECTIONS concurrent keep-alive clients (wrk,
# loopback), plain and gzip, each case measured against its floor: a bare
# Go server (bench/floor) writing the very bytes Upstate writes, with the
# same headers, under the same load, one right after the other. Reports
# requests/s, p50/p99 latency, errors, throughput and the server's CPU per
# request (utime+stime from /proc/PID/stat over the load), Upstate's as a
# share of the floor's, and Upstate's RSS after the load, at once and
# SETTLE seconds later.
#
#   [THREADS=1] [FLOOR=1] [PACE_MS=0] [SETTLE=30] [PPROF=127.0.0.1:6060] \
#   [CASES='json-plain json-gzip page-plain page-gzip'] [REPEAT=1] [UPSTATE=binary] \
#     bench/page.sh [SECONDS=20] [CONNECTIONS=1000]
#
# PACE_MS=N makes each connection wait a random 0 to 2N ms (N on average)
# after each answer before its next request (wrk's Lua delay), so that
# CONNECTIONS connections stay open at a rate below saturation: without
# it wrk is a closed loop, and by Little's law the latency is then about
# CONNECTIONS / throughput whatever the server does.
# REPEAT=n runs the cases n times over (Upstate and floor side by side each
# time): on a shared machine, read the spread, not one figure.
# UPSTATE=path serves with that binary instead of building one (to compare
# two builds in one session). FLOOR=0 skips the floor. PPROF serves
# Upstate's profiles there (see bench/profile.sh page). CASES picks cases.
#
# File descriptors: wrk and Upstate each hold one per connection, so the
# script raises its soft limit (ulimit -n) to the hard one (ulimit -Hn),
# which both inherit, and stops if that is under CONNECTIONS + 1024.
#
# Needs wrk (Debian package wrk). Loopback only; bounded in time; cleans
# up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-1000}
# One load thread by default: on a 2-core machine a second wrk thread takes
# the core Upstate would use, which measures wrk, not Upstate.
THREADS=${THREADS:-1}
FLOOR=${FLOOR:-1}
PACE_MS=${PACE_MS:-0}
SETTLE=${SETTLE:-30}
CASES=${CASES:-json-plain json-gzip page-plain page-gzip}
REPEAT=${REPEAT:-1}
OUT=bench/out/page
rm -rf "$OUT" && mkdir -p "$OUT/data"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

HARD=$(ulimit -Hn)
NEED=$((CONNS + 1024))
if [[ $HARD != unlimited && $HARD -lt $NEED ]]; then
  echo "$CONNS connections need $NEED file descriptors per process; the hard limit is $HARD (raise it as root: ulimit -Hn, or LimitNOFILE= for a service)"
  exit 1
fi
ulimit -n "$HARD"

if [[ -n ${UPSTATE:-} ]]; then cp "$UPSTATE" "$OUT/upstate"; else go build -o "$OUT/upstate" ./cmd/upstate; fi
go build -o "$OUT/target" ./bench/target
go build -o "$OUT/floor" ./bench/floor
{
  echo "page: {name: Bench, url: http://127.0.0.1:19081, time_zone: America/Los_Angeles}"
  echo "server: {listen: 127.0.0.1:19081, data_dir: ./data}"
  echo "components:"
  for ((c = 0; c < 1000; c++)); do echo "  - {id: c$c, name: Component $c, group: Group $((c / 50)), description: Component number $c}"; done
  echo "checks:"
  for ((c = 0; c < 1000; c += 10)); do echo "  - {id: k$c, kind: http, url: 'http://127.0.0.1:19001/', interval: 30s, components: [c$c]}"; done
  # One failing check, so the page carries an open incident.
  echo "  - {id: broken, kind: http, url: 'http://127.0.0.1:1/', interval: 5s, components: [c7]}"
} > "$OUT/upstate.yaml"
if ((PACE_MS > 0)); then
  echo "function delay() return math.random(0, $((2 * PACE_MS))) end" > "$OUT/pace.lua"
fi

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null || true' EXIT
"$OUT/target" -listen 127.0.0.1:19001 & PIDS+=($!)
UPSTATE_PPROF=${PPROF:-} "$OUT/upstate" serve --config "$OUT/upstate.yaml" --log-level warn > "$OUT/serve.out" 2> "$OUT/serve.log" & UP=$!
PIDS+=($UP)
for ((i = 0; ; i++)); do
  curl -sf http://127.0.0.1:19081/healthz > /dev/null && break
  if ! kill -0 "$UP" 2> /dev/null || ((i == 300)); then echo "upstate did not start:"; cat "$OUT/serve.log"; exit 1; fi
  sleep 0.2
done
# Wait for the failing check's incident to be on the page (bounded).
for ((i = 0; i < 120; i++)); do
  curl -s http://127.0.0.1:19081/api/v2/incidents/unresolved.json | grep -q '"status":"investigating"' && break
  sleep 0.5
done
if ((FLOOR)); then
  # After the incident, so the floor serves the page as the load sees it.
  "$OUT/floor" -listen 127.0.0.1:19082 -from http://127.0.0.1:19081 /api/v2/summary.json / 2> "$OUT/floor.log" & FL=$!
  PIDS+=($FL)
  for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null http://127.0.0.1:19082/ && break; sleep 0.1; done
fi

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
size() { curl -s -o /dev/null -w '%{size_download}' -H "Accept-Encoding: $2" "http://127.0.0.1:19081$1"; }
load() { # port, path, pid, extra wrk args; prints req/s p50 p99 throughput µs/request errors
  local port=$1 path=$2 pid=$3; shift 3
  local script=()
  ((PACE_MS > 0)) && script=(-s "$OUT/pace.lua")
  local t0 t1 out
  t0=$(ticks "$pid")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --timeout 10s --latency "${script[@]}" "$@" "http://127.0.0.1:$port$path")
  t1=$(ticks "$pid")
  local n rps p50 p99 tput errs cpu
  n=$(awk '/requests in/ {print $1}' <<< "$out")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<< "$out")
  tput=$(awk '/Transfer\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  errs=$(awk '/Socket errors|Non-2xx/ {print}' <<< "$out" | tr '\n' ' ')
  cpu=$(echo "($t1 - $t0) / $HZ * 1000000 / $n" | bc -l)
  printf '%s %s %s %s %.1f %s\n' "$rps" "$p50" "$p99" "$tput" "$cpu" "${errs:-none}"
}
printf 'sizes: summary.json %s B plain, %s B gzip; / %s B plain, %s B gzip\n' \
  "$(size /api/v2/summary.json identity)" "$(size /api/v2/summary.json gzip)" "$(size / identity)" "$(size / gzip)"
printf '%d connections, %d wrk thread(s), %d s a case%s\n' "$CONNS" "$THREADS" "$SECS" "$( ((PACE_MS > 0)) && echo ", each connection pausing ${PACE_MS} ms on average between requests")"
printf '%-27s %-7s %8s %9s %9s %11s %8s  %s\n' request server req/s p50 p99 throughput 'µs CPU' errors
row() { # label, server, figures
  local label=$1 server=$2; shift 2
  local v=("$@")
  printf '%-27s %-7s %8s %9s %9s %9s/s %8s  %s\n' "$label" "$server" "${v[0]}" "${v[1]}" "${v[2]}" "${v[3]}" "${v[4]}" "${v[*]:5}"
}
run() { # path, label, extra wrk args
  local path=$1 label=$2; shift 2
  local u f
  if ((FLOOR && rep % 2)); then
    # Every other time the floor goes first, so that neither is always
    # the one loaded just after the other.
    f=($(load 19082 "$path" "$FL" "$@"))
    u=($(load 19081 "$path" "$UP" "$@"))
  else
    u=($(load 19081 "$path" "$UP" "$@"))
    ((FLOOR)) && f=($(load 19082 "$path" "$FL" "$@"))
  fi
  row "$path $label" upstate "${u[@]}"
  ((FLOOR)) || return 0
  row '' floor "${f[@]}"
  printf '%-27s %-7s %7.0f%% %20s %12s %7.2fx\n' '' share "$(echo "${u[0]} * 100 / ${f[0]}" | bc -l)" '' '' "$(echo "${u[4]} / ${f[4]}" | bc -l)"
}
for ((rep = 0; rep < REPEAT; rep++)); do for c in $CASES; do
  case $c in
    json-plain) run /api/v2/summary.json plain ;;
    json-gzip) run /api/v2/summary.json gzip -H "Accept-Encoding: gzip" ;;
    page-plain) run / plain ;;
    page-gzip) run / gzip -H "Accept-Encoding: gzip" ;;
    *) echo "unknown case $c (json-plain json-gzip page-plain page-gzip)"; exit 1 ;;
  esac
done; done
printf 'RSS after the load: %s MiB at once, ' "$(rss "$UP")"
sleep "$SETTLE"
printf '%s MiB %d s later (peak %.0f MiB)%s\n' "$(rss "$UP")" "$SETTLE" "$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$UP/status")" \
  "$( ((FLOOR)) && printf '; the floor: %s MiB' "$(rss "$FL")")"
