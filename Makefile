# Parity — the two commands a fresh machine needs are `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install stamps: `make run` installs only what running needs (RUN_STAMP); the test, lint and
# fuzz targets add the development extras (pytest, linters, the browser driver...) on top (STAMP).
RUN_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parity
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TYPED := rcm patients authorizations credentialing claims submissions denials dashboards reconciliation patient_accounts alerts webhooks interfaces fhir_api x12
# Tests run in parallel (pytest-xdist), one test database per worker: `make test PYTEST_WORKERS=1`
# (or 0) runs them in one process.
PYTEST_WORKERS ?= auto
TEST_ENV = DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	DJANGO_SETTINGS_MODULE=tests.settings
# Development runs with DEBUG on: with DEBUG off the settings require SECRET_KEY, ALLOWED_HOSTS
# and DATABASE_URL, as production does (docs/operations.md).
DEV_ENV = DEBUG=$${DEBUG:-true}
PORT ?= 8000

.PHONY: run test test-fast test-ahead test-faults test-replica x12-fuzz api-fuzz lint format typecheck migrate demo check-services e2e worker beat clean

# Packages install with uv (from PyPI, into the venv), which downloads and installs in parallel: the
# runtime set takes about 10 s where pip took 70-200 s. Where uv cannot be had, pip does it.
PIP_INSTALL = if [[ -x $(BIN)/uv ]]; then $(BIN)/uv pip install --quiet --python $(BIN)/python $(1); \
	else $(BIN)/pip install --quiet --disable-pip-version-check $(1); fi

$(RUN_STAMP): pyproject.toml
	@start=$$(date +%s); \
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv || \
	  echo "uv could not be installed: installing with pip (slower)"; \
	$(call PIP_INSTALL,-e .) && touch $(RUN_STAMP) && \
	echo "install: $$(( $$(date +%s) - start )) s"

$(STAMP): $(RUN_STAMP)
	$(call PIP_INSTALL,-e ".[dev]")
	touch $(STAMP)

## run: install what running needs, migrate, load demo data and serve on http://127.0.0.1:8000
## (install, migrate and seed print their times; a fresh clone serves its first page in about a minute: README)
run: $(RUN_STAMP)
	@start=$$(date +%s); $(DEV_ENV) $(BIN)/python manage.py migrate --noinput -v 0 && \
	  echo "migrate: $$(( $$(date +%s) - start )) s"
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then $(DEV_ENV) $(BIN)/python manage.py setup_db_roles; fi
	@start=$$(date +%s); $(DEV_ENV) $(BIN)/python manage.py seed_demo && \
	  echo "seed_demo: $$(( $$(date +%s) - start )) s"
	@echo "Parity is starting on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: lint, then every test against PostgreSQL and Redis, in parallel
test: $(STAMP) lint
	@$(TEST_ENV) $(BIN)/python -m rcm.check_services
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/python manage.py spectacular --fail-on-warn --validate --file /dev/null
	$(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## test-fast: every test but the browser tests and the isolation probe, in parallel (no lint)
test-fast: $(STAMP)
	@$(TEST_ENV) $(BIN)/python -m rcm.check_services
	$(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e and not probe" $(PYTEST_ARGS)

## x12-fuzz: mutate the X12 samples and feed every reader (FILES, SEED); any crash fails it
FILES ?= 20000
SEED ?= 1
x12-fuzz: $(STAMP)
	$(BIN)/python -m tests.x12.fuzz --files $(FILES) --seed $(SEED)

## test-ahead: the rule, service and X12 tests again, as if it were two years after the suite's
## default day (tests/clock.py), so a test that only passes near today fails the day it is written
TEST_AHEAD := tests/x12 $(sort $(wildcard tests/*/test_rules.py tests/*/test_services.py))
test-ahead: $(STAMP)
	@$(TEST_ENV) $(BIN)/python -m rcm.check_services
	$(TEST_ENV) PARITY_TEST_TODAY=$$($(BIN)/python -m tests.clock --years-ahead 2) \
		$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e and not probe" $(TEST_AHEAD) $(PYTEST_ARGS)

## test-faults: the fault tests (tests/faults/harness.py): their own redis-server on a spare port and
## database (<DATABASE_URL's name>_faults, dropped at the end), real Celery workers and beat, killed
## (kill -9) and cut off from Redis mid-work; each scenario must recover within its deadline. About
## 6 minutes, so not in .ci/run: run it before each release (docs/operations.md, "Fault tests").
test-faults: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m tests.faults

## test-replica: dashboards, reports and exports on a real streaming replica (tests/replica): a
## primary and a hot standby of their own (pg_basebackup; ports 5434/5435, a folder under /tmp),
## started, tested (reads routed to the standby, RLS there, fallback when it lags or is down) and
## removed. Needs the PostgreSQL server binaries; not in .ci/run (docs/scaling.md).
test-replica: $(STAMP)
	$(BIN)/python -m tests.replica.cluster start
	DATABASE_URL=postgres://postgres@127.0.0.1:5434/parity \
	DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:5435/parity \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} DJANGO_SETTINGS_MODULE=tests.settings \
	  $(BIN)/pytest -n 0 -p no:cacheprovider tests/replica $(PYTEST_ARGS); \
	  status=$$?; $(BIN)/python -m tests.replica.cluster stop; exit $$status

## api-fuzz: schemathesis against the OpenAPI schema on a throwaway database (tests/fuzz/api_fuzz.py):
## no 5xx, responses and status codes as documented, invalid input rejected. Fixed seed;
## API_FUZZ_EXAMPLES cases per operation and phase (CI: 5; nightly: see docs/contributing.md)
API_FUZZ_EXAMPLES ?= 5
api-fuzz: $(STAMP)
	@$(TEST_ENV) $(BIN)/python -m rcm.check_services
	$(TEST_ENV) API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(BIN)/python -m tests.fuzz.api_fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy $(TYPED)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy $(TYPED)

worker: $(RUN_STAMP)
	$(DEV_ENV) $(BIN)/celery -A rcm worker --loglevel=info

beat: $(RUN_STAMP)
	$(DEV_ENV) $(BIN)/celery -A rcm beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
