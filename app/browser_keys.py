"""Signing keys held in users' browsers: certified by the organisation's CA, never seen by the gateway.

A browser makes an ECDSA P-256 key with WebCrypto (``extractable: false``, kept in IndexedDB) and sends only the
public key (SubjectPublicKeyInfo, DER). Certification takes two requests and keeps no state between them:

1. ``request_info``: the gateway builds the PKCS #10 CertificationRequestInfo for the user's enrolment ID and that
   public key; the browser signs its DER bytes (ECDSA with SHA-256).
2. ``certify``: the gateway builds the same info again, assembles the certificate request with the browser's
   signature, checks it, and has the organisation's CA issue the certificate by re-enrolment, authorised by the
   user's server-held identity, so the certificate carries the same ``role`` attribute. It is stored with the user.

The request is assembled with ``asn1crypto`` because ``cryptography`` builds a certificate request only by signing it
with a private key it holds, and here nobody but the browser holds it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass

from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

from .db import get_db
from .errors import CodedError
from .fabric import normalize_der_signature, p1363_to_der
from .fabric_ca import Enrollment
from .users import User

ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")
"""Fabric CA's certificate extension holding the identity's attributes as JSON (``{"attrs": {...}}``)."""
MAX_KEYS_PER_USER = 10


class SigningRefused(CodedError):
    """A key, certificate request or signature from a browser is refused; nothing was stored or sent on."""


@dataclass(frozen=True)
class BrowserKey:
    """A browser's public key and its certificate (no private key: the browser keeps it)."""

    id: int
    user_id: int
    key_id: str  # hex SHA-256 of the public key's DER: how the browser names its key
    certificate: bytes
    label: str
    created_at: str

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return x509.load_pem_x509_certificate(self.certificate).public_key()

    @property
    def not_after(self) -> str:
        return x509.load_pem_x509_certificate(self.certificate).not_valid_after_utc.isoformat()


