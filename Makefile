# perceiverd: the two commands a new machine needs are `make test` and `make serve`.
# Each installs what is missing first: Debian packages through apt-get; Python packages go into venvs
# (.venv for tools/, .venv-clients for the tritonclient test).

SWIFT        ?= swift
APT_PACKAGES := libdnnl-dev libssl-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev openssl curl jq python3
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV         := .venv

.PHONY: deps test tsan serve build fixtures models models-check bench bench-reference bench-e2e fuzz venv clean

## deps: apt-get install what is missing: oneDNN, OpenSSL, zlib, libpng, libjpeg-turbo (-dev), and the openssl, curl,
## jq and python3 tools the tests and the docs' examples use.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

## test: build and run every test (fixtures are committed), then the CLI tests, the docs' shell examples and links,
## the citations of the docs in the code, tritonclient (a third-party KServe V2 client, pip-installed into
## .venv-clients) against the daemon, and the deployment tests (systemd unit, install.sh, Kubernetes/KServe manifests, Dockerfile; validators in .venv-deploy,
## a --static-swift-stdlib release build in .build-static).
test: deps
	$(SWIFT) build
	$(SWIFT) test
	Tests/cli/run.sh
	Tests/cli/readme_examples.sh
	Tests/cli/docs_links.sh
	Tests/cli/docs_citations.sh
	Tests/clients/run.sh
	Tests/deploy/run.sh

## tsan: every Swift test under ThreadSanitizer (own build in .build/tsan); fails on any race report or failure.
tsan: deps
	SWIFT=$(SWIFT) tools/tsan.sh

## serve: release build, then run the daemon with config.json (Ctrl-C drains and stops it).
serve: build
	.build/release/perceiverd serve --config config.json

## build: release build of perceiverd and the benchmark.
build: deps
	$(SWIFT) build -c release

## bench: forward-pass timings of the language-perceiver-sized model (random weights), medians.
bench: build
	.build/release/PerceiverBench --batch 1 --batch 8 --sequence 2048 --runs 5

## bench-reference: perceiverd against PyTorch (f32, bf16) on the language and vision models, with ratios.
bench-reference: deps
	tools/bench_reference.sh

## bench-e2e: perceiverd against the KServe Python model server wrapping transformers, same load.
bench-e2e: deps
	tools/bench_e2e.sh

## fuzz: build the libFuzzer targets (Sources/Fuzzing) and run each for SECONDS (default 60) on a copy of its seed
## corpus, one after another; ASAN=1 adds AddressSanitizer. Prints a summary table; fails on any crash, whose input
## lands in fuzz-artifacts/<target>/. See tools/fuzz.sh.
SECONDS ?= 60
fuzz:
	tools/fuzz.sh --seconds $(SECONDS) $(if $(ASAN),--asan)

## venv: the Python environment for tools/ (transformers + torch CPU).
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tools/requirements.txt
	touch $@

## fixtures: regenerate the golden tensors in Tests/PerceiverEngineTests/Fixtures with transformers.
fixtures: venv
	$(VENV)/bin/python tools/make_fixtures.py

## models: train the two shipped default models from scratch, seeded: models/digits (tools/train_digits.py, sklearn's
## 8x8 digits) and models/words (tools/train_words.py, Debian's wamerican word list, apt-get installed if missing).
## A few minutes on CPU; each writes its TRAINING.md (the report) and metrics.json beside the weights.
models: venv
	@dpkg-query -W -f='$${Status}' wamerican 2>/dev/null | grep -q "install ok installed" || \
	  { $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q wamerican; }
	$(VENV)/bin/python tools/train_digits.py
	$(VENV)/bin/python tools/export_digits_heldout.py
	$(VENV)/bin/python tools/train_words.py

## models-check: the shipped models through the release perceiverd against PyTorch: logits of every held-out digit
## and the words examples' fills (tools/eval_shipped_models.py).
models-check: build venv
	$(VENV)/bin/python tools/eval_shipped_models.py --perceiverd .build/release/perceiverd

clean:
	rm -rf .build
