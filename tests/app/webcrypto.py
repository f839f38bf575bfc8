"""What a browser's WebCrypto does with an ECDSA P-256 key, for API tests: its signatures are P1363 ``r||s``; and
who really created a committed transaction."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import transaction_pb2


class BrowserKeyHolder:
    """A key pair as ``crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign"])`` makes it."""

    def __init__(self, curve: ec.EllipticCurve | None = None):
        self._key = ec.generate_private_key(curve or ec.SECP256R1())

    @property
    def spki(self) -> bytes:
        """``exportKey("spki", publicKey)``."""
        return self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip

    @property
    def spki_b64(self) -> str:
        return base64.b64encode(self.spki).decode()

    def sign(self, message: bytes) -> bytes:
        """``subtle.sign({name: "ECDSA", hash: "SHA-256"}, privateKey, message)``: P1363, S not normalised."""
        r, s = decode_dss_signature(self._key.sign(message, ec.ECDSA(hashes.SHA256())))
        size = (self._key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def sign_b64(self, message_b64: str) -> str:
        return base64.b64encode(self.sign(base64.b64decode(message_b64))).decode()


def certify(client, holder: BrowserKeyHolder, label: str = "test browser") -> dict:
    """Certify ``holder``'s key for the client's user through the API; returns the key's JSON."""
    info = client.post("/api/v1/browser-keys/request-info", {"publicKey": holder.spki_b64})
    assert info.status_code == 200, info.json
    response = client.post(
        "/api/v1/browser-keys",
        {
            "publicKey": holder.spki_b64,
            "label": label,
            "signature": holder.sign_b64(info.json["certificationRequestInfo"]),
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def sign_offline(client, holder: BrowserKeyHolder, key_id: str, transaction: str, parameters: dict):
    """Prepare, sign the proposal, sign the transaction; returns the last response."""
    prepared = client.post(
        "/api/v1/offline/transactions", {"keyId": key_id, "transaction": transaction, "parameters": parameters}
    )
    if prepared.status_code != 201:
        return prepared
    path = f"/api/v1/offline/transactions/{prepared.json['id']}"
    endorsed = client.post(f"{path}/proposal-signature", {"signature": holder.sign_b64(prepared.json["message"])})
    if endorsed.status_code != 200:
        return endorsed
    return client.post(f"{path}/transaction-signature", {"signature": holder.sign_b64(endorsed.json["message"])})


def creator_of(gateway_for, transaction_id: str) -> x509.Certificate:
    """The certificate that created a committed transaction, read from the ledger through qscc."""
    qscc = gateway_for("Producer").get_network("supplychain").get_contract("qscc")
    processed = transaction_pb2.ProcessedTransaction.FromString(
        qscc.evaluate_transaction("GetTransactionByID", "supplychain", transaction_id)
    )
    payload = common_pb2.Payload.FromString(processed.transactionEnvelope.payload)
    creator = common_pb2.SignatureHeader.FromString(payload.header.signature_header).creator
    return x509.load_pem_x509_certificate(identities_pb2.SerializedIdentity.FromString(creator).id_bytes)
