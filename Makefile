# Every target installs what it needs first, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-prerequisites lint bench bench-webhooks bench-sandbox migrations-check container-test clean

#: The runtime alone (what `make demo` and `fixwurx` need); $(STAMP) adds the development tools.
RUNTIME := $(VENV)/.runtime

$(RUNTIME): requirements.txt pyproject.toml
	@echo "make: installing FixWurx's runtime into $(VENV) (about 40 packages; a minute or two the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install --progress-bar off -r requirements.txt -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME) requirements-dev.txt
	@echo "make: adding the development tools (tests, lint, browser driver) to $(VENV)"
	$(BIN)/pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

install: $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

demo: $(RUNTIME)
	@echo "make: fixwurx fix examples/buggy_calc (about 30 s; afterwards run it yourself as $(BIN)/fixwurx)"
	$(BIN)/fixwurx fix examples/buggy_calc

test: test-prerequisites $(STAMP) node_modules/.installed
	$(BIN)/pytest -q

# What the suite needs from the machine, checked before anything is installed or run.
test-prerequisites:
	@$(PYTHON) scripts/test_prerequisites.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Migrations must apply from scratch and match the models (SQLite here; tests cover PostgreSQL).
migrations-check: $(STAMP)
	mkdir -p instance && rm -f instance/ci-migrations.sqlite3
	DATABASE_URL=sqlite:///instance/ci-migrations.sqlite3 $(BIN)/alembic upgrade head
	DATABASE_URL=sqlite:///instance/ci-migrations.sqlite3 $(BIN)/alembic check

# The shipped image, run as deploy/docker-compose.yml runs it, repairs a bug against the fake
# GitHub (tests/container/run.py). Needs root and Docker (installed and started when missing).
# Ends with one line: `container-test: fixed`, or the reason and a non-zero status.
container-test: $(STAMP) node_modules/.installed
	$(BIN)/python -m tests.container.run

bench: $(STAMP)
	$(BIN)/python benchmarks/run_repair.py

# Webhook ingress under load: gunicorn on loopback, PostgreSQL and Redis on 127.0.0.1.
bench-webhooks: $(STAMP)
	$(BIN)/python benchmarks/webhook_load.py

bench-sandbox: $(STAMP)
	$(BIN)/python benchmarks/sandbox_overhead.py

clean:
	rm -rf $(VENV) node_modules
