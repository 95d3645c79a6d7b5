# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install migrate lint check serve clean-demo worker

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

## Install, migrate the embedded SQLite database under var/, load the demo data,
## print a steward login and serve the admin on http://127.0.0.1:8000/admin/
demo: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py load_demo
	DEBUG=$${DEBUG:-true} $(PY) manage.py create_steward
	@echo "Admin: http://$(HOST):$(PORT)/admin/"
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

## Run every test (on SQLite unless DATABASE_URL points elsewhere).
test: install
	DEBUG=$${DEBUG:-true} $(PY) -m pytest $(PYTEST_ARGS)

## A Celery worker for queued imports (import_records --background) and other tasks.
## Needs a broker: CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker
worker: migrate
	@test -n "$$CELERY_BROKER_URL" || { echo "set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)"; exit 2; }
	DEBUG=$${DEBUG:-true} $(VENV)/bin/celery -A mdm worker --pool solo --loglevel INFO

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

check: lint
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py check

clean-demo:
	rm -rf var/
