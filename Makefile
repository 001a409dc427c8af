# make run   - the whole service on this machine (uWSGI, Celery worker and beat), with demo data
# make test  - lint, type check, migration and OpenAPI checks, then the test suite (PYTEST_ARGS=--create-db in CI)
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help install db run test seed clean

help:
	@echo "make run    set up .venv and the database, seed demo data, start web + Celery worker + beat"
	@echo "make test   ruff, mypy, makemigrations --check, OpenAPI validation, pytest (PYTEST_ARGS=...)"
	@echo "make seed   (re)run the idempotent demo data command"
	@echo "make clean  remove .venv, .run/ and staticfiles/"

install:
	@scripts/bootstrap.sh

db: install
	@$(PY) scripts/ensure_db.py

run:
	@scripts/run.sh

seed: db
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

test: install
	$(PY) scripts/ensure_db.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@status=0; $(VENV)/bin/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests, which is a failure" >&2; fi; \
	exit $$status

clean:
	rm -rf $(VENV) .run staticfiles

# make bench        - create/read throughput and latency vs. the psycopg floor (bench/README.md)
# make bench-scale  - read latency and EXPLAIN at 1,000,000 and 10,000 orders, p95 ratio per read (bench/README.md)
BENCH_ARGS ?=
.PHONY: bench bench-scale
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

bench-scale: install
	$(PY) -m bench.scale $(BENCH_ARGS)
