# uku: the two commands are `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
SANDBOX_PORT ?= 8765
# Production-like environment for `check --deploy` (throwaway values; never used to serve).
DEPLOY_ENV := DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-looking-value-0123456789abcdef \
	UKU_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	ALLOWED_HOSTS=uku.example.no DATABASE_URL=sqlite:///$(CURDIR)/var/check-deploy.sqlite3

.PHONY: run test install lint format bench reliability sandbox worker beat web migrate lock vendor services chromium clean

## install: create .venv and install the pinned dependencies (only when requirements.lock changed)
install: $(STAMP)
$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

## run: migrate, seed the demo firm, start web + worker + beat (+ Tripletex sandbox); Ctrl-C stops all
run: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-1} PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) exec $(PY) scripts/run_all.py

## test: lint, type check, migrations check, deploy check, then the whole suite on PostgreSQL + Redis + Chromium
test: install services chromium
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} --dist loadgroup $(PYTEST_ARGS)
	$(PY) -m benchmarks --quick

## reliability: the fault, tenancy, role x plan, secrets and fuzz matrices (full fuzz budget);
## every figure in var/reliability.json is counted by the tests that ran
RELIABILITY_TESTS ?= tests/reliability tests/uku/test_isolation.py \
	tests/integrations/tripletex/test_connect.py::test_a_canary_token_never_leaks \
	tests/integrations/merit/test_connect.py::test_a_canary_key_never_leaks \
	tests/integrations/test_worker_kill.py tests/billing/test_export_worker_kill.py
reliability: install services
	rm -rf var/reliability-parts
	UKU_RELIABILITY_PARTS=$(CURDIR)/var/reliability-parts $(PY) -m pytest -n $${PYTEST_WORKERS:-2} --dist loadgroup $(RELIABILITY_TESTS)
	$(PY) -m tests.reliability.report var/reliability-parts var/reliability.json

## bench: every performance figure beside its floor, in one run; writes var/bench.json
bench: install
	$(PY) -m benchmarks

## bench-quick: the same keys at smaller sizes; fails when a call or SQL statement target is missed
bench-quick: install
	$(PY) -m benchmarks --quick

## lint: ruff and mypy (mypy must report no finding; it needs no DEBUG or secrets)
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

## services: make sure PostgreSQL and Redis answer (starting them as ../shared/services.md shows)
services:
	@bash scripts/ensure_services.sh

## chromium: Debian's Chromium for the browser tests (never a test tool's own download)
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }

sandbox: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py tripletex_sandbox --port $(SANDBOX_PORT) --seed demo

web: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver --noreload 127.0.0.1:$(PORT)

worker: install
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A uku worker --loglevel INFO --concurrency 2

beat: install
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A uku beat --loglevel INFO

migrate: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate

## lock: re-pin every dependency from pyproject.toml into requirements.lock
lock:
	$(PY) -m piptools compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

## vendor: refresh static/vendor/ (Bootstrap, htmx) from the npm registry at the pinned versions
vendor:
	bash scripts/vendor_static.sh

clean:
	rm -rf var/celery var/static
