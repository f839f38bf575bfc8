"""Building a transaction proposal: each message built and serialised exactly once.

Internal to the package. Produces the unsigned ``gateway.ProposedTransaction`` that ``Proposal`` wraps. Mirrors Go
``pkg/client/proposalbuilder.go`` and Node ``node/src/proposalbuilder.ts``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf import timestamp_pb2

from .transactioncontext import TransactionContext

Argument = str | bytes | bytearray | memoryview
"""A transaction argument: ``str`` is sent as UTF-8, binary types as they are."""


def timestamp_now() -> timestamp_pb2.Timestamp:
    """The current time as a protobuf ``Timestamp`` (UTC)."""
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def chaincode_header_extension(chaincode_name: str) -> bytes:
    """Serialised ``ChaincodeHeaderExtension`` naming the chaincode (name only); constant per contract."""
    if not chaincode_name:
        raise ValueError("chaincode name must not be empty")
    return proposal_pb2.ChaincodeHeaderExtension(
        chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode_name)
    ).SerializeToString()


def to_bytes(value: Argument) -> bytes:
    """Encode one argument or transient value."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"transaction arguments must be str or bytes, not {type(value).__name__}")


def new_proposed_transaction(
    creator: bytes,
    channel_name: str,
    chaincode_name: str,
    header_extension: bytes,
    function_name: str,
    arguments: Iterable[Argument],
    transient_data: Mapping[str, Argument] | None,
    endorsing_organizations: Iterable[str] | None,
) -> gateway_pb2.ProposedTransaction:
    """Build the unsigned ``ProposedTransaction`` for one invocation with a fresh nonce and transaction ID."""
    context = TransactionContext(creator)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.ENDORSER_TRANSACTION,
        version=0,
        timestamp=timestamp_now(),
        channel_id=channel_name,
        tx_id=context.transaction_id,
        epoch=0,
        extension=header_extension,
    )
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(), signature_header=context.signature_header
    )
    invocation_spec = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_pb2.ChaincodeID(name=chaincode_name),
            input=chaincode_pb2.ChaincodeInput(
                args=[function_name.encode("utf-8"), *(to_bytes(argument) for argument in arguments)]
            ),
        )
    )
    # Transient data travels only in the proposal; peers hash and the gateway re-serialises the payload without it.
    payload = proposal_pb2.ChaincodeProposalPayload(
        input=invocation_spec.SerializeToString(),
        TransientMap={key: to_bytes(value) for key, value in transient_data.items()} if transient_data else None,
    )
    proposal = proposal_pb2.Proposal(header=header.SerializeToString(), payload=payload.SerializeToString())
    return gateway_pb2.ProposedTransaction(
        transaction_id=context.transaction_id,
        proposal=proposal_pb2.SignedProposal(proposal_bytes=proposal.SerializeToString()),
        endorsing_organizations=endorsing_organizations,
    )
