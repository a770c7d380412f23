# Mesa 24/7 payments back office. `make run` for a local demo on SQLite,
# `make test` for the whole suite on PostgreSQL.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mesa247

.PHONY: setup run test lint schema clean bench

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# Local demo on the embedded SQLite database (DEBUG on, demo signing secret):
# migrate, load the sample, finance login and API token, web on :8000 and a worker.
run: setup
	DEBUG=true PROCESSOR_WEBHOOK_SECRETS=$${PROCESSOR_WEBHOOK_SECRETS:-whsec_local_demo} bin/demo

# The whole suite, on PostgreSQL (DATABASE_URL, default: local server, database mesa247).
test: setup
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

# Speed over HTTP against gunicorn + qcluster in a fresh <db>_bench database, next to SPEC §9
# (PostgreSQL; not part of `make test`). BENCH_ARGS: see `python -m bench.run --help`.
bench: setup
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m bench.run $(BENCH_ARGS)

schema: setup
	DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file openapi.yaml

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
