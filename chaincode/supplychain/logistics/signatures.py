"""Document signatures: the payload a party signs, signature encodings, and the signer's certificate.

A party signs the UTF-8 bytes of a canonical JSON payload (:func:`signing_payload`) with ECDSA P-256 and
SHA-256, in DER (X9.62, as OpenSSL and Fabric produce) or IEEE P1363 (64 bytes r||s, as WebCrypto
produces). The ledger keeps one form of each signature, DER with a low S, so the same signature in either
encoding, or its high-S twin, is recognised as one (the replay index keys on it).

The signer's certificate, when it is not the transaction creator's, must have been issued by the CA key
that issued the creator's certificate. The peer has already validated the creator's certificate against
its organisation's MSP in the channel configuration (root and intermediate certificates), so a
certificate signed by that same key was issued by a CA of that organisation as the channel configuration
defines it. The CA key is recovered from the creator certificate's own ECDSA signature (at most four
candidate keys; a forgery would have to verify under one of them without its private key). This stands in
for reading the MSP configuration through ``cscc GetChannelConfig``, which Fabric refuses to chaincode
callers (see the package docstring).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from collections.abc import Iterator

import ecdsa
from cryptography import x509
from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import Forbidden, InvalidArgument, InvalidSignature

CONTEXT = "supplychain/document-signature/v1"
# The order of the P-256 group: signature scalars are in [1, N).
N = ecdsa.NIST256p.order
MAX_SIGNATURE_TEXT = 200
MAX_CERTIFICATE_TEXT = 8192
# Fabric NodeOUs of identities that act for a person or the organisation (not peers or orderers).
SIGNER_OUS = frozenset({"client", "admin"})


def canonical(obj) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 characters kept (the form every signer reproduces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signing_payload(record: dict, party: str, msp: str, statement: dict) -> str:
    """The text a party signs for one document version: see the module docstring for the algorithm."""
    return canonical({
        "context": CONTEXT, "shipment": record["shipment"], "document": record["id"], "version": record["version"],
        "kind": record["kind"], "sha256": record["sha256"], "party": party, "msp": msp, "statement": statement,
    })  # fmt: skip


def _b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional (browsers and tools differ)."""
    if not isinstance(text, str) or not text or len(text) > MAX_SIGNATURE_TEXT:
        raise InvalidArgument(f"signature_b64 must be 1 to {MAX_SIGNATURE_TEXT} characters of base64")
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("signature_b64 is not base64") from None


def _scalars(raw: bytes) -> tuple[int, int]:
    if raw[:1] == b"\x30":
        try:
            r, s = decode_dss_signature(raw)
            if encode_dss_signature(r, s) == raw:  # strict DER: nothing trailing, minimal integers
                return r, s
        except ValueError:
            pass
    if len(raw) == 64:
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    raise InvalidArgument("the signature is neither DER nor 64-byte P1363 (r||s) ECDSA P-256")


