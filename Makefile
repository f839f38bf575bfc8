# The two commands a newcomer needs: `make up` and `make test`. Both set up everything
# they need on a fresh machine: the Python environment, the Fabric binaries and, for the
# browser tests, Debian's Chromium and ChromeDriver.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: up down status test clean browser

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

## Headless Chromium and ChromeDriver from Debian, for the browser tests.
browser:
	@test -x /usr/bin/chromedriver || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || { echo "could not install chromium and chromium-driver (Debian packages) for the browser tests" >&2; exit 1; }; }

## Run every test against a real network of its own (on other ports than `make up`).
test: $(VENV)/.installed browser
	$(PY) -m network build
	$(PY) -m pytest

## Stop everything and delete the demo's ledgers, keys, logs and gateway databases.
clean: $(VENV)/.installed
	$(PY) -m app down
	$(PY) -m network clean --yes
	rm -rf instance
