"""Per-transaction values derived from a fresh nonce: transaction ID and signature header.

Mirrors Go ``pkg/client/transactioncontext.go`` and Node ``node/src/transactioncontext.ts``.
"""

from __future__ import annotations

import hashlib
import os

from fabric_protos.common import common_pb2

__all__ = ["NONCE_LENGTH", "TransactionContext", "new_transaction_id"]

NONCE_LENGTH = 24
"""Fabric's ``NonceSize``; the peer only needs a non-empty nonce, but all official clients use 24 bytes."""


def new_transaction_id(nonce: bytes, creator: bytes) -> str:
    """Transaction ID as peers recompute it: lowercase hex SHA-256 of nonce ‖ creator, whatever the signing hash."""
    return hashlib.sha256(nonce + creator).hexdigest()


class TransactionContext:
    """A fresh nonce with the transaction ID and serialised ``SignatureHeader`` derived from it."""

    __slots__ = ("nonce", "transaction_id", "signature_header")

    def __init__(self, creator: bytes, nonce: bytes | None = None) -> None:
        self.nonce = os.urandom(NONCE_LENGTH) if nonce is None else nonce
        self.transaction_id = new_transaction_id(self.nonce, creator)
        self.signature_header = common_pb2.SignatureHeader(creator=creator, nonce=self.nonce).SerializeToString()
