# segmint: two commands on a fresh machine.
#   make demo   create .venv, install segmint, run the main job on built-in demo data
#   make test   create .venv with test extras, install chromium if missing, run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/segmint --workspace demo.duckdb demo

# Browser tests drive Debian's chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/import_orders.py
	$(BIN)/python benchmarks/refresh.py

clean:
	rm -rf $(VENV) demo.duckdb demo-data .pytest_cache
