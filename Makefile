# The two commands a new machine needs (see README.md):
#   make serve   set up, ingest the bundled corpus if needed, and start the web app
#   make test    set up (including Debian's chromium for the browser test) and run the tests and the eval gate
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup serve ask test eval bench

$(BIN)/sendbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the CPU wheel in pyproject.toml; install it first so nothing resolves a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/sendbot

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

serve: setup
	$(BIN)/python app.py

test: setup /usr/bin/chromium
	$(BIN)/python -m pytest
	$(BIN)/sendbot eval --subset test --no-baselines --gate evals/thresholds.toml

bench: setup
	$(BIN)/sendbot bench
