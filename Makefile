# The referral desk. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
export REFERRALS_ENV ?= development

.PHONY: help install assets db run serve test bench lint typecheck check browser keys clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	-git rev-parse --git-dir >/dev/null 2>&1 && git config core.hooksPath .githooks
	touch $@

install: $(BIN)/.installed ## Create the virtual environment and install the desk with its tools

static/build/.built: package.json package-lock.json $(wildcard static/src/*)
	npm install --no-audit --no-fund --silent
	mkdir -p static/build
	npx sass --load-path=node_modules --no-source-map --style=compressed --quiet-deps static/src/app.scss static/build/app.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/build/
	cp static/src/*.mjs static/build/
	touch $@

assets: static/build/.built ## Build the front-end (GOV.UK Frontend from npm, without the GOV.UK brand)

db: install ## Apply the migrations and load synthetic demo data if the database is empty
	$(FLASK) db upgrade
	$(FLASK) demo load

MAIL_PORT ?= 8025

run: install assets ## Start the desk with demo data on http://127.0.0.1:$(PORT), its scheduler and a mail catcher
	$(FLASK) db upgrade
	$(FLASK) demo load --no-sign-ins
	@PORT=$(PORT) MAIL_PORT=$(MAIL_PORT) $(BIN)/python -m referrals.devrun

serve: install assets ## Production-style server (gunicorn); needs REFERRALS_ENV=production and keys
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) wsgi:app

browser: ## Install Debian's Chromium for the browser tests (needs apt and root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "make browser: could not install chromium; browser tests will be skipped"; \
	  else echo "make browser: chromium missing and apt not usable; browser tests will be skipped"; fi; }

TEST_WORKERS ?= auto

test: install assets browser ## Run every test in parallel (one worker per core): SQLite always, PostgreSQL when reachable
	REFERRALS_ENV=test $(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=5 $(PYTEST_ARGS)

BENCH_N ?= 2000

bench: install assets ## Benchmarks through the real app at BENCH_N incidents (default 2000), SQLite and PostgreSQL
	BENCH_N=$(BENCH_N) $(BIN)/python bench/run.py

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy (strict) on the package, its tests and the bench
	$(BIN)/mypy

check: lint typecheck test ## Everything CI runs

keys: ## Print a fresh set of production keys
	@$(PYTHON) config.py

clean: ## Remove the virtual environment, built assets and caches (keeps instance/)
	rm -rf $(VENV) node_modules static/build .pytest_cache .mypy_cache .ruff_cache
