"""Signers and hash functions: the signature Fabric peers accept.

Owns the ``Signer`` and ``Hash`` callables, the private-key signer and the conversions that turn signatures made
elsewhere (WebCrypto, HSMs, other libraries) into the low-S, ASN.1 DER form that Fabric's MSP requires.
Mirrors Go ``pkg/identity/{signer,ecdsa}.go`` and ``pkg/hash/hash.go``; Node ``node/src/identity/{signer,ecdsa}.ts``
and ``node/src/hash/hashes.ts``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "Hash",
    "PrivateKeySigner",
    "Signer",
    "new_private_key_signer",
    "none",
    "normalize_der_signature",
    "p1363_to_der",
    "sha256",
]

Signer = Callable[[bytes], bytes]
"""Signs a digest produced by the gateway's ``Hash`` and returns an ASN.1 DER, low-S ECDSA signature."""

Hash = Callable[[bytes], bytes]
"""Turns a message into the digest handed to the ``Signer``."""

# Group orders of the NIST curves Fabric MSPs accept. Only the order matters for low-S normalisation.
_CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
}
_P1363_LENGTHS = {64: "secp256r1", 96: "secp384r1"}


def sha256(message: bytes) -> bytes:
    """SHA-256 digest: the default, and the only hash a Fabric 2.5 MSP verifies with its default crypto config."""
    return hashlib.sha256(message).digest()


def none(message: bytes) -> bytes:
    """Identity "hash": the digest is the full message, for signers that hash by themselves (WebCrypto, HSMs)."""
    return message


def _low_s(r: int, s: int, order: int) -> bytes:
    # Fabric's bccsp rejects s > n/2 ("Invalid S. Must be smaller than half the order"); n - s is the other valid
    # signature for the same (r, digest), so lowering needs no key.
    if s > order >> 1:
        s = order - s
    return encode_dss_signature(r, s)


def normalize_der_signature(signature: bytes, curve: ec.EllipticCurve | None = None) -> bytes:
    """Return a DER ECDSA signature with its S value lowered as Fabric requires.

    ``curve`` defaults to P-256. Use this for DER signatures made by signers that do not enforce low-S, such as Node's
    ``crypto.sign``.
    """
    r, s = decode_dss_signature(signature)
    return _low_s(r, s, _curve_order(curve or ec.SECP256R1()))


def p1363_to_der(signature: bytes) -> bytes:
    """Convert an IEEE P1363 ``r || s`` signature (what WebCrypto returns) to low-S ASN.1 DER.

    The curve follows from the length: 64 bytes for P-256, 96 for P-384. Raises ``ValueError`` for any other length
    or for r or s outside ``[1, n)``.
    """
    curve_name = _P1363_LENGTHS.get(len(signature))
    if curve_name is None:
        raise ValueError(f"P1363 signature must be 64 (P-256) or 96 (P-384) bytes, got {len(signature)}")
    order = _CURVE_ORDERS[curve_name]
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    if not (0 < r < order and 0 < s < order):
        raise ValueError("P1363 signature has r or s out of range")
    return _low_s(r, s, order)


def _curve_order(curve: ec.EllipticCurve) -> int:
    try:
        return _CURVE_ORDERS[curve.name]
    except KeyError:
        raise ValueError(f"unsupported curve for Fabric signatures: {curve.name}") from None


class PrivateKeySigner:
    """ECDSA signer over a precomputed SHA-256 digest, producing low-S DER signatures.

    Create it with ``new_private_key_signer``. The key is held privately and never shown by ``repr``.
    """

    __slots__ = ("__key", "_order", "_algorithm")

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            # Ed25519 needs Fabric >= 3.0 MSPs; RSA was never an MSP signing algorithm.
            raise TypeError(f"Fabric 2.5 needs an ECDSA private key, got {type(key).__name__}")
        self._order = _curve_order(key.curve)
        self.__key = key
        self._algorithm = ec.ECDSA(Prehashed(hashes.SHA256()))

    def __call__(self, digest: bytes) -> bytes:
        """Sign a 32-byte SHA-256 digest; returns a low-S DER signature."""
        signature = self.__key.sign(digest, self._algorithm)
        r, s = decode_dss_signature(signature)
        if s > self._order >> 1:
            return encode_dss_signature(r, self._order - s)
        return signature  # already low-S: OpenSSL's DER is the canonical encoding, no need to rebuild it

    def __repr__(self) -> str:
        return f"<PrivateKeySigner {self.__key.curve.name}>"

    def __reduce__(self) -> NoReturn:
        # Pickling would write the key out in the clear.
        raise TypeError("PrivateKeySigner cannot be pickled")


def new_private_key_signer(key: ec.EllipticCurvePrivateKey) -> PrivateKeySigner:
    """Return a ``Signer`` for an ECDSA P-256 (or P-384) private key.

    It signs the SHA-256 digest the gateway computes, so use it with the default ``sha256`` hash, not ``none``.
    """
    return PrivateKeySigner(key)
