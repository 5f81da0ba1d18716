#!/usr/bin/env bash
# Benchmark: the public page and summary.json for a page of 1,000
# components, under 1,000 concurrent keep-alive clients (wrk, loopback),
# plain and gzip. Reports requests/s, p50/p99 latency, errors, throughput,
# and Upstate's RSS after the load.
#
#   [THREADS=1] bench/page.sh [SECONDS=20] [CONNECTIONS=1000]
#
# Needs wrk (Debian package wrk). Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-1000}
# One load thread by default: on a 2-core machine a second wrk thread takes
# the core Upstate would use, which measures wrk, not Upstate.
THREADS=${THREADS:-1}
OUT=bench/out/page
rm -rf "$OUT" && mkdir -p "$OUT/data"
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
ulimit -n 65536 2> /dev/null || true

go build -o "$OUT/upstate" ./cmd/upstate
go build -o "$OUT/target" ./bench/target
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

"$OUT/target" -listen 127.0.0.1:19001 & TARGET=$!
"$OUT/upstate" serve --config "$OUT/upstate.yaml" --log-level warn > "$OUT/serve.out" 2> "$OUT/serve.log" & UP=$!
trap 'kill $UP $TARGET 2>/dev/null; wait $UP $TARGET 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:19081/healthz > /dev/null; do sleep 0.2; done
# Wait for the failing check's incident to be on the page.
until curl -s http://127.0.0.1:19081/api/v2/incidents/unresolved.json | grep -q '"status":"investigating"'; do sleep 0.5; done

size() { curl -s -o /dev/null -w '%{size_download}' -H "Accept-Encoding: $2" "http://127.0.0.1:19081$1"; }
run() { # path, encoding label, extra wrk args
  local path=$1 label=$2; shift 2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$@" "http://127.0.0.1:19081$path")
  local rps p50 p99 errs tput
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  tput=$(awk '/Transfer\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  errs=$(awk '/Socket errors|Non-2xx/ {print}' <<< "$out" | tr '\n' ' ')
  printf '%-24s %-5s %10s req/s  p50 %8s  p99 %8s  %10s/s  errors: %s\n' "$path" "$label" "$rps" "$p50" "$p99" "$tput" "${errs:-none}"
}
printf 'sizes: summary.json %s B plain, %s B gzip; / %s B plain, %s B gzip\n' \
  "$(size /api/v2/summary.json identity)" "$(size /api/v2/summary.json gzip)" "$(size / identity)" "$(size / gzip)"
run /api/v2/summary.json plain
run /api/v2/summary.json gzip -H "Accept-Encoding: gzip"
run / plain
run / gzip -H "Accept-Encoding: gzip"
printf 'RSS after the load: %.0f MiB (peak %.0f MiB)\n' \
  "$(awk '/VmRSS/ {print $2 / 1024}' "/proc/$UP/status")" "$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$UP/status")"
