# img-recog: `make demo` (set up + index a demo catalogue + one query), `make test` (lint + tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
DEMO_QUERY := data/demo-queries/coffee.jpg

.PHONY: demo test lint bench bench-cbr bench-stores clean-index help

help:
	@echo "make demo   - create .venv, install, index a demo catalogue, run a query"
	@echo "make test   - create .venv with dev tools, run ruff, import-linter and pytest (+ PostgreSQL)"
	@echo "make bench  - benchmark rebuild and query speed on ../shared/data/clothing-small"
	@echo "make bench-stores - vector stores at 10k/100k synthetic vectors (see scripts/bench_stores.py)"
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

# pytest runs beside a throw-away PostgreSQL (installed with apt-get when missing and root);
# the server is stopped and removed afterwards, also when tests fail. The web page's browser
# tests drive Debian's Chromium, installed the same way.
test: lint
	scripts/ensure_chromium.sh
	scripts/pg_test_server.sh $(BIN)/pytest -q

bench: $(VENV)/.prod-installed
	$(PY) scripts/bench_search.py

bench-stores: $(VENV)/.prod-installed
	$(PY) scripts/bench_stores.py --sizes 10000 100000

bench-cbr: $(VENV)/.prod-installed
	$(PY) scripts/bench_cbr.py

clean-index:
	rm -rf data/index data/app.db data/app.db-wal data/app.db-shm