def normalise(signature_b64: str) -> bytes:
    """The DER encoding with a low S of a base64 DER or P1363 ECDSA P-256 signature."""
    r, s = _scalars(_b64decode(signature_b64))
    if not (0 < r < N and 0 < s < N):
        raise InvalidArgument("the signature's r and s must be between 1 and the P-256 group order")
    return encode_dss_signature(r, N - s if s > N // 2 else s)


def verify(certificate: x509.Certificate, payload: str, der: bytes) -> None:
    """INVALID_SIGNATURE unless ``der`` is a signature of ``payload``'s UTF-8 bytes by the certificate's key."""
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise InvalidArgument("the signer's certificate must hold an ECDSA P-256 key")
    try:
        key.verify(der, payload.encode(), ec.ECDSA(hashes.SHA256()))
    except _BadSignature:
        raise InvalidSignature("the signature does not verify over the signing payload with the signer's "
                               "certificate key (forged, made over other content, or by another key)") from None


def b64(der: bytes) -> str:
    """Standard base64 text of a normalised signature, as the ledger records it."""
    return base64.b64encode(der).decode()


def replay_key(der: bytes) -> str:
    """The key under which a normalised signature is indexed against replays."""
    return hashlib.sha256(der).hexdigest()


def load_certificate(pem: bytes | str, what: str = "certificate_pem") -> x509.Certificate:
    """A PEM certificate; INVALID_ARGUMENT naming ``what`` otherwise."""
    data = pem.encode() if isinstance(pem, str) else pem
    if len(data) > MAX_CERTIFICATE_TEXT:
        raise InvalidArgument(f"{what} is longer than {MAX_CERTIFICATE_TEXT} characters")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise InvalidArgument(f"{what} is not a PEM X.509 certificate") from None


def pem(certificate: x509.Certificate) -> str:
    """The PEM text of a certificate."""
    return certificate.public_bytes(Encoding.PEM).decode()


def check_validity(certificate: x509.Certificate, when: datetime.datetime) -> None:
    """FORBIDDEN unless ``when`` (the transaction time) lies within the certificate's validity."""
    if not certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc:
        raise Forbidden(f"the signer's certificate is valid from {certificate.not_valid_before_utc.isoformat()} to "
                        f"{certificate.not_valid_after_utc.isoformat()}, not at the transaction time "
                        f"{when.isoformat()}")  # fmt: skip


def check_end_entity(certificate: x509.Certificate) -> None:
    """FORBIDDEN for CA certificates and for peer or orderer identities: people and organisations sign."""
    try:
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise Forbidden("the signer's certificate is a CA certificate, not an identity's")
    except x509.ExtensionNotFound:
        pass
    ous = {a.value for a in certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)}
    node_ous = ous & {"client", "admin", "peer", "orderer"}
    if node_ous and not node_ous & SIGNER_OUS:
        raise Forbidden(f"the signer's certificate is a {'/'.join(sorted(node_ous))} identity; "
                        "documents are signed by client or admin identities")  # fmt: skip


def _issuer_keys(certificate: x509.Certificate) -> Iterator[ec.EllipticCurvePublicKey]:
    """The public keys that may have made ``certificate``'s ECDSA signature (its issuer's is one of them).

    python-ecdsa does the public key recovery (SEC 1 section 4.1.6), which ``cryptography`` does not offer.
    P-256 first (Fabric CA's default); the keys come lazily, so a caller that finds its key stops early.
    """
    algorithm = certificate.signature_hash_algorithm
    if not isinstance(algorithm, (hashes.SHA256, hashes.SHA384, hashes.SHA512)):
        return
    hashfunc = getattr(hashlib, algorithm.name)
    digest = hashfunc(certificate.tbs_certificate_bytes).digest()
    for curve, crypto_curve in ((ecdsa.NIST256p, ec.SECP256R1()), (ecdsa.NIST384p, ec.SECP384R1())):
        try:
            keys = ecdsa.VerifyingKey.from_public_key_recovery_with_digest(
                certificate.signature, digest, curve, hashfunc=hashfunc, sigdecode=ecdsa.util.sigdecode_der,
                allow_truncate=True,
            )
        except Exception:  # noqa: BLE001, S112 - not a signature on this curve; python-ecdsa raises several types
            continue
        for key in keys:
            yield ec.EllipticCurvePublicKey.from_encoded_point(crypto_curve, key.to_string("uncompressed"))


def _signed_by(certificate: x509.Certificate, key: ec.EllipticCurvePublicKey) -> bool:
    try:
        key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                   ec.ECDSA(certificate.signature_hash_algorithm))  # fmt: skip
        return True
    except (_BadSignature, TypeError, ValueError):
        return False


def check_issued_alongside(certificate: x509.Certificate, creator: x509.Certificate, msp: str) -> None:
    """FORBIDDEN unless ``certificate`` was signed by the CA key that signed ``creator`` (see the module docstring)."""
    if certificate.issuer != creator.issuer:
        raise Forbidden(f"the signer's certificate was issued by {certificate.issuer.rfc4514_string()}, not by "
                        f"{msp}'s CA {creator.issuer.rfc4514_string()} that issued the submitter's certificate")
    if not any(_signed_by(certificate, key) for key in _issuer_keys(creator)):
        raise Forbidden(f"the signer's certificate names {msp}'s CA as its issuer but was not signed by that CA's key")
