#!/bin/bash
# What routing costs a miss (docs/routing.md): misses (--hit-ratio 0) to a model with one
# deployment and to one with three weighted deployments (breakers on, the default), against one
# running gateway, alternating (ABBA), each with its latency and the server's CPU per request.
# Both routes have the cache off, so that a miss is the proxying alone: embedding and storing
# would add a millisecond of work whose spread hides what routing costs.
#
#   swift build -c release && Benchmarks/routing.sh [ROUNDS]
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
cp fixtures/deja.run.yaml .run/bench-routing.yaml
cat >> .run/bench-routing.yaml <<'YAML'
  single:
    cache: false
    deployments:
      - {provider: mock, model: gpt-4o-mini}
  routed:
    cache: false
    deployments:
      - {provider: mock, model: gpt-4o-mini-a, weight: 3}
      - {provider: mock, model: gpt-4o-mini-b, weight: 2}
      - {provider: mock, model: gpt-4o-mini-c, weight: 1}
YAML
rm -f .run/deja-cache.* .run/deja-governance.*
$B mock-upstream --port 8081 > .run/bench-mock.log 2>&1 &
pids+=($!)
DEJA_ADMIN_KEY=bench $B serve --config .run/bench-routing.yaml > .run/bench-serve.log 2>&1 &
deja=$!
pids+=("$deja")
until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
row() { grep -E "$1" | tr -s ' ' | tr '\n' ' '; echo; }
one() { echo "1 deployment  $($B bench gateway --model single --concurrency 16 --hit-ratio 0 --duration 10 --server-pid "$deja" | row '^all|CPU')"; }
three() { echo "3 deployments $($B bench gateway --model routed --concurrency 16 --hit-ratio 0 --duration 10 --server-pid "$deja" | row '^all|CPU')"; }
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then one; three; else three; one; fi
done
