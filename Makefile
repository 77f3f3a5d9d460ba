# jina-loadgen: `make demo` and `make test` work from a fresh clone; both set everything up.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
FLOW_VENV := .venv-flow
PIP_QUIET := --quiet --disable-pip-version-check
DEMO_ARGS ?= --headless -u 8 -r 8 -t 30s --preindex-docs 2000 --results-dir results/demo --only-summary

.PHONY: help setup venv venv-flow demo test bench compare-protocols proto clean k8s-check browser prometheus chaos demo-real bench-merge bench-memory

help:
	@echo "make demo   - set up, start the demo Flow, run a 30 s image load, print p50/p95/p99"
	@echo "make demo-real - the demo on the bundled handwritten digits (real data)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make chaos  - the fault scenarios alone (they also run in make test)"
	@echo "make bench  - client CPU per request: loadgen vs jina.Client vs raw clients (gRPC, websocket, HTTP)"
	@echo "make compare-protocols - the same search load over gRPC, websocket, HTTP per request size"
	@echo "make proto  - regenerate loadgen/wire/*_pb2.py from the .proto files"
	@echo "make k8s-check - validate docker/k8s offline (schema + references; kubectl kustomize if present)"
	@echo "make clean  - remove virtualenvs and results"

setup: venv venv-flow

venv: $(VENV)/.installed
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(VENV)/bin/pip install $(PIP_QUIET) -e '.[dev]'
	touch $@

# jina pins urllib3<2 and Locust needs urllib3>=2: the system under test gets its own venv.
# A current pip resolves jina's dependencies quickly; the constraints file pins what was tested.
venv-flow: $(FLOW_VENV)/.installed
$(FLOW_VENV)/.installed: requirements/flow.txt requirements/flow-constraints.txt
	$(PYTHON) -m venv $(FLOW_VENV)
	$(FLOW_VENV)/bin/pip install $(PIP_QUIET) --upgrade pip
	$(FLOW_VENV)/bin/pip install $(PIP_QUIET) -r requirements/flow.txt -c requirements/flow-constraints.txt
	touch $@

demo: setup
	$(VENV)/bin/locust -f locustfiles/image.py $(DEMO_ARGS)

# The same demo on real data shipped in the package: 1797 handwritten digits (CC BY 4.0).
demo-real: setup
	$(VENV)/bin/locust -f locustfiles/image.py $(DEMO_ARGS:results/demo=results/demo-real) \
		--dataset builtin:digits --image-shape 32,32,3 --preindex-docs 1797

test: setup browser prometheus
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium through Playwright (no browser download). Installing
# it needs root (as in CI); without it those tests are skipped and say why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: no chromium (run 'make browser' as root); browser tests will be skipped"; }

# The observability tests run Debian's Prometheus server (started by a fixture on a loopback
# port, docs/observability.md). Installing it needs root (as in CI); without it those tests
# are skipped and say why.
prometheus:
	@command -v prometheus >/dev/null || { [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null) \
		|| echo "warning: no prometheus (run 'make prometheus' as root); its tests will be skipped"; }

# Fault scenarios (a gateway killed, stalled, signals, lost workers...); also part of `make test`.
chaos: setup
	$(VENV)/bin/python -m pytest -m chaos $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python benchmarks/bench_clients.py $(BENCH_ARGS)

# Side measurements: master merge CPU (seconds) and a load generator's memory (5 minutes).
bench-merge: setup
	$(VENV)/bin/python benchmarks/bench_merge.py

bench-memory: setup
	$(VENV)/bin/python benchmarks/bench_memory.py $(MEMORY_ARGS)

compare-protocols: setup
	$(VENV)/bin/python benchmarks/compare_protocols.py $(COMPARE_ARGS)

# Offline: `kubectl apply --dry-run=client` needs an API server, so the schema check is
# kubernetes-validate's (the test extra); kubectl, when installed, renders the kustomization.
k8s-check: venv
	$(VENV)/bin/python -m loadgen.cloud.k8s_check docker/k8s
	@if command -v kubectl >/dev/null; then kubectl kustomize docker/k8s >/dev/null && echo "kubectl kustomize docker/k8s: ok"; \
	else echo "kubectl not installed: kustomization rendering not checked"; fi

proto: venv
	$(VENV)/bin/python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. \
		loadgen/wire/docarray.proto loadgen/wire/jina.proto

clean:
	rm -rf $(VENV) $(FLOW_VENV) results .pytest_cache
