"""Proposal structure, parsed back field by field, and transaction ID derivation."""

from __future__ import annotations

import hashlib
import time

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2

from app.fabric import new_transaction_id, serialize_identity


def parse(proposal):
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    inner = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
    header = common_pb2.Header.FromString(inner.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(inner.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    return proposed, inner, channel_header, signature_header, payload, spec


def test_transaction_id_is_hex_sha256_of_nonce_and_creator():
    nonce, creator = b"n" * 24, b"creator"
    assert new_transaction_id(nonce, creator) == hashlib.sha256(nonce + creator).hexdigest()
    assert len(new_transaction_id(nonce, creator)) == 64


def test_proposal_headers_match_what_endorsers_check(gateway, identity):
    contract = gateway.get_network("mychannel").get_contract("basic")
    before = time.time()
    proposal = contract.new_proposal("CreateAsset", arguments=["asset1", b"\x00\xff"])
    proposed, inner, channel_header, signature_header, _, _ = parse(proposal)

    assert channel_header.type == common_pb2.ENDORSER_TRANSACTION == 3
    assert channel_header.version == 0
    assert channel_header.epoch == 0
    assert channel_header.channel_id == "mychannel"
    assert channel_header.tls_cert_hash == b""
    assert before - 1 <= channel_header.timestamp.seconds <= time.time() + 1
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    assert extension.chaincode_id == chaincode_pb2.ChaincodeID(name="basic")

    creator = serialize_identity(identity)
    assert signature_header.creator == creator
    assert len(signature_header.nonce) == 24
    expected_id = hashlib.sha256(signature_header.nonce + creator).hexdigest()
    assert channel_header.tx_id == proposed.transaction_id == proposal.transaction_id == expected_id
    assert inner.extension == b""
    assert proposed.proposal.signature == b""


def test_proposal_carries_function_and_arguments_as_bytes(gateway):
    contract = gateway.get_network("mychannel").get_contract("basic", "AssetContract")
    proposal = contract.new_proposal("Transfer", arguments=["asset1", "Zoë", b"\x00\xff", bytearray(b"ba")])
    *_, spec = parse(proposal)
    assert list(spec.input.args) == [b"AssetContract:Transfer", b"asset1", "Zoë".encode(), b"\x00\xff", b"ba"]
    assert spec.chaincode_id.name == "basic"
    assert spec.input.is_init is False


def test_each_proposal_gets_a_fresh_nonce_and_transaction_id(gateway):
    contract = gateway.get_network("mychannel").get_contract("basic")
    ids = {contract.new_proposal("Read").transaction_id for _ in range(50)}
    assert len(ids) == 50


def test_endorsing_organizations_go_into_the_proposed_transaction(gateway):
    contract = gateway.get_network("mychannel").get_contract("basic")
    proposal = contract.new_proposal("Create", endorsing_organizations=["Org1MSP", "Org2MSP"])
    proposed, *_ = parse(proposal)
    assert list(proposed.endorsing_organizations) == ["Org1MSP", "Org2MSP"]


def test_transient_data_stays_out_of_the_payload_hash_form(gateway):
    contract = gateway.get_network("mychannel").get_contract("private")
    proposal = contract.new_proposal("Store", arguments=["k"], transient_data={"secret": b"\x01\x02", "note": "text"})
    _, inner, _, _, payload, spec = parse(proposal)
    assert dict(payload.TransientMap) == {"secret": b"\x01\x02", "note": b"text"}
    assert list(spec.input.args) == [b"Store", b"k"]

    # Peers hash, and the gateway stores, the payload re-serialised without the map: only `input` may remain.
    hash_form = proposal_pb2.ChaincodeProposalPayload(input=payload.input).SerializeToString()
    assert inner.payload.startswith(hash_form) and inner.payload != hash_form
    assert b"secret" not in hash_form and b"text" not in hash_form

    plain = parse(contract.new_proposal("Store", arguments=["k"]))[1]
    assert plain.payload == hash_form


def test_non_text_arguments_are_refused(gateway):
    contract = gateway.get_network("mychannel").get_contract("basic")
    with pytest.raises(TypeError):
        contract.new_proposal("Create", arguments=[42])
    with pytest.raises(ValueError):
        gateway.get_network("mychannel").get_contract("")
