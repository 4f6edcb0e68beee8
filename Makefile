# Ruyi — the two commands: `make run` (demo on SQLite) and `make test` (the test suite).
# Each creates the virtual environment, installs packages and prepares the database itself.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test test-sqlite test-postgres e2e lint translations compile-translations clean help

help:
	@echo "make run     - install, migrate, seed demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test    - run the tests on SQLite (and PostgreSQL when TEST_DATABASE_URL is set)"
	@echo "make lint    - ruff"
	@echo "make translations - extract messages and update the three catalogues"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -d app/translations

run: $(VENV)/.installed compile-translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed --if-empty
	@echo
	@echo "Ruyi is starting on http://$(HOST):$(PORT)/ with one job consumer (Ctrl-C stops both)"
	@$(BIN)/flask demo accounts
	@echo
	@trap 'kill -TERM $$consumer 2>/dev/null; wait $$consumer' EXIT INT TERM; \
	$(BIN)/flask jobs worker --workers 2 & consumer=$$!; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed compile-translations
	TEST_DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== PostgreSQL: $$TEST_DATABASE_URL"; \
	  $(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS); \
	fi

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --ignore-dirs ".* __pycache__" \
	  -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/ruyi.db* .pytest_cache test-results
