# bigov task runner: the README's two commands, and what CI calls.
#   make demo  — set up, then generate the demo enterprise and run the main job on SQLite
#   make test  — set up, then lint, type-check and run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-output
DEMO_DB := sqlite:///$(DEMO_DIR)/bigov.db
PYTEST_ARGS ?=

.PHONY: setup demo serve test test-all lint typecheck format bench clean system-deps

setup: $(STAMP)

# Re-install whenever pyproject.toml changes; the stamp keeps repeated runs instant.
$(STAMP): pyproject.toml
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

# The main job on the embedded default: a demo enterprise, then a whole quarter of governance
# cycles (July–September 2026, FY2027 Q2) for every node that sits in it, with the main board's
# pack also as PDF.
DEMO_PERIODS ?= 2026-07 2026-08 2026-09
DEMO_BOARD ?= GOV-BOARD
demo: $(STAMP)
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BIN)/bigov demo --db $(DEMO_DB)
	$(BIN)/bigov status --db $(DEMO_DB)
	@for p in $(DEMO_PERIODS); do \
	  echo "== governance cycles for $$p"; \
	  $(BIN)/bigov cycle run --all --period $$p --db $(DEMO_DB) --out $(DEMO_DIR)/packs || exit 1; \
	done
	$(BIN)/bigov cycle show $(DEMO_BOARD)/$(lastword $(DEMO_PERIODS)) --db $(DEMO_DB) \
	  --render $(DEMO_DIR)/packs -f html -f pdf -f xlsx
	@echo "MI packs: $(CURDIR)/$(DEMO_DIR)/packs (main board: $(DEMO_BOARD)/$(lastword $(DEMO_PERIODS)))"
	$(BIN)/python scripts/demo_users.py $(DEMO_DB)

# The REST API on the demo database (after `make demo`, which printed one user per role and their
# passwords): a fresh admin token, then `bigov serve` on http://127.0.0.1:8000 (OpenAPI at
# /api/v1/docs); Ctrl-C stops it.
serve: $(STAMP)
	$(BIN)/python scripts/demo_users.py $(DEMO_DB)
	$(BIN)/bigov serve --db $(DEMO_DB)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# The suite minus tests marked slow; `make test-all` runs everything. One worker per core
# (pytest-xdist), a test file per worker at a time so module fixtures (the demo quarter) are
# built once; each worker has its own PostgreSQL schema and SQLite template.
XDIST ?= -n auto --dist loadfile
test: lint typecheck
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

test-all: lint typecheck
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
