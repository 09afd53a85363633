# cloudjudge — the two commands of the set-up contract are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-fast lint lock bench clean

setup: $(STAMP)

# Pinned dependencies from requirements.lock, then the project itself (editable).
# scripts/build-deps first: python-ldap compiles against libldap2-dev and libsasl2-dev.
$(STAMP): pyproject.toml requirements.lock
	scripts/build-deps
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
# on a real local PostgreSQL server that this target starts itself. The tests
# start their own slapd and OpenID Connect provider on free loopback ports and
# stop them; CLOUDJUDGE_REQUIRE_TEST_SERVERS=1 makes a missing slapd a failure.
# The total time is printed at the end, pass or fail.
test: setup
	@start=$$(date +%s); status=0; \
	{ scripts/test-deps && \
	  $(MAKE) --no-print-directory lint && \
	  CLOUDJUDGE_REQUIRE_TEST_SERVERS=1 $(BIN)/python -m pytest --durations=15 && \
	  DATABASE_URL="$$(scripts/postgres-test-server start)" CLOUDJUDGE_REQUIRE_TEST_SERVERS=1 \
	    $(BIN)/python -m pytest tests/web -m "not e2e" --durations=15; } || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in all"; exit $$status

# The fast loop: the pure core's tests (catalog, engine, registries, documents,
# the terminal report and the CLI in-process); no database, under a minute.
FAST_TESTS := tests/catalog tests/engine tests/registries tests/documents \
	tests/test_terminal.py tests/test_labels.py tests/test_cli.py tests/test_lint.py
test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider $(FAST_TESTS)

# ruff, the layer contracts (pyproject.toml [tool.importlinter]), mypy against
# its shrinking baseline, and the compiled translations; .pre-commit-config.yaml
# runs the same.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/mypy-baseline
	scripts/check-translations

# Re-pin after changing pyproject.toml dependencies.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra web --extra dev --python-version 3.11 -o requirements.lock

# Speed and memory figures (printed, never asserted); targets are in each script.
bench: setup
	$(BIN)/python benchmarks/engine.py --n 100000
	$(BIN)/python benchmarks/registry.py
	$(BIN)/python benchmarks/hostile.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/audit.py
	$(BIN)/python benchmarks/load.py --time 30
	$(BIN)/python benchmarks/scale.py --scale 0.01

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis .mypy_cache .import_linter_cache .grimp_cache
