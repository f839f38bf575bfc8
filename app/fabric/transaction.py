"""The endorsed transaction: its result, its signable envelope and submission to the orderer.

Owns ``Transaction`` and the parsing of the gateway's prepared envelope. Mirrors Go ``pkg/client/{transaction,
transactionparser}.go`` and Node ``node/src/{transaction,transactionparser}.ts``.
"""

from __future__ import annotations

import builtins

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2

from .client import GatewayClient
from .commit import SubmittedTransaction
from .signingidentity import SigningIdentity

__all__ = ["Transaction"]


def parse_channel_name(payload: common_pb2.Payload) -> str:
    """Channel ID from a payload's channel header."""
    return common_pb2.ChannelHeader.FromString(payload.header.channel_header).channel_id


def parse_result(payload: common_pb2.Payload) -> bytes:
    """The transaction function's return value, from the first action's ``ChaincodeAction.response.payload``.

    The gateway blanks the payload in each endorsement's response, so this is the only place to read it.
    """
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    if not transaction.actions:
        raise ValueError("prepared transaction has no actions")
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    return proposal_pb2.ChaincodeAction.FromString(response_payload.extension).response.payload


class Transaction:
    """An endorsed transaction, ready to be signed and submitted to the orderer."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        transaction_id: str,
        envelope: common_pb2.Envelope,
        channel_name: str | None = None,
    ) -> None:
        payload = common_pb2.Payload.FromString(envelope.payload)
        self._client = client
        self._signing_identity = signing_identity
        self._transaction_id = transaction_id
        self._envelope = envelope
        self._channel_name = channel_name if channel_name is not None else parse_channel_name(payload)
        self._result = parse_result(payload)

    @property
    def transaction_id(self) -> str:
        """ID of the transaction."""
        return self._transaction_id

    @property
    def result(self) -> builtins.bytes:
        """Value returned by the transaction function during endorsement."""
        return self._result

    def submit(self, *, timeout: float | None = None) -> SubmittedTransaction:
        """Sign if needed and send the transaction to the orderer; returns once one orderer accepted it.

        Raises ``SubmitError`` if the submit call fails (``timeout`` defaults to ``Timeouts.submit``; after
        DEADLINE_EXCEEDED check the commit status before resubmitting). ``RuntimeError`` if unsigned and the gateway
        has no signer. Acceptance is not commit: call ``get_status()`` on the returned object.
        """
        if not self._envelope.signature:
            self._envelope.signature = self._signing_identity.sign(self._envelope.payload)
        # Built before the submit so that nothing can fail once the orderer has the transaction.
        commit_request = gateway_pb2.SignedCommitStatusRequest(
            request=gateway_pb2.CommitStatusRequest(
                transaction_id=self._transaction_id,
                channel_id=self._channel_name,
                identity=self._signing_identity.creator,
            ).SerializeToString()
        )
        # Registered with the channel's commit watcher before the Submit is sent: the watcher's start block was then
        # already committed, so this transaction's block is one the watcher will read (see commitwatcher).
        watchers = self._client.commit_watchers
        watch = watchers.watch(self._channel_name, self._transaction_id) if watchers is not None else None
        try:
            self._client.submit(
                gateway_pb2.SubmitRequest(
                    transaction_id=self._transaction_id,
                    channel_id=self._channel_name,
                    prepared_transaction=self._envelope,
                ),
                timeout,
            )
        except BaseException:
            if watch is not None:
                watch.cancel()
            raise
        return SubmittedTransaction(
            self._client, self._signing_identity, self._transaction_id, commit_request, self._result, watch
        )

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._envelope.signature = signature

    def digest(self) -> builtins.bytes:
        """Digest of the envelope payload to sign (the whole payload with hash ``none``)."""
        return self._signing_identity.hash(self._envelope.payload)

    def bytes(self) -> builtins.bytes:
        """Serialised ``gateway.PreparedTransaction``."""
        return gateway_pb2.PreparedTransaction(
            transaction_id=self._transaction_id, envelope=self._envelope
        ).SerializeToString()
