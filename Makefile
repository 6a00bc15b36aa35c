# Rapport: `make run` to use it, `make test` to test it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 8000
export PATH := $(BIN):$(PATH)

.PHONY: run test browser-tools trust lint fmt demo bench clean

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Serve the app with its Celery worker and beat (Ctrl-C stops all three).
run: export DJANGO_DEBUG ?= 1
run: export PORT := $(PORT)
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --skip-if-exists
	@echo "Rapport: http://127.0.0.1:$(PORT)/  (log in as demo@example.com / demo)"
	exec $(BIN)/honcho -f Procfile.dev start

# The whole suite. Set DATABASE_URL / CELERY_BROKER_URL to test on PostgreSQL / Redis.
# It runs in PYTEST_WORKERS processes (pytest-xdist; one per core by default, 0 for one process).
PYTEST_WORKERS ?= auto
test: export SECRET_KEY ?= test-only-not-secret
test: export FIELD_ENCRYPTION_KEYS ?= dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1rZXktMzJieXQ=
test: export SITE_URL ?= http://127.0.0.1:8000
test: export RAPPORT_VAR_DIR ?= $(CURDIR)/var/test
test: $(VENV)/.installed browser-tools
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The browser tests need Debian's Chromium, Java (Nu HTML checker) and npm (axe-core, vnu-jar);
# the inbound email tests a real IMAP server (Dovecot, started by tests/inbound/test_imap.py).
# On a fresh Debian machine run as root, `make test` installs what is missing; elsewhere it says
# what to install (the e2e tests then fail rather than skip).
browser-tools:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq $$missing fonts-noto-color-emoji; \
	  else \
	    echo "The browser tests need:$$missing (apt-get install$$missing), or run make test PYTEST_ARGS='-m \"not e2e\"'"; \
	  fi; \
	fi

# The trust suite alone (isolation, XSS, fuzzing, faults, load), ending with its summary table.
# The load test needs PostgreSQL: set DATABASE_URL (and CELERY_BROKER_URL) as for `make test`.
trust: export SECRET_KEY ?= test-only-not-secret
trust: export FIELD_ENCRYPTION_KEYS ?= dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1rZXktMzJieXQ=
trust: export SITE_URL ?= http://127.0.0.1:8000
trust: export RAPPORT_VAR_DIR ?= $(CURDIR)/var/test
trust: $(VENV)/.installed
	$(BIN)/python -m pytest -m trust $(PYTEST_ARGS)

# mypy imports the settings (django-stubs reads the models from them), which need these two.
lint: export SECRET_KEY ?= lint-only-not-secret
lint: export FIELD_ENCRYPTION_KEYS ?= dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1rZXktMzJieXQ=
lint: export SITE_URL ?= http://127.0.0.1:8000
lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: export DJANGO_DEBUG ?= 1
demo: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo

# Page timings and query counts at 100, 10,000 and 100,000 people (BENCH_SIZES=100,10000 to choose);
# needs PostgreSQL in DATABASE_URL. The 100,000-person book (1,000,000 conversations) seeds once, in minutes.
bench: export SECRET_KEY ?= bench-only-not-secret
bench: export FIELD_ENCRYPTION_KEYS ?= dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1rZXktMzJieXQ=
bench: export SITE_URL ?= http://127.0.0.1:8000
bench: $(VENV)/.installed
	@test -n "$(DATABASE_URL)" || (echo "make bench needs DATABASE_URL=postgres://..." && exit 2)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py bench

clean:
	rm -rf var/test .pytest_cache .ruff_cache
