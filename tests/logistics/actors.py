"""Actors of the logistics tests: an identity of an organisation acting on the real network, and the JSON the
contract takes."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from app.fabric import CommitError, GatewayError

CHANNEL, CHAINCODE = "supplychain", "supplychain"
ORGS = ("Producer", "Retailer", "Logistics", "Regulator")
MSP = {org: f"{org}MSP" for org in ORGS}


class Actor:
    """One identity of one organisation: its certificate, its key, and the contracts it calls."""

    def __init__(self, org: str, certificate: bytes, key: ec.EllipticCurvePrivateKey, gateway, settle):
        self.org, self.msp, self.certificate, self.key = org, MSP[org], certificate, key
        network = gateway.get_network(CHANNEL)
        self.logistics = network.get_contract(CHAINCODE, "logistics")
        self.provenance = network.get_contract(CHAINCODE, "provenance")
        self._settle = settle

    def sign(self, payload: str, p1363: bool = False) -> str:
        """Base64 of this identity's ECDSA signature over ``payload`` (DER, or r||s as WebCrypto makes it)."""
        der = self.key.sign(payload.encode(), ec.ECDSA(hashes.SHA256()))
        if p1363:
            r, s = decode_dss_signature(der)
            der = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return base64.b64encode(der).decode()

    def read(self, function: str, *args: str) -> dict:
        return json.loads(self.logistics.evaluate_transaction(function, *args))

    def submit(self, function: str, *args: str, endorsers=None, contract=None) -> dict:
        """Submit, check it committed VALID, and wait until every peer has it (the next actor may use another)."""
        submitted = (contract or self.logistics).submit_async(function, arguments=list(args),
                                                              endorsing_organizations=endorsers)  # fmt: skip
        status = submitted.get_status()
        if not status.successful:
            raise CommitError(status.code, status.transaction_id)
        self._settle(status.transaction_id)
        return json.loads(submitted.result)

    def refused(self, function: str, *args: str, endorsers=None) -> str:
        """The chaincode's message when it refuses to endorse the call."""
        with pytest.raises(GatewayError) as err:
            self.logistics.submit(function, arguments=list(args), endorsing_organizations=endorsers)
        return err.value.chaincode_message

    def read_refused(self, function: str, *args: str) -> str:
        """The chaincode's message when it refuses to answer a read."""
        with pytest.raises(GatewayError) as err:
            self.logistics.evaluate_transaction(function, *args)
        return err.value.chaincode_message

    def payload(self, document_id: str, party: str, statement: dict | None = None, version: str = "") -> str:
        return self.read("SigningPayload", document_id, version, party, json.dumps(statement or {}))["payload"]

    def sign_document(self, document_id: str, party: str, endorsers, statement: dict | None = None,
                      version: str = "", p1363: bool = False) -> dict:  # fmt: skip
        """Fetch the payload, sign it with this identity's key and submit the signature."""
        signature = self.sign(self.payload(document_id, party, statement, version), p1363)
        return self.submit("SignDocument", document_id, version, signature, json.dumps(statement or {}), "",
                           endorsers=endorsers)  # fmt: skip


def shipment_json(units: list[str], shipment_id: str | None = None, **fields) -> str:
    """A shipment from the Producer to the Retailer through Logistics, cold (1..8 °C)."""
    doc = {"id": shipment_id or f"SHP-{random.randrange(10**9)}", "shipper": "ProducerMSP",
           "carriers": ["LogisticsMSP"], "consignee": "RetailerMSP",
           "origin": {"name": "Hillside Farm", "geo": {"lat": 52.1, "lon": 5.1}},
           "destination": {"name": "GreenGrocer DC", "geo": {"lat": 52.37, "lon": 4.9}}, "units": units,
           "handling": {"temperature": {"min": 1, "max": 8, "unit": "CEL"}}}  # fmt: skip
    doc.update(fields)
    return json.dumps(doc)


def anchor_json(shipment_id: str, kind: str, content: bytes | None = None, **fields) -> str:
    content = content or f"{kind} of {shipment_id} {random.random()}".encode()
    return json.dumps({"shipment": shipment_id, "kind": kind, "sha256": hashlib.sha256(content).hexdigest(),
                       "contentType": "application/pdf", "size": len(content), "filename": f"{kind}.pdf",
                       **fields})  # fmt: skip