def public_key(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a SubjectPublicKeyInfo; SigningRefused for anything else."""
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError):
        raise SigningRefused("INVALID_KEY", "the public key is not a DER SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SigningRefused("INVALID_KEY", "the public key must be ECDSA on P-256, as Fabric 2.5 MSPs verify")
    return key


def key_id(spki_der: bytes) -> str:
    """How a key is named: the hex SHA-256 of its SubjectPublicKeyInfo in canonical DER."""
    canonical = public_key(spki_der).public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    return hashlib.sha256(canonical).hexdigest()


def der_signature(signature: bytes) -> bytes:
    """A browser's ECDSA P-256 signature as low-S DER: WebCrypto gives 64-byte P1363 ``r||s``, others give DER."""
    try:
        return p1363_to_der(signature) if len(signature) == 64 else normalize_der_signature(signature)
    except ValueError:
        raise SigningRefused(
            "INVALID_SIGNATURE", "the signature is neither a 64-byte P1363 nor a DER ECDSA P-256 signature"
        ) from None


def verify(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes, what: str) -> bytes:
    """The signature as low-S DER if it verifies over ``message`` with ``key``; SigningRefused names ``what``."""
    der = der_signature(signature)
    try:
        key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SigningRefused(
            "INVALID_SIGNATURE", f"the signature of the {what} does not verify with this browser's key"
        ) from None
    return der


def request_info(enrollment_id: str, spki_der: bytes) -> bytes:
    """DER of the CertificationRequestInfo the browser signs: subject CN = the enrolment ID, the browser's key."""
    public_key(spki_der)
    info = asn1_csr.CertificationRequestInfo({
        "version": "v1",
        "subject": asn1_x509.Name.build({"common_name": enrollment_id}),
        "subject_pk_info": asn1_keys.PublicKeyInfo.load(spki_der),
        "attributes": [],
    })  # fmt: skip
    return info.dump(force=True)


def certificate_request(enrollment_id: str, spki_der: bytes, signature: bytes) -> bytes:
    """The PEM certificate request made of ``request_info`` and the browser's signature of it, checked here."""
    info = request_info(enrollment_id, spki_der)
    der = verify(public_key(spki_der), signature, info, "certificate request")
    request = asn1_csr.CertificationRequest({
        "certification_request_info": asn1_csr.CertificationRequestInfo.load(info),
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": der,
    })  # fmt: skip
    parsed = x509.load_der_x509_csr(request.dump())
    if not parsed.is_signature_valid:  # the signature verified over the info: only a faulty assembly gets here
        raise SigningRefused("INVALID_SIGNATURE", "the assembled certificate request does not verify")
    return parsed.public_bytes(serialization.Encoding.PEM)


def _attributes(certificate: x509.Certificate) -> dict:
    try:
        return json.loads(certificate.extensions.get_extension_for_oid(ATTRIBUTES_OID).value.value)["attrs"]
    except (x509.ExtensionNotFound, ValueError, KeyError):
        return {}


def certify(user: User, spki_der: bytes, signature: bytes, label: str = "") -> BrowserKey:
    """Certify the browser's key for ``user`` through the organisation's CA and store it; returns it.

    Raises SigningRefused (bad key or signature, key already certified, too many keys) or CAError (the CA refused).
    """
    csr_pem = certificate_request(user.enrollment_id, spki_der, signature)
    kid = key_id(spki_der)
    db = get_db()
    if db.execute("SELECT 1 FROM browser_key WHERE key_id = ?", (kid,)).fetchone():
        raise SigningRefused("CONFLICT", "this browser key already has a certificate", 409)
    count = db.execute("SELECT COUNT(*) FROM browser_key WHERE user_id = ?", (user.id,)).fetchone()[0]
    if count >= MAX_KEYS_PER_USER:
        raise SigningRefused(
            "LIMIT_EXCEEDED", f"a user has at most {MAX_KEYS_PER_USER} browser keys: forget one first", 409
        )
    org = current_app.extensions["organization"]
    pem = org.ca().reenroll(Enrollment(user.certificate, user.signing_key()), csr_pem)
    issued = x509.load_pem_x509_certificate(pem)
    issued_spki = issued.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    common_names = issued.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if hashlib.sha256(issued_spki).hexdigest() != kid or [c.value for c in common_names] != [user.enrollment_id]:
        raise SigningRefused("CA_ERROR", "the CA issued a certificate for another key or name", 502)
    if _attributes(issued).get("role") != user.role:
        raise SigningRefused("CA_ERROR", f"the CA's certificate lacks the role attribute {user.role}", 502)
    try:
        cursor = db.execute("INSERT INTO browser_key (user_id, key_id, certificate, label) VALUES (?, ?, ?, ?)",
                            (user.id, kid, pem.decode(), label[:100]))  # fmt: skip
    except sqlite3.IntegrityError:  # the same key certified by a concurrent request
        raise SigningRefused("CONFLICT", "this browser key already has a certificate", 409) from None
    return _get(cursor.lastrowid)


def _from_row(row: sqlite3.Row | None) -> BrowserKey | None:
    if row is None:
        return None
    return BrowserKey(row["id"], row["user_id"], row["key_id"], row["certificate"].encode(), row["label"] or "",
                      row["created_at"])  # fmt: skip


def _get(row_id: int) -> BrowserKey | None:
    return _from_row(get_db().execute("SELECT * FROM browser_key WHERE id = ?", (row_id,)).fetchone())


def keys_of(user: User) -> list[BrowserKey]:
    """The user's certified browser keys, newest first."""
    rows = get_db().execute("SELECT * FROM browser_key WHERE user_id = ? ORDER BY id DESC", (user.id,)).fetchall()
    return [_from_row(r) for r in rows]


def key_of(user: User, kid: str) -> BrowserKey:
    """The user's browser key named ``kid``; SigningRefused (404) if the user has no such key."""
    row = get_db().execute("SELECT * FROM browser_key WHERE user_id = ? AND key_id = ?", (user.id, kid)).fetchone()
    if row is None:
        raise SigningRefused(
            "NOT_FOUND", "you have no certified browser key of that name: certify this browser's key first", 404
        )
    return _from_row(row)


def forget(user: User, kid: str) -> None:
    """Forget one of the user's browser keys (its certificate stays valid at the CA until it expires)."""
    key_of(user, kid)
    get_db().execute("DELETE FROM browser_key WHERE user_id = ? AND key_id = ?", (user.id, kid))
