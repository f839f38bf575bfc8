# The two commands a newcomer needs: `make up` and `make test`. Both set up everything
# they need on a fresh machine: the Python environment, the Fabric binaries and, for the
# browser tests, Debian's headless Chromium and its chromedriver.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: up down status test browser clean

CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## Bring the whole system up (network, chaincode, gateways, portal, demo data) and print where to go.
up: $(VENV)/.installed
	$(PY) -m network up
	$(PY) -m network status
	$(PY) -m app up

## Stop every process (ledgers and gateway databases are kept).
down: $(VENV)/.installed
	$(PY) -m app down
	$(PY) -m network down

status: $(VENV)/.installed
	$(PY) -m network status
	$(PY) -m app status

## The browser tests (tests/browser) drive Debian's chromium through chromedriver: install both when missing.
browser:
	@if [ ! -x $(CHROMEDRIVER) ] || [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing chromium and chromium-driver for the browser tests (apt-get)"; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi; \
	  { $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
	  || { echo "Could not install chromium and chromium-driver with apt-get; install these Debian packages" \
	       "(they provide $(CHROMIUM) and $(CHROMEDRIVER)) and run make test again." >&2; exit 1; }; \
	fi

## Run every test against a real network of its own (on other ports than `make up`).
test: $(VENV)/.installed browser
	$(PY) -m network build
	$(PY) -m pytest

## Stop everything and delete the demo's ledgers, keys, logs and gateway databases.
clean: $(VENV)/.installed
	$(PY) -m app down
	$(PY) -m network clean --yes
	rm -rf instance
