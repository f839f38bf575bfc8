"""The transaction proposal: signable bytes, evaluation and endorsement.

Owns ``Proposal``. Mirrors Go ``pkg/client/proposal.go`` and Node ``node/src/proposal.ts``.
"""

from __future__ import annotations

import builtins

from fabric_protos.gateway import gateway_pb2

from .client import GatewayClient
from .signingidentity import SigningIdentity
from .transaction import Transaction

__all__ = ["Proposal"]


class Proposal:
    """A built transaction proposal; signed on first use unless it already carries a signature."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        channel_name: str,
        proposed_transaction: gateway_pb2.ProposedTransaction,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._channel_name = channel_name
        self._proposed = proposed_transaction

    @property
    def transaction_id(self) -> str:
        """ID of the transaction: hex SHA-256 of nonce and creator."""
        return self._proposed.transaction_id

    def evaluate(self, *, timeout: float | None = None) -> builtins.bytes:
        """Run the transaction function on one peer without updating the ledger; returns its result.

        Raises ``GatewayError`` (a chaincode error is UNKNOWN with ``chaincode_message`` set); ``timeout`` defaults
        to ``Timeouts.evaluate``.
        """
        self._sign()
        proposed = self._proposed
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposed.transaction_id,
            channel_id=self._channel_name,
            proposed_transaction=proposed.proposal,
            target_organizations=proposed.endorsing_organizations,
        )
        return self._client.evaluate(request, timeout).result.payload

    def endorse(self, *, timeout: float | None = None) -> Transaction:
        """Collect the endorsements the policy needs and return the endorsed ``Transaction``.

        Raises ``EndorseError`` (a chaincode error is ABORTED with ``chaincode_message`` set); ``timeout`` defaults
        to ``Timeouts.endorse``.
        """
        self._sign()
        proposed = self._proposed
        request = gateway_pb2.EndorseRequest(
            transaction_id=proposed.transaction_id,
            channel_id=self._channel_name,
            proposed_transaction=proposed.proposal,
            endorsing_organizations=proposed.endorsing_organizations,
        )
        response = self._client.endorse(request, timeout)
        return Transaction(
            self._client,
            self._signing_identity,
            proposed.transaction_id,
            response.prepared_transaction,
            self._channel_name,
        )

    def digest(self) -> builtins.bytes:
        """Digest of the proposal bytes to sign (the whole message with hash ``none``)."""
        return self._signing_identity.hash(self._proposed.proposal.proposal_bytes)

    def bytes(self) -> builtins.bytes:
        """Serialised ``gateway.ProposedTransaction`` (the signature is empty until signed)."""
        return self._proposed.SerializeToString()

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._proposed.proposal.signature = signature

    def _sign(self) -> None:
        signed_proposal = self._proposed.proposal
        if not signed_proposal.signature:
            signed_proposal.signature = self._signing_identity.sign(signed_proposal.proposal_bytes)
