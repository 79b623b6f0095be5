# RagRec: `make demo` and `make test` are all a new user needs (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ragrec-deps-$(shell sha256sum pyproject.toml | cut -c1-12)
PORT ?= 8000

.PHONY: setup demo test lint browser services-up services-down serve clean-services

setup: $(STAMP)
	$(BIN)/ragrec setup
	@# engine: vegeta, the open-loop load generator of `ragrec benchmark api --rate` (Go module)
	@test -x .ragrec/bin/vegeta || { command -v go >/dev/null && GOBIN=$$PWD/.ragrec/bin go install github.com/tsenart/vegeta/v12@v12.12.0; } || echo "vegeta not installed (needs Go): only 'ragrec benchmark api --rate' needs it"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "RagRec needs Python 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.ragrec-deps-*
	@touch $@

services-up: setup
	$(BIN)/ragrec services up

services-down:
	@test -x $(BIN)/ragrec && $(BIN)/ragrec services down || true

# each step is a no-op when already done, so a second `make demo` goes straight to serving
demo: services-up
	$(BIN)/ragrec load-data data/sample --if-empty
	$(BIN)/ragrec generate-embeddings
	$(BIN)/ragrec discover-personas --if-missing --no-stability
	$(BIN)/ragrec refresh --if-missing
	@$(BIN)/python -m app.pages.urls --port $(PORT)
	@# the worker (new purchases, events, products every 30 s) runs beside the API and stops with it
	@mkdir -p .ragrec/logs; \
	RAGREC_N8N_API_URL=http://127.0.0.1:$(PORT) $(BIN)/ragrec worker >> .ragrec/logs/worker.log 2>&1 & \
	worker=$$!; trap "kill $$worker 2>/dev/null" EXIT; \
	echo "ragrec worker running (pid $$worker, log .ragrec/logs/worker.log)"; \
	$(BIN)/ragrec serve --port $(PORT)

# the browser tests drive Debian's chromium (Playwright from PyPI, never `playwright install`)
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "the browser tests need Chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check ragrec app tests
	$(BIN)/ruff format --check ragrec app tests
	$(BIN)/mypy

# tests start their own private stack (tests/conftest.py): the user's services and data are untouched
test: setup lint browser
	$(BIN)/pytest -q
