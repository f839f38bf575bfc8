"""The chaincode service: builds the chaincode and serves it to the peer over TLS.

Configuration (set by network/chaincode.py when it starts the service):

    CHAINCODE_ID              the full package ID (label:sha256) the peer approved
    CHAINCODE_SERVER_ADDRESS  host:port to listen on
    CHAINCODE_TLS_CERT_FILE   server certificate (PEM)
    CHAINCODE_TLS_KEY_FILE    server key (PEM)
    CHAINCODE_TLS_CLIENT_CA_FILE  CA that issued the peer's client certificate (mutual TLS)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import runtime
from .contract import RecordContract
from .logistics.contract import LogisticsContract
from .provenance.contract import ProvenanceContract


def build_chaincode() -> runtime.Chaincode:
    """The chaincode with every contract registered (the first is the default)."""
    return runtime.Chaincode.new_chaincode(RecordContract(), ProvenanceContract(), LogisticsContract())


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set; see the docstring of chaincode/supplychain/main.py")
    return value


def main() -> None:
    """Serve the chaincode until terminated."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runtime.install()
    cc_id = _required("CHAINCODE_ID")
    address = _required("CHAINCODE_SERVER_ADDRESS")
    # The library ignores the CORE_TLS_* variables and would silently serve plaintext,
    # so the TLS material is read here and passed explicitly.
    tls = {
        "key": Path(_required("CHAINCODE_TLS_KEY_FILE")).read_bytes(),
        "cert": Path(_required("CHAINCODE_TLS_CERT_FILE")).read_bytes(),
        "client_ca_certs": Path(_required("CHAINCODE_TLS_CLIENT_CA_FILE")).read_bytes(),
    }
    logging.getLogger(__name__).info("chaincode %s listening on %s (TLS, client certificates required)", cc_id, address)
    build_chaincode().start(cc_id=cc_id, address=address, **tls)
