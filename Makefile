# perceiverd: the two commands a new machine needs are `make test` and `make serve`.
# Each installs what is missing first: Debian packages through apt-get; Python packages go into venvs
# (.venv for tools/, .venv-clients for the tritonclient test). Every script in tools/ is reached from a target
# here (tools/README.md).

SWIFT        ?= swift
APT_PACKAGES := libdnnl-dev libssl-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev openssl curl jq python3
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV         := .venv

.PHONY: deps test tsan soak serve build fixtures demo-model powers-of-ten models models-check bench bench-reference \
        bench-e2e bench-batching bench-cores bench-flow bench-flow-tiles bench-latents fuzz venv clean

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
## .venv-clients) against the daemon, and the deployment tests (systemd unit, install.sh, Kubernetes/KServe
## manifests, Dockerfile; validators in .venv-deploy, a --static-swift-stdlib release build in .build-static).
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
	SWIFT=$(SWIFT) tools/qa/tsan.sh

## soak: a long steady load on the release daemon (models/demo-mlm), watching memory and file descriptors for
## leaks (tools/qa/soak.sh: 600 s by default; DURATION=30 WARMUP=10 for a quick check; HOSTILE=1 adds
## tools/qa/hostile_load.py beside the normal clients). Fails on any error, RSS growth or fd leak.
soak: deps
	tools/qa/soak.sh

## serve: release build, then run the daemon with config.json (Ctrl-C drains and stops it).
serve: build
	.build/release/perceiverd serve --config config.json

## build: release build of perceiverd and the benchmark.
build: deps
	$(SWIFT) build -c release

## bench: forward-pass timings of the language-perceiver-sized model (random weights), medians.
bench: build
	.build/release/PerceiverBench --batch 1 --batch 8 --sequence 2048 --runs 5

## bench-reference: perceiverd against PyTorch (f32, bf16) and ONNX Runtime (f32) on the language and vision models,
## with ratios, % of the matmul peak and the targets.
bench-reference: deps
	tools/bench/bench_reference.sh

## bench-e2e: perceiverd against the KServe Python model server wrapping transformers, same load.
bench-e2e: deps
	tools/bench/bench_e2e.sh

## bench-batching: throughput and latency with and without dynamic batching on four models, and where a request's
## time goes (about 16 minutes; MODELS=small for a quick check, MODELS=mid for the compute-bound model at 32
## clients, about 1 minute). See tools/bench/bench_batching.sh.
bench-batching: deps
	tools/bench/bench_batching.sh

## bench-cores: cores follow the work: the language model's fill alone and beside an idle model, and two busy
## models sharing the cores against the old static split (about 5 minutes). See tools/bench/bench_cores.sh.
bench-cores: deps
	tools/bench/bench_cores.sh

## bench-flow: one optical-flow frame pair at the published geometry, the full field against 4096 chosen pixels.
bench-flow: deps
	tools/bench/bench_flow.sh

## bench-flow-tiles: a 720x1280 frame pair at the published geometry, tiled: the tiles batched within 1 GiB of
## estimated pass memory against one tile a pass (time per tile, peak RSS). See tools/bench/bench_flow.sh.
bench-flow-tiles: deps
	tools/bench/bench_flow.sh tiles

## bench-latents: the latent cache end to end over HTTP: optical flow at 368x496, language-perceiver, DeepMind's
## 128-chunk multimodal loop and resident memory under 32 clients, uncached against cached, each target PASS or FAIL
## (about 15 minutes on 2 quiet cores; QUICK=1 is a smoke run of about 6). See tools/bench/bench_latents.sh.
bench-latents: deps
	QUICK=$(QUICK) tools/bench/bench_latents.sh

## fuzz: build the libFuzzer targets (Sources/Fuzzing) and run each for SECONDS (default 60) on a copy of its seed
## corpus, one after another; ASAN=1 adds AddressSanitizer. Prints a summary table; fails on any crash, whose input
## lands in fuzz-artifacts/<target>/. See tools/qa/fuzz.sh.
SECONDS ?= 60
fuzz:
	tools/qa/fuzz.sh --seconds $(SECONDS) $(if $(ASAN),--asan)

## venv: the Python environment for tools/ (transformers + torch CPU, ONNX Runtime; tools/requirements.txt).
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tools/requirements.txt
	touch $@

## fixtures: regenerate every committed test fixture with the pinned transformers, torch and Pillow (seeded, so the
## files come out the same), in this order: the parity models and tensors (make_fixtures.py deletes and recreates
## the whole Tests/PerceiverEngineTests/Fixtures, images/ included), the image fixtures, the kernel tests' golden
## values, the fuzz seed corpora (which read the parity cases, the images and models/demo-mlm), and the shipped
## digits' held-out split.
fixtures: venv
	$(VENV)/bin/python tools/fixtures/make_fixtures.py
	$(VENV)/bin/python tools/fixtures/make_image_fixtures.py
	$(VENV)/bin/python tools/fixtures/make_prep_fixtures.py
	$(VENV)/bin/python tools/fixtures/make_fuzz_seeds.py
	$(VENV)/bin/python tools/fixtures/export_digits_heldout.py

## demo-model: rewrite models/demo-mlm (random weights, seeded): the model make soak serves, also a fuzz seed.
demo-model: venv
	$(VENV)/bin/python tools/fixtures/make_demo_model.py

## powers-of-ten: rewrite Sources/JSONKit/PowersOfTen.swift, JSONKit's exact table of 10^e (standard library only).
powers-of-ten:
	python3 tools/fixtures/make_powers_of_ten.py

## models: train the two shipped default models from scratch, seeded: models/digits (tools/training/train_digits.py,
## sklearn's 8x8 digits; then tools/fixtures/export_digits_heldout.py writes its held-out split for the tests) and
## models/words (tools/training/train_words.py, Debian's wamerican word list, apt-get installed if missing).
## A few minutes on CPU; each writes its TRAINING.md (the report) and metrics.json beside the weights.
models: venv
	@dpkg-query -W -f='$${Status}' wamerican 2>/dev/null | grep -q "install ok installed" || \
	  { $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q wamerican; }
	$(VENV)/bin/python tools/training/train_digits.py
	$(VENV)/bin/python tools/fixtures/export_digits_heldout.py
	$(VENV)/bin/python tools/training/train_words.py

## models-check: the shipped models through the release perceiverd against PyTorch: logits of every held-out digit
## and the words examples' fills (tools/training/eval_shipped_models.py).
models-check: build venv
	$(VENV)/bin/python tools/training/eval_shipped_models.py --perceiverd .build/release/perceiverd

clean:
	rm -rf .build
