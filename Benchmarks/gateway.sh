#!/bin/bash
# The gateway measurements of docs/benchmarks.md, in a row: four rounds of
#   miss overhead at 1 connection (against the mock called directly),
#   hits only at 64 connections, the mock alone under the same load (the same-run reference),
#   each with the server's CPU time per request,
#   90 % hits at 64 connections,
# then semantic hits in a cache of 100,000 entries beside the mock again, and the same cache
# reopened with int8 vectors (cache.hnsw.vectors: int8; the index rebuilt from the store),
# then misses only to a mock that takes 500 ms. Each case starts Deja on an empty cache.
#
#   swift build -c release && Benchmarks/gateway.sh [ROUNDS]
#
# Uses ports 8080 (Deja), 8081 (the mock) and 8082 (the slow mock); stop `make run` first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DEJA_BIN:-.build/release/deja}
ROUNDS=${1:-4}
mkdir -p .run
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

deja=""
start_deja() {  # start_deja [ENV=VALUE ...]: Deja on :8080, empty cache
    [ -n "$deja" ] && kill "$deja" 2>/dev/null && wait "$deja" 2>/dev/null || true
    rm -f .run/deja-cache.*
    reopen_deja "$@"
}
reopen_deja() {  # reopen_deja [ENV=VALUE ...]: Deja on :8080 on the cache it had, once ready
    [ -n "$deja" ] && kill "$deja" 2>/dev/null && wait "$deja" 2>/dev/null || true
    while ss -ltn | grep -q ":8080 "; do sleep 0.2; done
    env DEJA_ADMIN_KEY=bench "$@" $B serve --config fixtures/deja.run.yaml > .run/bench-serve.log 2>&1 &
    deja=$!
    pids+=("$deja")
    until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
}
row() { grep -E "$1" | tr -s ' ' | tr '\n' ' '; echo; }

$B mock-upstream --port 8081 > .run/bench-mock.log 2>&1 &
mock=$!
pids+=("$mock")
for r in $(seq "$ROUNDS"); do
    start_deja
    echo "miss    $($B bench gateway --concurrency 1 --hit-ratio 0 --duration 8 --direct http://127.0.0.1:8081/v1 | row '^miss|adds')"
    start_deja
    echo "hits    $($B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --server-pid "$deja" | row '^(hit|semantic)|CPU')"
    echo "mock    $($B bench gateway --url http://127.0.0.1:8081 --concurrency 64 --hit-ratio 1 --duration 10 --warm 1 --server-pid "$mock" | row '^all|CPU')"
    start_deja
    echo "mixed   $($B bench gateway --concurrency 64 --hit-ratio 0.9 --duration 10 | row '^(all|hit|miss)')"
done
# Semantic hits in a cache of 100,000 entries: each repeat reworded, so the HNSW search and the
# verifier answer it (the fill goes through the lookup API, about a minute).
start_deja DEJA_CACHE_MAX_ENTRIES=200000
echo "semantic $(DEJA_ADMIN_KEY=bench $B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --fill 100000 --paraphrase --server-pid "$deja" 2>/dev/null | row '^(hit|semantic)|CPU')"
echo "mock    $($B bench gateway --url http://127.0.0.1:8081 --concurrency 64 --hit-ratio 1 --duration 10 --warm 1 --server-pid "$mock" | row '^all|CPU')"
reopen_deja DEJA_CACHE_MAX_ENTRIES=200000 DEJA_CACHE_HNSW_VECTORS=int8
echo "int8    $($B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --paraphrase --server-pid "$deja" 2>/dev/null | row '^(hit|semantic)|CPU')"
echo "mock    $($B bench gateway --url http://127.0.0.1:8081 --concurrency 64 --hit-ratio 1 --duration 10 --warm 1 --server-pid "$mock" | row '^all|CPU')"
$B mock-upstream --port 8082 --latency-ms 500 > .run/bench-mock-slow.log 2>&1 &
pids+=($!)
start_deja DEJA_PROVIDERS_MOCK_BASE_URL=http://127.0.0.1:8082/v1
echo "slow    $($B bench gateway --concurrency 64 --hit-ratio 0 --duration 10 --warm 1 | row '^miss')"
