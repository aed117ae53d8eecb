# Parkgate: the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
APPS := core accounts parking access portal booking payments controlroom backoffice members privacy sites

.PHONY: run test test-fast test-dates lint format bench messages translations check-deploy clean lock wheel prod-check

# Dependencies: pyproject.toml says what Parkgate needs (exact pins); requirements/runtime.lock (what
# production installs) and requirements/dev.lock (runtime + the dev extra) pin everything with hashes.
# They are generated, never edited: change pyproject.toml, then `make lock`.
$(STAMP): requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Parkgate needs Python 3.11 or newer")'
	@$(PYTHON) scripts/lock_check.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Parkgate's dependencies into $(VENV) (the first time takes a few minutes)"
	@$(call PIP_INSTALL,--require-hashes -r requirements/dev.lock)
	@touch $(STAMP)

# A machine-wide pip configuration may name index or find-links folders that do not exist here: pip
# then warns about each of them for every package it looks up (hundreds of lines above the demo's
# logins). Only those lines are dropped; anything else pip says, errors included, is shown, and a
# failed install still stops make (pipefail).
PIP_NOISE := ^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory\.$$
PIP_INSTALL = set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check $(1) 2>&1 \
	| { grep -v -E "$(PIP_NOISE)" || true; }

UV_VERSION := 0.13.8
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock"

# Re-lock both files from pyproject.toml, keeping every version already locked that still fits
# (UPGRADE=1 lets everything move to the newest release). Removes the old single requirements.lock.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/uv --version 2>/dev/null | grep -q ' $(UV_VERSION)' \
		|| { $(call PIP_INSTALL,uv==$(UV_VERSION)); }
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) -o requirements/runtime.lock
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) --extra dev -c requirements/runtime.lock -o requirements/dev.lock
	@rm -f requirements.lock
	@git rm -q --cached --ignore-unmatch requirements.lock 2>/dev/null || true
	@$(PYTHON) scripts/lock_check.py && echo "Locked: requirements/runtime.lock, requirements/dev.lock"

# The wheel an operator installs (templates, static files, compiled translations, migrations inside).
wheel: $(STAMP)
	@rm -rf dist build
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist .
	@ls dist/*.whl

# The deployed shape on loopback, end to end (scripts/prod_check.py says what it checks).
prod-check: $(STAMP)
	@$(PY) scripts/prod_check.py $(ARGS)

translations: $(STAMP)
	@DEBUG=true $(PY) manage.py compile_translations --quiet

# Serve the embedded (SQLite) demo at http://$(HOST):$(PORT). DEBUG is on only here.
# Without STRIPE_SECRET_KEY, the bundled Stripe test server runs alongside on $(STRIPE_PORT) (paid
# portals, hosted checkout, signed webhooks to this site) and stops with runserver.
STRIPE_PORT ?= 8111
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) translations
	@mkdir -p var
	@DEBUG=true $(PY) manage.py migrate --noinput -v0
	@DEBUG=true $(PY) manage.py createcachetable
	@if [ -z "$$STRIPE_SECRET_KEY" ]; then \
		export STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT); \
		if $(PY) scripts/wait_port.py 127.0.0.1 $(STRIPE_PORT) 0; then \
			echo "Port $(STRIPE_PORT) is in use: stop what listens there or run make run STRIPE_PORT=<free port>"; exit 1; \
		fi; \
		$(PY) -m devtools.stripe_test_server --port $(STRIPE_PORT) \
			--webhook-url $$SITE_URL/payments/webhook/ --state-file var/stripe-test-server.json \
			>var/stripe-test-server.log 2>&1 & stripe_pid=$$!; \
		trap 'kill $$stripe_pid 2>/dev/null; wait $$stripe_pid 2>/dev/null' EXIT; \
		trap 'exit 130' INT TERM; \
		$(PY) scripts/wait_port.py 127.0.0.1 $(STRIPE_PORT) \
			|| { echo "The Stripe test server did not start (var/stripe-test-server.log)"; exit 1; }; \
		echo "Stripe test server on $$STRIPE_API_BASE (webhooks to $$SITE_URL/payments/webhook/)"; \
	fi; \
	DEBUG=true EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.locmem.EmailBackend} $(PY) manage.py demo; \
	DEBUG=true EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.locmem.EmailBackend} \
		$(PY) manage.py housekeeping --every 60 >var/housekeeping.log 2>&1 & housekeeping_pid=$$!; \
	trap 'kill $$housekeeping_pid $$stripe_pid 2>/dev/null; wait $$housekeeping_pid $$stripe_pid 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "Periodic jobs every 60 s (expired holds, e-mail and refund retries): var/housekeeping.log"; \
	echo ""; \
	echo "Serving http://$(HOST):$(PORT)/  (Ctrl+C to stop)"; \
	DEBUG=true EMAIL_BACKEND=$${EMAIL_BACKEND:-django.core.mail.backends.locmem.EmailBackend} \
		$(PY) manage.py runserver $(HOST):$(PORT)

# Test-only JavaScript (axe-core for the accessibility checks), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make test needs npm for the accessibility checks (apt-get install npm; .ci/run does it)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

test: $(STAMP) node_modules/.installed
	@$(PY) scripts/test.py $(ARGS)

# Everyday tier: everything but the browser and benchmark-like tests (no npm, no Chromium needed).
test-fast: $(STAMP)
	@$(PY) scripts/test.py -m "not browser and not bench" $(ARGS)

# The date-sensitive tests at each awkward instant (weekend, Monday 00:30 in Brussels, clock changes,
# New Year's Eve, a leap day): one table row per instant (scripts/date_matrix.py).
test-dates: $(STAMP) node_modules/.installed
	@$(PY) scripts/date_matrix.py $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy parkgate config
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# Extract translatable strings into each app's own catalogue (needs GNU gettext; developers only).
messages: $(STAMP)
	@for app in $(APPS); do \
		mkdir -p parkgate/$$app/locale; \
		(cd parkgate/$$app && DEBUG=true ../../$(PY) ../../manage.py makemessages -l fr -l nl --no-obsolete -v0) || exit 1; \
	done

# The production checks (parkgate/core/checks.py) refuse SQLite, a non-atomic cache and a local
# SITE_URL: this runs them with the production kinds (check --deploy opens no connection).
CHECK_DATABASE_URL ?= postgres://parkgate@127.0.0.1:5432/parkgate
CHECK_REDIS_URL ?= redis://127.0.0.1:6379/0
check-deploy: $(STAMP)
	@DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
		ALLOWED_HOSTS=parkgate.example.org SITE_URL=https://parkgate.example.org \
		DATABASE_URL=$(CHECK_DATABASE_URL) CACHE_BACKEND=redis REDIS_URL=$(CHECK_REDIS_URL) \
		BEHIND_TLS_PROXY=true TRUSTED_PROXIES=127.0.0.1 \
		STRIPE_SECRET_KEY=sk_live_check_deploy_placeholder STRIPE_WEBHOOK_SECRET=whsec_check_deploy_placeholder \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var/static dist build parkgate.egg-info
