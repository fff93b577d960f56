# The two commands of the quick start: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest pytest-sqlite pytest-postgres web web-test openapi browser cjk-font clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set up, build the seeded demo city on SQLite and serve it at http://127.0.0.1:8000
demo: $(STAMP) cjk-font
	$(BIN)/firegrid demo

## Set up and run the whole test suite: lint, types, tests (SQLite; also PostgreSQL in CI)
test: $(STAMP) lint typecheck web-test browser cjk-font pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports  # context boundaries (pyproject [tool.importlinter], tools/boundaries.py)

typecheck: $(STAMP)
	$(BIN)/mypy

## In CI (or with FIREGRID_TEST_POSTGRES set) the SQLite and PostgreSQL passes run side by side
pytest: $(STAMP)
	@if [ "$${CI:-}" = "true" ] || [ -n "$${FIREGRID_TEST_POSTGRES:-}" ]; then \
		BIN=$(BIN) bash scripts/pytest-both-databases.sh; \
	else \
		FIREGRID_TEST_DB=sqlite $(BIN)/python -m pytest -q; \
	fi

pytest-sqlite: $(STAMP)
	FIREGRID_TEST_DB=sqlite $(BIN)/python -m pytest -q

pytest-postgres: $(STAMP)
	FIREGRID_TEST_DB=postgres $(BIN)/python -m pytest -q

## Build the console into src/firegrid/web/static (needs Node 20 + npm; the package ships it built)
web:
	cd web && npm ci --no-audit --no-fund && npm run build

## The OpenAPI document and the console's types generated from it (web/src/generated/)
openapi: $(STAMP)
	$(BIN)/python -m firegrid.api.openapi_dump

## The console's unit tests (Vitest); skipped with a message when npm is absent
web-test:
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --no-audit --no-fund --silent && npx tsc --noEmit && npx vitest run; \
	else echo "web-test: npm not found, skipping the console's Vitest tests"; fi

## Debian's Chromium for the browser tests (installed when missing and we may use apt)
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
		else echo "browser: chromium not installed; browser tests will skip (fail in CI)"; fi; \
	fi
	@# the console's Chinese needs a CJK font in headless screenshots, even where Chromium came first
	@if ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1 && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) \
			|| echo "browser: could not install fonts-wqy-microhei (Chinese shows as boxes in screenshots)"; \
	fi

## The CJK font embedded in the PDF first-due sheets (Debian's WenQuanYi Micro Hei; or set
## FIREGRID_CJK_FONT to any .ttf/.ttc with Chinese glyphs)
cjk-font:
	@if [ -z "$${FIREGRID_CJK_FONT:-}" ] && ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) \
				|| echo "cjk-font: could not install fonts-wqy-microhei; PDF sheets will refuse with a hint"; \
		else echo "cjk-font: install fonts-wqy-microhei (or set FIREGRID_CJK_FONT) for PDF sheets"; fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
