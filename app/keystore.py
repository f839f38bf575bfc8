"""Users' private keys at rest: AES-256-GCM under the gateway's key-encryption key.

The key-encryption key is a secret of the gateway process (``KEY_ENCRYPTION_KEY``, by default a file in the
instance folder readable by its owner only). Each key is bound to its enrolment ID as associated data, so a
ciphertext copied onto another user's row does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12


class KeyStore:
    """Encrypts and decrypts private keys with a key derived from ``secret``."""

    def __init__(self, secret: str):
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"supplychain user keys v1")
        self._aead = AESGCM(derived.derive(secret.encode()))

    def __repr__(self) -> str:
        return "KeyStore(<secret>)"

    def seal(self, key: ec.EllipticCurvePrivateKey, owner: str) -> bytes:
        """``key`` encrypted for ``owner`` (nonce followed by ciphertext)."""
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, der, owner.encode())

    def open(self, sealed: bytes, owner: str) -> ec.EllipticCurvePrivateKey:
        """The key ``seal`` encrypted for ``owner``; raises ``cryptography.exceptions.InvalidTag`` otherwise."""
        der = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], owner.encode())
        return serialization.load_der_private_key(der, password=None)
