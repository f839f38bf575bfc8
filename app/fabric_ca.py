"""A client for the Fabric CA REST API: register an identity, enrol it, re-enrol it for a key held elsewhere.

Written here because no maintained Python client exists (``fabric-sdk-py`` is Fabric 1.4 only). Only the calls the
gateway needs are implemented, as Fabric CA 1.5 defines them (``lib/serverregister.go``, ``lib/serverenroll.go``):
registration is authorised by a token signed with the registrar's key, enrolment by the identity's own secret,
re-enrolment by a token signed with the identity's current key. Private keys made here never leave this process;
re-enrolment takes a certificate request signed by whoever holds the new key (a browser, say).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

# The group order of P-256: a signature's S must be at most half of it for Fabric (low-S).
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
TIMEOUT_SECONDS = 15


class CAError(Exception):
    """The CA refused a request or could not be reached; ``status`` is the HTTP status (0 if unreachable)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Enrollment:
    """An enrolled identity: its certificate (PEM) and private key."""

    certificate: bytes
    private_key: ec.EllipticCurvePrivateKey


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _low_s_signature(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return encode_dss_signature(r, min(s, _P256_ORDER - s))


def _token(identity: Enrollment, method: str, path: str, body: bytes) -> str:
    """Fabric CA's token: base64(cert) "." base64(signature of "METHOD.b64(path).b64(body).b64(cert)")."""
    cert = _b64(identity.certificate)
    payload = f"{method}.{_b64(path.encode())}.{_b64(body)}.{cert}".encode()
    return f"{cert}.{_b64(_low_s_signature(identity.private_key, payload))}"


class FabricCA:
    """One organisation's CA at ``url`` (``https://host:port``), whose TLS root is the PEM file ``tls_ca_file``."""

    def __init__(self, url: str, ca_name: str, tls_ca_file: str):
        self.url, self.ca_name, self._verify = url.rstrip("/"), ca_name, tls_ca_file

    def _post(self, path: str, body: bytes, **kw) -> dict:
        try:
            response = requests.post(f"{self.url}{path}", data=body, verify=self._verify,
                                     timeout=TIMEOUT_SECONDS, **kw)  # fmt: skip
        except requests.RequestException as err:
            raise CAError(f"{self.ca_name} at {self.url} is unreachable: {err.__class__.__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            raise CAError(f"{self.ca_name} answered {response.status_code} without JSON", response.status_code) from None
        if not answer.get("success"):
            messages = "; ".join(e.get("message", "") for e in answer.get("errors") or []) or "no reason given"
            raise CAError(f"{self.ca_name} refused {path.rsplit('/', 1)[-1]}: {messages}", response.status_code)
        return answer["result"]

    def register(self, registrar: Enrollment, enrollment_id: str, attributes: dict[str, str],
                 id_type: str = "client") -> str:  # fmt: skip
        """Register ``enrollment_id`` with ``attributes`` (added to its certificates); returns its one-time secret."""
        secret = secrets.token_urlsafe(18)
        body = {
            "id": enrollment_id, "type": id_type, "secret": secret, "affiliation": "", "max_enrollments": 1,
            "attrs": [{"name": k, "value": v, "ecert": True} for k, v in attributes.items()], "caname": self.ca_name,
        }  # fmt: skip
        path = "/api/v1/register"
        encoded = json.dumps(body).encode()
        self._post(path, encoded, headers={"Authorization": _token(registrar, "POST", path, encoded)})
        return secret

    def enroll(self, enrollment_id: str, secret: str) -> Enrollment:
        """Enrol with a new P-256 key made here; the CA signs its certificate request."""
        key = ec.generate_private_key(ec.SECP256R1())
        csr = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, enrollment_id)])
        ).sign(key, hashes.SHA256())
        body = {"certificate_request": csr.public_bytes(serialization.Encoding.PEM).decode(), "caname": self.ca_name}
        result = self._post("/api/v1/enroll", json.dumps(body).encode(), auth=(enrollment_id, secret))
        return Enrollment(base64.b64decode(result["Cert"]), key)

    def reenroll(self, current: Enrollment, csr_pem: bytes) -> bytes:
        """A new certificate (PEM) for the identity ``current`` authenticates, for the key of ``csr_pem``.

        The CA checks the request's signature and that its common name is the enrolment ID; the new certificate
        carries the identity's registered ``ecert`` attributes (its ``role``), as the first one does.
        """
        path = "/api/v1/reenroll"
        encoded = json.dumps({"certificate_request": csr_pem.decode(), "caname": self.ca_name}).encode()
        result = self._post(path, encoded, headers={"Authorization": _token(current, "POST", path, encoded)})
        return base64.b64decode(result["Cert"])
