#!/bin/bash
# What the dashboard costs the gateway (docs/benchmarks.md#dashboard): exact hits (64
# connections, 10 s) with nobody watching and with the dashboard's data read five times a second
# (the overview's, the cache page's and the live page's calls: far more than a few open tabs, which
# poll every 2 to 10 s), alternating (ABBA), each with the server's CPU per request.
#
#   swift build -c release && Benchmarks/dashboard.sh [ROUNDS]
#
# Uses ports 8080 (Deja) and 8081 (the mock); stop `make run` first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DEJA_BIN:-.build/release/deja}
PY=${PYTHON:-.build-py/bin/python}
ROUNDS=${1:-2}
mkdir -p .run
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
rm -f .run/deja-cache.* .run/deja-governance.*
$B mock-upstream --port 8081 > .run/bench-mock.log 2>&1 &
pids+=($!)
export DEJA_ADMIN_KEY=bench
$B serve --config fixtures/deja.run.yaml > .run/bench-serve.log 2>&1 &
deja=$!
pids+=("$deja")
until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
row() { grep -E "$1" | tr -s ' ' | tr '\n' ' '; echo; }
hits() { $B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --server-pid "$deja" | row '^hit|CPU'; }
watched() {
    "$PY" - <<'PY' &
import http.client, time
c = http.client.HTTPConnection("127.0.0.1", 8080)
h = {"authorization": "Bearer bench"}
while True:
    for path in ("/v1/admin/traffic?range=hour", "/v1/cache/stats?namespaces=20", "/v1/admin/traffic?range=day",
                 "/v1/admin/requests?limit=50", "/ui/assets/app.js"):
        c.request("GET", path, headers=h)
        c.getresponse().read()
    time.sleep(0.2)
PY
    local watcher=$!
    echo "watched    $(hits)"
    kill $watcher
}
unwatched() { echo "unwatched  $(hits)"; }
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then unwatched; watched; else watched; unwatched; fi
done
