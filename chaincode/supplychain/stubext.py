"""Peer calls that fabric-chaincode-python 2.5.4 lacks or gets wrong, over the library's own message queue.

- State metadata (``GET_STATE_METADATA`` / ``PUT_STATE_METADATA``): the library defines the
  ``VALIDATION_PARAMETER`` constant but has no call to read or write it, so key-level
  (state-based) endorsement policies are set here, as the Go shim's ``SetStateValidationParameter``
  does.
- Key-level policies as Fabric's validator reads them: a serialised ``SignaturePolicyEnvelope``
  (:func:`all_peers_policy`), which the Go shim's ``statebased`` package also writes.
- The library resolves every reply, ``ERROR`` included, as a success; these calls raise :class:`PeerError`.

Each call goes through the handler's per-transaction message queue, as the library's own calls do,
so one transaction's messages stay in order and share the serialised stream writes of ``runtime``.
"""

from __future__ import annotations

import asyncio

from fabric_chaincode_python.fabric_shim.msg_queue_handler import QueueMessage
from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import chaincode_shim_pb2

VALIDATION_PARAMETER = "VALIDATION_PARAMETER"
_Message = chaincode_shim_pb2.ChaincodeMessage


class PeerError(Exception):
    """The peer answered a chaincode request with ERROR (the text is the peer's)."""


async def _ask_peer(stub, kind: int, payload: bytes, what: str) -> _Message:
    """Send one message of this transaction to the peer and wait for its reply."""
    handler = stub.client
    message = _Message(type=kind, payload=payload, txid=stub.get_txid(), channel_id=stub.get_channel_id())
    reply = asyncio.get_running_loop().create_future()
    await handler.msg_queue_handler.queue_msg(QueueMessage(message, what, reply))
    answer = await reply
    if answer.type == _Message.ERROR:
        raise PeerError(f"{what} failed: {answer.payload.decode(errors='replace')}")
    if answer.type != _Message.RESPONSE:
        raise PeerError(f"{what}: unexpected reply {_Message.Type.Name(answer.type)}")
    return answer


async def get_state_metadata(stub, key: str) -> dict[str, bytes]:
    """Every metadata entry of ``key`` in the world state (as this transaction sees it)."""
    request = chaincode_shim_pb2.GetStateMetadata(key=key, collection="")
    answer = await _ask_peer(stub, _Message.GET_STATE_METADATA, request.SerializeToString(), "GetStateMetadata")
    result = chaincode_shim_pb2.StateMetadataResult.FromString(answer.payload)
    return {entry.metakey: entry.value for entry in result.entries}


async def put_state_metadata(stub, key: str, metakey: str, value: bytes) -> None:
    """Write one metadata entry of ``key`` (the key itself need not be written by the transaction)."""
    request = chaincode_shim_pb2.PutStateMetadata(
        key=key, collection="", metadata=chaincode_shim_pb2.StateMetadata(metakey=metakey, value=value)
    )
    await _ask_peer(stub, _Message.PUT_STATE_METADATA, request.SerializeToString(), "PutStateMetadata")


async def get_validation_parameter(stub, key: str) -> bytes:
    """The key-level endorsement policy of ``key`` (serialised ``SignaturePolicyEnvelope``), b"" if none."""
    return (await get_state_metadata(stub, key)).get(VALIDATION_PARAMETER, b"")


async def set_validation_parameter(stub, key: str, policy: bytes) -> None:
    """Set the key-level endorsement policy of ``key``: later writes of it must satisfy ``policy``.

    ``policy`` is a serialised ``common.SignaturePolicyEnvelope`` (see :func:`all_peers_policy`): Fabric 2.x
    wraps the stored bytes in an ``ApplicationPolicy`` itself when it validates, so a value that is already an
    ``ApplicationPolicy`` would not parse there.
    """
    await put_state_metadata(stub, key, VALIDATION_PARAMETER, policy)


def all_peers_policy(msp_ids: list[str]) -> bytes:
    """A serialised ``SignaturePolicyEnvelope`` requiring a peer of every organisation in ``msp_ids``.

    The AND of ``<MSP>.peer`` principals, organisations sorted and deduplicated, so every endorser
    builds the same bytes (the Go shim's ``statebased.Policy()`` builds the same envelope).
    """
    orgs = sorted(set(msp_ids))
    if not orgs:
        raise ValueError("a policy needs at least one organisation")
    principals = [
        msp_principal_pb2.MSPPrincipal(
            principal_classification=msp_principal_pb2.MSPPrincipal.ROLE,
            principal=msp_principal_pb2.MSPRole(
                msp_identifier=msp, role=msp_principal_pb2.MSPRole.PEER
            ).SerializeToString(),
        )
        for msp in orgs
    ]
    rule = policies_pb2.SignaturePolicy(
        n_out_of=policies_pb2.SignaturePolicy.NOutOf(
            n=len(orgs), rules=[policies_pb2.SignaturePolicy(signed_by=i) for i in range(len(orgs))]
        )
    )
    return policies_pb2.SignaturePolicyEnvelope(version=0, rule=rule, identities=principals).SerializeToString()


def policy_organizations(policy: bytes) -> list[str]:
    """The MSP IDs of the ``<MSP>.peer`` principals of a serialised ``SignaturePolicyEnvelope``, in order."""
    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(policy)
    found = []
    for principal in envelope.identities:
        if principal.principal_classification == msp_principal_pb2.MSPPrincipal.ROLE:
            found.append(msp_principal_pb2.MSPRole.FromString(principal.principal).msp_identifier)
    return found
