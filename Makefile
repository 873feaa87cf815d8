# Showboard: `make run` serves a seeded forum, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench cluster-check install install-dev clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(FLASK) init-db
	$(FLASK) posts rerender
	$(FLASK) boards import shows.example.toml --keep-existing
	$(FLASK) demo
	@echo "Serving on http://127.0.0.1:5000 with a job worker beside it (Ctrl-C stops both)"
	@# The worker (mail, periodic jobs) runs in the background; whichever way the web server
	@# ends (Ctrl-C reaches both, or it fails to start), the trap stops the worker and waits.
	@$(FLASK) worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Lint, formatting and types; each step runs even if an earlier one fails, so one run shows all.
lint: install-dev
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy forum || status=1; \
	exit $$status

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

# The deploy guide's layout on one machine: two app hosts in network namespaces behind nginx.
cluster-check: install-dev
	bash ops/cluster-check.sh

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
