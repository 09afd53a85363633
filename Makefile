# cloudjudge — the two commands of the set-up contract are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint lock bench clean

setup: $(STAMP)

# Pinned dependencies from requirements.lock, then the project itself (editable).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The web application on http://127.0.0.1:8000 with demo data (passwords printed once).
run: setup
	CLOUDJUDGE_DEBUG=1 $(BIN)/cloudjudge manage migrate
	CLOUDJUDGE_DEBUG=1 $(BIN)/cloudjudge manage load_demo
	CLOUDJUDGE_DEBUG=1 $(BIN)/cloudjudge serve

# The whole suite on SQLite, then everything that touches the database again
# on a real local PostgreSQL server that this target starts itself.
test: setup lint
	scripts/test-deps
	$(BIN)/python -m pytest
	DATABASE_URL="$$(scripts/postgres-test-server start)" $(BIN)/python -m pytest tests/web -m "not e2e"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-pin after changing pyproject.toml dependencies.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra web --extra dev --python-version 3.11 -o requirements.lock

# Speed and memory figures (printed, never asserted); targets are in each script.
bench: setup
	$(BIN)/python benchmarks/engine.py --n 100000
	$(BIN)/python benchmarks/registry.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/audit.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
