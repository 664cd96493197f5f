#!/bin/bash
# docs/images/dashboard-*.png (`make screenshots`): a gateway on 127.0.0.1:8080 in front of the
# mock upstream on 8081, with keys on, two tenants, a routed model whose second deployment
# fails, and a few hundred requests of repeats, paraphrases and new questions; then
# fixtures/dashboard_browser.py signs in and photographs each page at 1280x800.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${DEJA_BIN:-.build/release/deja}
mkdir -p .run docs/images
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
cp fixtures/deja.run.yaml .run/screenshots.yaml
sed -i 's|^server:|server:\n  auth: keys|' .run/screenshots.yaml
cat >> .run/screenshots.yaml <<'YAML'
  support-bot:
    provider: mock
    deployments:
      - {provider: mock, model: gpt-4o-mini, weight: 3}
      - {provider: mock, model: mock-error-500, weight: 1}
YAML
rm -f .run/deja-cache.* .run/deja-governance.*
$B mock-upstream --port 8081 --latency-ms 300 > .run/screenshots-mock.log 2>&1 &
pids+=($!)
export DEJA_ADMIN_KEY=screenshots-admin-key
$B serve --config .run/screenshots.yaml > .run/screenshots-serve.log 2>&1 &
pids+=($!)
until curl -sf http://127.0.0.1:8080/readyz > /dev/null; do sleep 0.2; done
admin=(-H "authorization: Bearer $DEJA_ADMIN_KEY" -H 'content-type: application/json')
curl -sf "${admin[@]}" http://127.0.0.1:8080/v1/admin/tenants -d '{"id": "acme", "budget_usd": 0.02}' > /dev/null
curl -sf "${admin[@]}" http://127.0.0.1:8080/v1/admin/tenants -d '{"id": "globex", "budget_usd": 0.01, "rpm": 600}' > /dev/null
acme=$(curl -sf "${admin[@]}" http://127.0.0.1:8080/v1/admin/keys -d '{"tenant": "acme", "name": "support-bot"}' | .build-py/bin/python -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
globex=$(curl -sf "${admin[@]}" http://127.0.0.1:8080/v1/admin/keys -d '{"tenant": "globex", "name": "search"}' | .build-py/bin/python -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
ask() {  # key model prompt
    curl -s -o /dev/null http://127.0.0.1:8080/v1/chat/completions -H "authorization: Bearer $1" -H 'content-type: application/json' \
        -d "{\"model\": \"$2\", \"messages\": [{\"role\": \"user\", \"content\": \"$3\"}]}"
}
questions=("How do I reset my password?" "How can I reset my password?" "What are your opening hours?"
           "When are you open?" "How do I cancel my subscription?" "Can I get a refund?" "Where is my order?"
           "How do I change my email address?" "Do you ship to Canada?" "What payment methods do you accept?")
for round in $(seq 1 12); do
    asking=()
    for q in "${questions[@]}"; do ask "$acme" support-bot "$q" & asking+=($!); done
    ask "$globex" gpt-4o-mini "Summarise ticket number $round for the weekly report"
    ask "$globex" gpt-4o-mini "${questions[$((round % 10))]}"
    wait "${asking[@]}"
done
.build-py/bin/python fixtures/dashboard_browser.py http://127.0.0.1:8080 "$DEJA_ADMIN_KEY" --screenshots docs/images > .run/screenshots.json
ls -l docs/images/dashboard-*.png
