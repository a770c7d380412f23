# Mesa 24/7 payments back office. `make run` for a local demo, `make test` for
# the whole suite; both on the checkout's embedded PostgreSQL (.data/postgres/)
# unless DATABASE_URL names a server.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Starts the embedded server for the command (unless DATABASE_URL is set) and stops it after, if it started it.
WITH_DATABASE := $(PY) -m mesa247.embedded_postgres run --

.PHONY: setup run test lint schema clean bench db-stop

setup: $(VENV)/.installed

# requirements.txt is the service's (what the Docker image installs); requirements-dev.txt adds
# the tests, the benchmark and the linters, and includes the first.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# Local demo (DEBUG on, demo signing secret): embedded PostgreSQL, migrate, load the
# sample and reconcile its settlement report, finance login and API token, web on :8000
# and a worker. Ctrl-C stops all three.
run: setup
	DEBUG=true PROCESSOR_WEBHOOK_SECRETS=$${PROCESSOR_WEBHOOK_SECRETS:-whsec_local_demo} bin/demo

# The whole suite: on DATABASE_URL when set, else on the embedded PostgreSQL.
test: setup
	$(WITH_DATABASE) $(PY) -m pytest $(PYTEST_ARGS)

# ruff, the import contracts, and mypy with the Django and DRF stubs (configured in pyproject.toml;
# it loads the settings, which start no database).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Speed over HTTP against gunicorn + qcluster in a fresh <db>_bench database, next to the targets
# (not part of `make test`). BENCH_ARGS: see `python -m bench.run --help`.
bench: setup
	$(WITH_DATABASE) $(PY) -m bench.run $(BENCH_ARGS)

schema: setup
	DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file openapi.yaml

# Stop the embedded PostgreSQL (its data stays in .data/postgres/).
db-stop: setup
	$(PY) -m mesa247.embedded_postgres stop

clean:
	-[ ! -x $(PY) ] || $(PY) -m mesa247.embedded_postgres stop
	rm -rf $(VENV) .data staticfiles .pytest_cache .ruff_cache
