"""Reading Fabric blocks offline: transactions, validation flags, hashes, orderer signatures, channel MSPs.

Pure functions over serialised ``common.Block`` bytes. Imports only the standard library, ``cryptography`` and
``fabric_protos``, so that the offline verifier (``app/evidence/verify.py``) can use it anywhere. The layouts follow
Fabric 2.5: ``protoutil.BlockDataHash`` (SHA-256 of the data entries joined), ``protoutil.BlockHeaderBytes`` (the
ASN.1 DER of number, previous hash, data hash) and the orderer's block writer (each signature covers the metadata
value, the signature header and the header bytes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp import identities_pb2, msp_config_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2, proposal_response_pb2, transaction_pb2
from google.protobuf.message import DecodeError

VALID = transaction_pb2.TxValidationCode.Value("VALID")


def parse_block(raw: bytes) -> common_pb2.Block:
    """A ``common.Block`` from its bytes; ``ValueError`` if they are not one."""
    try:
        block = common_pb2.Block.FromString(raw)
    except DecodeError as err:
        raise ValueError(f"not a Fabric block: {err}") from None
    if not block.HasField("header"):
        raise ValueError("not a Fabric block: no header")
    return block


def data_hash(block: common_pb2.Block) -> bytes:
    """What the header's ``data_hash`` must be: SHA-256 over the transactions' bytes, joined."""
    return hashlib.sha256(b"".join(block.data.data)).digest()


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def header_bytes(header: common_pb2.BlockHeader) -> bytes:
    """The DER ``SEQUENCE {INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash}`` orderers sign.

    Written out here because neither the standard library nor ``cryptography`` offers a general DER encoder, and
    three fields of two types are all it takes.
    """
    number = header.number.to_bytes(header.number.bit_length() // 8 + 1, "big")  # two's complement, minimal
    body = _der(0x02, number) + _der(0x04, header.previous_hash) + _der(0x04, header.data_hash)
    return _der(0x30, body)


@dataclass(frozen=True)
class Signed:
    """A signature by an MSP member: who (MSP ID and PEM certificate), over which bytes."""

    msp_id: str
    certificate: bytes
    message: bytes
    signature: bytes


def _identity(serialized: bytes) -> tuple[str, bytes]:
    identity = identities_pb2.SerializedIdentity.FromString(serialized)
    return identity.mspid, identity.id_bytes


def orderer_signatures(block: common_pb2.Block) -> list[Signed]:
    """The orderers' signatures in the block's SIGNATURES metadata (none on a genesis block)."""
    metadata = common_pb2.Metadata.FromString(block.metadata.metadata[common_pb2.SIGNATURES])
    signed = []
    for entry in metadata.signatures:
        header = common_pb2.SignatureHeader.FromString(entry.signature_header)
        msp_id, certificate = _identity(header.creator)
        message = metadata.value + entry.signature_header + header_bytes(block.header)
        signed.append(Signed(msp_id, certificate, message, entry.signature))
    return signed


def last_config_index(block: common_pb2.Block) -> int:
    """Number of the configuration block in force when ``block`` was cut."""
    if block.header.number == 0:
        return 0
    metadata = common_pb2.Metadata.FromString(block.metadata.metadata[common_pb2.SIGNATURES])
    return common_pb2.OrdererBlockMetadata.FromString(metadata.value).last_config.index


def validation_codes(block: common_pb2.Block) -> bytes:
    """One ``TxValidationCode`` per transaction, as the committing peer recorded them (0 is VALID)."""
    return bytes(block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER])


@dataclass
class Transaction:
    """An endorser transaction of a block, decoded as far as evidence needs."""

    index: int
    tx_id: str
    channel: str
    timestamp: float
    creator: Signed
    chaincode: str = ""
    arguments: list[bytes] = field(default_factory=list)
    response_status: int = 0
    response_payload: bytes = b""
    writes: list[tuple[str, str, bytes]] = field(default_factory=list)
    endorsements: list[Signed] = field(default_factory=list)


def transactions(block: common_pb2.Block) -> list[Transaction]:
    """The block's endorser transactions (configuration transactions are left out), in block order."""
    found = []
    for index, raw in enumerate(block.data.data):
        envelope = common_pb2.Envelope.FromString(raw)
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        if channel_header.type != common_pb2.ENDORSER_TRANSACTION:
            continue
        signature_header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        msp_id, certificate = _identity(signature_header.creator)
        stamp = channel_header.timestamp
        tx = Transaction(index, channel_header.tx_id, channel_header.channel_id, stamp.seconds + stamp.nanos / 1e9,
                         Signed(msp_id, certificate, envelope.payload, envelope.signature))  # fmt: skip
        _read_action(tx, transaction_pb2.Transaction.FromString(payload.data))
        found.append(tx)
    return found


def _read_action(tx: Transaction, transaction: transaction_pb2.Transaction) -> None:
    if not transaction.actions:
        return
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    proposal_payload = proposal_pb2.ChaincodeProposalPayload.FromString(action_payload.chaincode_proposal_payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(proposal_payload.input).chaincode_spec
    tx.chaincode = spec.chaincode_id.name
    tx.arguments = list(spec.input.args)
    endorsed = action_payload.action
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(endorsed.proposal_response_payload)
    action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    tx.response_status, tx.response_payload = action.response.status, action.response.payload
    results = rwset_pb2.TxReadWriteSet.FromString(action.results)
    for namespace in results.ns_rwset:
        for write in kv_rwset_pb2.KVRWSet.FromString(namespace.rwset).writes:
            tx.writes.append((namespace.namespace, write.key, write.value))
    for endorsement in endorsed.endorsements:
        msp_id, certificate = _identity(endorsement.endorser)
        tx.endorsements.append(Signed(msp_id, certificate, endorsed.proposal_response_payload + endorsement.endorser,
                                      endorsement.signature))  # fmt: skip


@dataclass(frozen=True)
class MSP:
    """An organisation's MSP as the channel configuration defines it: root and intermediate CA certificates."""

    msp_id: str
    root_certs: tuple[bytes, ...]
    intermediate_certs: tuple[bytes, ...]


def channel_msps(config_block: common_pb2.Block) -> dict[str, dict[str, MSP]]:
    """``{"Application": {msp_id: MSP}, "Orderer": {msp_id: MSP}}`` from a configuration block.

    ``ValueError`` if the block holds no channel configuration.
    """
    if len(config_block.data.data) != 1:
        raise ValueError("a configuration block holds exactly one transaction")
    envelope = common_pb2.Envelope.FromString(config_block.data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    if common_pb2.ChannelHeader.FromString(payload.header.channel_header).type != common_pb2.CONFIG:
        raise ValueError(f"block {config_block.header.number} is not a configuration block")
    channel_group = configtx_pb2.ConfigEnvelope.FromString(payload.data).config.channel_group
    msps: dict[str, dict[str, MSP]] = {}
    for section in ("Application", "Orderer"):
        msps[section] = {}
        for org_group in channel_group.groups[section].groups.values():
            config = msp_config_pb2.MSPConfig.FromString(org_group.values["MSP"].value)
            fabric = msp_config_pb2.FabricMSPConfig.FromString(config.config)
            msps[section][fabric.name] = MSP(fabric.name, tuple(fabric.root_certs), tuple(fabric.intermediate_certs))
    return msps
