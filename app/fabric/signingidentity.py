"""The identity a Gateway acts as: creator bytes, hash and optional signer bundled together.

Internal to the package. Mirrors Go ``pkg/client/signingidentity.go`` and Node ``node/src/signingidentity.ts``.
"""

from __future__ import annotations

from .identity import Identity, serialize_identity
from .signing import Hash, Signer


class SigningIdentity:
    """Holds the creator bytes (serialised once), the hash and the signer of one Gateway."""

    __slots__ = ("identity", "creator", "hash", "_signer")

    def __init__(self, identity: Identity, signer: Signer | None, hash: Hash) -> None:
        self.identity = identity
        self.creator = serialize_identity(identity)
        self.hash = hash
        self._signer = signer

    def sign(self, message: bytes) -> bytes:
        """Hash ``message`` and sign the digest; raises ``RuntimeError`` if the Gateway has no signer."""
        if self._signer is None:
            raise RuntimeError(
                "this gateway was connected without a signer: sign digest() yourself and pass the signature to the "
                "Gateway.new_signed_* method"
            )
        return self._signer(self.hash(message))

    def __repr__(self) -> str:
        return f"<SigningIdentity {self.identity.msp_id}>"
