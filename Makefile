# Deja: `make run` sets up and runs the gateway, `make test` sets up and runs the tests.
# Both install what is missing first (Debian/Ubuntu packages through apt).

APT_PACKAGES := pkg-config libopenblas-dev liblapacke-dev libsqlite3-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift

.PHONY: all deps build release test test-tsan run bench-index anchors clean

all: build

## Install the system packages that are missing, and check that Swift is there.
deps:
	@command -v $(SWIFT) >/dev/null || { echo "deja: Swift 6.2 or newer is needed: install it from https://www.swift.org/install/linux/ and run make again"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deja: installing$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product deja

## Unit and integration tests, then the concurrency tests again under ThreadSanitizer.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) test-tsan

test-tsan: deps
	$(SWIFT) test --scratch-path .build-tsan --sanitize=thread --filter "SharedIndexTests|CacheConcurrencyTests"

## Until the gateway lands, `make run` builds Deja and benchmarks its index on a generated set.
run: release
	.build/release/deja bench index --n 20000 --dim 128 --queries 1000

bench-index: release
	.build/release/deja bench index --n 100000 --dim 384 --queries 1000 --clusters 1000

## The side-by-side run against hnswlib, FAISS and USearch (../shared/bench/anchors.py).
anchors: release
	@test -x .anchors/venv/bin/python || { python3 -m venv .anchors/venv && .anchors/venv/bin/pip install -q numpy hnswlib faiss-cpu usearch psutil threadpoolctl; }
	.anchors/venv/bin/python ../shared/bench/anchors.py --external deja='.build/release/deja bench index --anchors-request'

clean:
	rm -rf .build .build-tsan
