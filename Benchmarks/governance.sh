#!/bin/bash
# Governance's cost on the hit path (docs/governance.md): exact hits at 64 and at 4 connections
# with server.auth none, and with server.auth keys and 1,000 keys (10 tenants sharing one cache
# scope, every key and tenant with requests, tokens, concurrency and budget limits on), alternating,
# each with the server's CPU time per request; then the usage ledger's write rate (deja bench ledger).
#
#   swift build -c release && Benchmarks/governance.sh [ROUNDS]
#
# Uses ports 8080 (Deja) and 8081 (the mock); stop `make run` first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DEJA_BIN:-.build/release/deja}
ROUNDS=${1:-3}
mkdir -p .run
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
export DEJA_GOVERNANCE_STORE=../.run/bench-governance.sqlite
rm -f .run/bench-governance.sqlite*

deja=""
start_deja() {  # start_deja [ENV=VALUE ...]: Deja on :8080 on an empty cache, once ready
    [ -n "$deja" ] && kill "$deja" 2>/dev/null && wait "$deja" 2>/dev/null || true
    while ss -ltn | grep -q ":8080 "; do sleep 0.2; done
    rm -f .run/deja-cache.*
    env DEJA_ADMIN_KEY=bench "$@" $B serve --config fixtures/deja.run.yaml > .run/bench-serve.log 2>&1 &
    deja=$!
    pids+=("$deja")
    until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
}
row() { grep -E "$1" | tr -s ' ' | tr '\n' ' '; echo; }

$B mock-upstream --port 8081 > .run/bench-mock.log 2>&1 &
pids+=($!)

# 1,000 keys through the admin API: 10 tenants of 100 keys, one shared cache scope.
start_deja DEJA_SERVER_AUTH=keys
python3 - <<'PY'
import json, urllib.request
def post(path, body):
    req = urllib.request.Request("http://127.0.0.1:8080/v1/admin/" + path, data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer bench", "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
limits = {"rpm": 10_000_000, "tpm": 1_000_000_000, "max_concurrent": 10_000, "budget_usd": 1_000_000}
keys = []
for t in range(10):
    post("tenants", dict(id=f"bench-{t}", cache_scope="bench", **limits))
    for k in range(100):
        keys.append(post("keys", dict(tenant=f"bench-{t}", **limits))["secret"])
open(".run/bench-keys.txt", "w").write("\n".join(keys) + "\n")
PY
echo "keys    $(wc -l < .run/bench-keys.txt) made"

none() {
    start_deja DEJA_SERVER_AUTH=none
    echo "none  $1 $($B bench gateway --concurrency "$1" --hit-ratio 1 --duration 10 --server-pid "$deja" | row '^all|CPU')"
}
keys() {
    start_deja DEJA_SERVER_AUTH=keys
    echo "keys  $1 $($B bench gateway --concurrency "$1" --hit-ratio 1 --duration 10 --keys-file .run/bench-keys.txt --server-pid "$deja" | row '^all|CPU')"
}
# At 64 connections (the server and the load generator share the two cores) and at 4 (the
# server not saturated, so CPU per request is steadier), in ABBA order, so that a machine getting
# faster or slower during the run favours neither.
for connections in 64 4; do
    for r in $(seq "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then none $connections; keys $connections; else keys $connections; none $connections; fi
    done
done
$B bench ledger --rows 200000 | tail -2
