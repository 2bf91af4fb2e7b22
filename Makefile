# funnelhouse — one-command setup, demo and tests. Everything installs from the project's files.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOME_DIR ?= data
DASHBOARD_PORT ?= 8501
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests need (headless browser tests of the dashboards).
DEBIAN_PACKAGES := chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup system-packages demo test bench lint format clean

help:
	@echo "make demo   set up, generate demo data into $(HOME_DIR)/, run the pipeline, serve the dashboards"
	@echo "make test   set up and run the test suite"
	@echo "make lint   ruff check and format check"
	@echo "make bench  the scale scenario (BENCH_SCALE contacts, default 100000); figures to bench/RESULTS.md"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Idempotent: the lock file pins every Python package; uv only installs what changed.
# `dbt parse` writes the manifest Dagster reads when the definitions are imported.
setup: $(UV) system-packages
	$(UV) sync --frozen --quiet
	$(BIN)/python -c "from pipelines.dbt_project import ensure_manifest; ensure_manifest()"

demo: setup
	@if ! ls $(HOME_DIR)/landing/events/*.jsonl >/dev/null 2>&1; then \
		$(BIN)/funnelhouse generate --home $(HOME_DIR); \
	else echo "demo data already in $(HOME_DIR)/landing (delete it to regenerate)"; fi
	$(BIN)/funnelhouse run --home $(HOME_DIR)
	$(BIN)/funnelhouse dashboard --home $(HOME_DIR) --port $(DASHBOARD_PORT)

# Two workers, one test file each at a time (module fixtures stay in one process): most of
# the suite waits on dbt and server subprocesses, so two cores halve the wall time.
test: setup
	$(BIN)/pytest -n 2 --dist loadfile

# Not part of `make test`: the scale scenario, timed step by step (bench/scale.py).
BENCH_SCALE ?= 100000
bench: setup
	$(BIN)/python bench/scale.py --contacts $(BENCH_SCALE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
