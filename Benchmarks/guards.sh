#!/bin/bash
# The guards' cost on the hit path (docs/guards.md): exact hits at 64 connections with every
# guard off, and with all seven DLP detectors redacting prompts and answers and the injection
# guard flagging, alternating (ABBA), each with the server's CPU time per request; then the
# scanners alone on one core (deja bench guards).
#
#   swift build -c release && Benchmarks/guards.sh [ROUNDS]
#
# Uses ports 8080 (Deja) and 8081 (the mock); stop `make run` first.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DEJA_BIN:-.build/release/deja}
ROUNDS=${1:-2}
mkdir -p .run
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

deja=""
start_deja() {  # start_deja [ENV=VALUE ...]: Deja on :8080 on an empty cache, once ready
    [ -n "$deja" ] && kill "$deja" 2>/dev/null && wait "$deja" 2>/dev/null || true
    while ss -ltn | grep -q ":8080 "; do sleep 0.2; done
    rm -f .run/deja-cache.* .run/deja-governance.*
    env DEJA_ADMIN_KEY=bench "$@" $B serve --config fixtures/deja.run.yaml > .run/bench-serve.log 2>&1 &
    deja=$!
    pids+=("$deja")
    until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
}
row() { grep -E "$1" | tr -s ' ' | tr '\n' ' '; echo; }

$B mock-upstream --port 8081 > .run/bench-mock.log 2>&1 &
pids+=($!)

off() {
    start_deja
    echo "off $($B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --server-pid "$deja" | row '^all|CPU')"
}
on() {
    start_deja DEJA_GUARDS_DLP_PROMPT=redact DEJA_GUARDS_DLP_ANSWER=redact DEJA_GUARDS_INJECTION_ACTION=flag \
        DEJA_GUARDS_INJECTION_PATTERNS="$PWD/models/injection-patterns.json"
    echo "on  $($B bench gateway --concurrency 64 --hit-ratio 1 --duration 10 --server-pid "$deja" | row '^all|CPU')"
}
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then off; on; else on; off; fi
done
$B bench guards
