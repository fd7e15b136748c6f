# Pinwheel — the two commands: `make run` and `make test`.
VENV     ?= .venv
PYTHON   ?= python3
BIN      := $(VENV)/bin
export FLASK_APP := wsgi.py
HOST     ?= 127.0.0.1
PORT     ?= 5000

.PHONY: run test install install-test translations catalogues serve bench clean

## make run: install into .venv, migrate the SQLite database, load the demo centre, serve.
run: install translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## make test: install what the tests need and run the whole suite (SQLite, PostgreSQL, browser).
test: install-test translations
	bash scripts/test.sh

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	# the Open Badges validator pins releases that no longer import on Python 3.11; its working
	# dependencies are pinned in requirements-test.txt, so it goes in without its own pins
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps openbadges==1.1.2
	touch $@

## Compile the zh_Hans and en catalogues (the .mo files are built, not committed).
translations: install
	$(BIN)/pybabel compile --statistics -d app/translations 2>&1 | tail -n 2

## Re-extract the strings and update both catalogues after changing user-facing text.
catalogues: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-by-file --width 100 -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete --width 100
	$(BIN)/python scripts/fill_en_catalogue.py

## Production: gunicorn behind the same wsgi.py (SECRET_KEY and DATABASE_URL must be set).
serve: install translations
	PINWHEEL_CONFIG=production $(BIN)/flask db upgrade
	PINWHEEL_CONFIG=production $(BIN)/flask incentives install-defaults
	PINWHEEL_CONFIG=production $(BIN)/gunicorn --workers $${WORKERS:-4} --bind $${BIND:-0.0.0.0:8000} --access-logfile - wsgi:app

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
