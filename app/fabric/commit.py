"""The commit stage: waiting for a submitted transaction's validation result.

Owns ``Commit`` (a signable CommitStatus request), ``SubmittedTransaction`` (a ``Commit`` that also carries the
transaction result) and ``Status``. Mirrors Go ``pkg/client/commit.go`` and Node ``node/src/{commit,
submittedtransaction,status}.ts``, except that a transaction submitted through a Gateway with a signer usually learns
its status from a shared block stream rather than its own CommitStatus call (see ``commitwatcher``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from .client import GatewayClient
from .errors import validation_code_name
from .signingidentity import SigningIdentity

if TYPE_CHECKING:
    from .commitwatcher import TransactionWatch

__all__ = ["Commit", "Status", "SubmittedTransaction"]

_VALID = transaction_pb2.VALID


@dataclass(frozen=True, slots=True)
class Status:
    """Commit result: ``code`` is the ``TxValidationCode`` number; ``successful`` means VALID.

    An invalid transaction is still recorded in a block, so ``block_number`` is set either way.
    """

    code: int
    successful: bool
    block_number: int
    transaction_id: str

    @property
    def code_name(self) -> str:
        """Name of the validation code, e.g. ``VALID`` or ``MVCC_READ_CONFLICT``."""
        return validation_code_name(self.code)


class Commit:
    """Access to the commit status of a submitted transaction; the request is signed once, on first use."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        transaction_id: str,
        signed_request: gateway_pb2.SignedCommitStatusRequest,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._transaction_id = transaction_id
        self._signed_request = signed_request

    @property
    def transaction_id(self) -> str:
        """ID of the transaction this commit tracks."""
        return self._transaction_id

    def get_status(self, *, timeout: float | None = None) -> Status:
        """Wait until the transaction is committed and return its ``Status``.

        Never raises for an invalid transaction: check ``Status.successful``. Raises ``CommitStatusError`` if the
        call fails, typically DEADLINE_EXCEEDED after ``timeout`` (default ``Timeouts.commit_status``); the request
        can be sent again. Raises ``RuntimeError`` if unsigned and the gateway has no signer.
        """
        if not self._signed_request.signature:
            self._signed_request.signature = self._signing_identity.sign(self._signed_request.request)
        response = self._client.commit_status(self._signed_request, self._transaction_id, timeout)
        return Status(response.result, response.result == _VALID, response.block_number, self._transaction_id)

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._signed_request.signature = signature

    def digest(self) -> builtins.bytes:
        """Digest of the commit status request to sign (the whole request with hash ``none``)."""
        return self._signing_identity.hash(self._signed_request.request)

    def bytes(self) -> builtins.bytes:
        """Serialised ``gateway.SignedCommitStatusRequest``."""
        return self._signed_request.SerializeToString()


class SubmittedTransaction(Commit):
    """A transaction accepted by the orderer: its ``result`` now, its commit ``Status`` from ``get_status()``."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        transaction_id: str,
        signed_request: gateway_pb2.SignedCommitStatusRequest,
        result: builtins.bytes,
        watch: TransactionWatch | None = None,
    ) -> None:
        super().__init__(client, signing_identity, transaction_id, signed_request)
        self._result = result
        self._watch = watch

    @property
    def result(self) -> builtins.bytes:
        """Value returned by the transaction function during endorsement."""
        return self._result

    def get_status(self, *, timeout: float | None = None) -> Status:
        """Wait until the transaction is committed and return its ``Status``.

        Same contract as ``Commit.get_status``. Through a Gateway with a signer, the status usually comes from the
        channel's shared block stream, with CommitStatus as the fallback within the same ``timeout``.
        """
        if self._watch is None:
            return super().get_status(timeout=timeout)
        effective = self._client.timeouts.commit_status if timeout is None else timeout
        return self._watch.get_status(effective, lambda remaining: Commit.get_status(self, timeout=remaining))
