#!/usr/bin/env bash
# Benchmark: 500 concurrent wrong-password sign-ins, each from its own
# address and for its own account (so only Upstate's bound on password
# hashes in flight holds them back), against a page of 100 components.
# Reports Upstate's peak RSS during the flood and the public page's p50/p99
# under wrk, first alone and then during the flood.
#
#   [UPSTATE_SRC=DIR] [POLITE=1] bench/signin.sh [SECONDS=20] [SIGNINS=500]
#
# By default each of the SIGNINS clients sends its next sign-in as soon as
# it has an answer (an attacker's flood); POLITE=1 makes them wait as long
# as Retry-After says (browsers whose people try again).
# UPSTATE_SRC builds Upstate from another checkout (e.g. a worktree of an
# older commit) for a before/after comparison. Needs wrk (Debian package
# wrk). Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
N=${2:-500}
SRC=${UPSTATE_SRC:-.}
POLITE_FLAG=false
[ -n "${POLITE:-}" ] && POLITE_FLAG=true
OUT=$PWD/bench/out/signin
rm -rf "$OUT" && mkdir -p "$OUT/data"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
ulimit -n 65536 2> /dev/null || true

(cd "$SRC" && go build -o "$OUT/upstate" ./cmd/upstate)
go build -o "$OUT/signin" ./bench/signin
{
  echo "page: {name: Bench, url: http://127.0.0.1:19082, time_zone: UTC}"
  # Trust loopback as a proxy, so each sign-in's X-Forwarded-For is its own
  # client (an older Upstate without trusted_proxies sees them all as one).
  if grep -q trusted_proxies "$SRC/internal/config/config.go"; then
    echo "server: {listen: 127.0.0.1:19082, data_dir: ./data, trusted_proxies: [127.0.0.1]}"
  else
    echo "server: {listen: 127.0.0.1:19082, data_dir: ./data}"
  fi
  echo "components:"
  for ((c = 0; c < 100; c++)); do echo "  - {id: c$c, name: Component $c, group: Group $((c / 10))}"; done
} > "$OUT/upstate.yaml"
printf '%s\n' "a good long password 1" | "$OUT/upstate" user add --config "$OUT/upstate.yaml" --email owner@bench.example --name Owner > /dev/null

"$OUT/upstate" serve --config "$OUT/upstate.yaml" --log-level error > "$OUT/serve.out" 2> "$OUT/serve.log" & UP=$!
trap 'kill $UP 2>/dev/null; wait $UP 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:19082/healthz > /dev/null; do sleep 0.2; done

page() { # label
  local out p50 p99 rps
  out=$(wrk -t1 -c50 -d"${SECS}s" --latency -H "Accept-Encoding: gzip" http://127.0.0.1:19082/)
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  printf 'page %-22s %9s req/s  p50 %8s  p99 %8s\n' "$1" "$rps" "$p50" "$p99"
}
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$UP/status"; }
printf 'RSS before: %s MiB\n' "$(rss)"
page "alone"
peak=0
( while kill -0 $UP 2> /dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$OUT/peak"; sleep 0.1; done ) & WATCH=$!
"$OUT/signin" -url http://127.0.0.1:19082/api/v1/login -n "$N" -d "$((SECS + 2))s" -polite="$POLITE_FLAG" > "$OUT/signin.out" & LOAD=$!
sleep 1
page "during $N sign-ins"
wait $LOAD
kill $WATCH 2> /dev/null || true
cat "$OUT/signin.out"
printf 'RSS: peak during the flood %s MiB (VmHWM %.0f MiB), after %s MiB\n' "$(cat "$OUT/peak" 2>/dev/null || echo ?)" "$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$UP/status")" "$(rss)"
