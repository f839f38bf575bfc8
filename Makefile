# The two commands a newcomer needs: `make up` and `make test`. Both set up everything
# they need on a fresh machine: the Python environment and the Fabric binaries.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: up down status test clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## Bring the whole system up and print where to go.
up: $(VENV)/.installed
	$(PY) -m network up
	$(PY) -m network status

## Stop every process (ledgers are kept).
down: $(VENV)/.installed
	$(PY) -m network down

status: $(VENV)/.installed
	$(PY) -m network status

## Run every test against a real network of its own (on other ports than `make up`).
test: $(VENV)/.installed
	$(PY) -m network build
	$(PY) -m pytest

## Stop everything and delete the demo network's ledgers, keys and logs.
clean: $(VENV)/.installed
	$(PY) -m network clean --yes
