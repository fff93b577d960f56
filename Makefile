# The two commands of the quick start: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest pytest-sqlite pytest-postgres clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set up, build the seeded demo city on SQLite and serve it at http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/firegrid demo

## Set up and run the whole test suite: lint, types, tests (SQLite; also PostgreSQL in CI)
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: pytest-sqlite
	@if [ "$${CI:-}" = "true" ] || [ -n "$${FIREGRID_TEST_POSTGRES:-}" ]; then \
		$(MAKE) --no-print-directory pytest-postgres; \
	fi

pytest-sqlite: $(STAMP)
	FIREGRID_TEST_DB=sqlite $(BIN)/python -m pytest -q

pytest-postgres: $(STAMP)
	FIREGRID_TEST_DB=postgres $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
