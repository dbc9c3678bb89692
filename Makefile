# img-recog: `make demo` (set up + index a demo catalogue + one query), `make test` (lint + tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
DEMO_QUERY := data/demo-queries/coffee.jpg

.PHONY: demo test lint bench bench-cbr clean-index help

help:
	@echo "make demo   - create .venv, install, index a demo catalogue, run a query"
	@echo "make test   - create .venv with dev tools, run ruff, import-linter and pytest"
	@echo "make bench  - benchmark rebuild and query speed on ../shared/data/clothing-small"
	@echo "make bench-cbr - classification by retrieval: accuracy, calibrated precision/coverage"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.prod-installed: requirements-prod.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-prod.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements-prod.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.prod-installed

demo: $(VENV)/.prod-installed
	$(PY) scripts/make_demo_catalogue.py
	$(PY) -m app.cli.main rebuild; test $$? -le 3
	$(PY) -m app.cli.main query --image $(DEMO_QUERY) --k 5

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: $(VENV)/.prod-installed
	$(PY) scripts/bench_search.py

bench-cbr: $(VENV)/.prod-installed
	$(PY) scripts/bench_cbr.py

clean-index:
	rm -rf data/index data/app.db data/app.db-wal data/app.db-shm
