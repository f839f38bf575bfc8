"""Evaluate and submit call flows against the in-process fake gateway."""

from __future__ import annotations

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2

from app.fabric import (
    CommitError,
    CommitStatusError,
    Timeouts,
    TxValidationCode,
    connect,
    new_private_key_signer,
    serialize_identity,
)


def test_evaluate_transaction_returns_the_peer_result(gateway, fake_peer):
    fake_peer.gateway.evaluate_result = b'{"id":"asset1"}'
    contract = gateway.get_network("mychannel").get_contract("basic")
    assert contract.evaluate_transaction("ReadAsset", "asset1") == b'{"id":"asset1"}'
    ((method, request),) = fake_peer.gateway.requests
    assert method == "Evaluate"
    assert request.channel_id == "mychannel"
    assert len(request.transaction_id) == 64


def test_evaluate_targets_the_endorsing_organizations(gateway, fake_peer):
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.evaluate("ReadAsset", arguments=["a"], endorsing_organizations=["Org2MSP"])
    _, request = fake_peer.gateway.requests[0]
    assert list(request.target_organizations) == ["Org2MSP"]


def test_submit_transaction_endorses_submits_and_waits_for_commit(gateway, fake_peer, identity):
    fake_peer.gateway.endorse_result = b"created"
    contract = gateway.get_network("mychannel").get_contract("basic")
    assert contract.submit_transaction("CreateAsset", "asset1") == b"created"
    assert fake_peer.gateway.methods() == ["Endorse", "Submit", "CommitStatus"]

    endorse, submit, commit = (request for _, request in fake_peer.gateway.requests)
    assert endorse.transaction_id == submit.transaction_id
    assert submit.channel_id == "mychannel"
    status_request = gateway_pb2.CommitStatusRequest.FromString(commit.request)
    assert status_request.transaction_id == endorse.transaction_id
    assert status_request.channel_id == "mychannel"
    assert status_request.identity == serialize_identity(identity)


def test_submit_transaction_raises_commit_error_for_an_invalid_transaction(gateway, fake_peer):
    fake_peer.gateway.commit_code = transaction_pb2.MVCC_READ_CONFLICT
    contract = gateway.get_network("mychannel").get_contract("basic")
    with pytest.raises(CommitError) as raised:
        contract.submit_transaction("Increment", "counter")
    error = raised.value
    assert error.code == TxValidationCode.Value("MVCC_READ_CONFLICT") == 11
    assert error.code_name == "MVCC_READ_CONFLICT"
    assert "MVCC_READ_CONFLICT" in str(error)
    assert error.transaction_id == fake_peer.gateway.requests[0][1].transaction_id


def test_submit_async_status_reports_an_invalid_transaction_without_raising(gateway, fake_peer):
    fake_peer.gateway.commit_code = transaction_pb2.ENDORSEMENT_POLICY_FAILURE
    fake_peer.gateway.block_number = 42
    contract = gateway.get_network("mychannel").get_contract("basic")
    submitted = contract.submit_async("CreateAsset", arguments=["a"])
    assert submitted.result == b"endorsed"
    status = submitted.get_status()
    assert status.successful is False
    assert status.code == transaction_pb2.ENDORSEMENT_POLICY_FAILURE
    assert status.code_name == "ENDORSEMENT_POLICY_FAILURE"
    assert status.block_number == 42
    assert status.transaction_id == submitted.transaction_id


def test_step_by_step_flow_exposes_result_before_submit(gateway, fake_peer):
    fake_peer.gateway.endorse_result = b"\x00binary"
    proposal = gateway.get_network("mychannel").get_contract("basic").new_proposal("Create")
    transaction = proposal.endorse()
    assert transaction.result == b"\x00binary"
    assert transaction.transaction_id == proposal.transaction_id
    assert fake_peer.gateway.methods() == ["Endorse"]
    status = transaction.submit().get_status()
    assert status.successful and status.code == transaction_pb2.VALID and status.block_number == 7


def test_default_deadlines_are_sent_with_each_call(gateway, fake_peer):
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.evaluate_transaction("Read")
    contract.submit_transaction("Write")
    remaining = fake_peer.gateway.time_remaining
    assert remaining["Evaluate"] == pytest.approx(5, abs=0.5)
    assert remaining["Endorse"] == pytest.approx(15, abs=0.5)
    assert remaining["Submit"] == pytest.approx(5, abs=0.5)
    assert remaining["CommitStatus"] == pytest.approx(60, abs=0.5)


def test_configured_and_per_call_timeouts_override_the_defaults(identity, credentials, channel, fake_peer):
    timeouts = Timeouts(evaluate=2, endorse=3, submit=None, commit_status=30)
    gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel, timeouts=timeouts)
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.evaluate_transaction("Read")
    contract.new_proposal("Write").endorse(timeout=9).submit().get_status(timeout=1)
    remaining = fake_peer.gateway.time_remaining
    assert remaining["Evaluate"] == pytest.approx(2, abs=0.5)
    assert remaining["Endorse"] == pytest.approx(9, abs=0.5)
    assert remaining["Submit"] > 1e9  # no deadline
    assert remaining["CommitStatus"] == pytest.approx(1, abs=0.5)


def test_commit_status_deadline_raises_a_connection_error_with_the_transaction_id(gateway, fake_peer):
    fake_peer.gateway.commit_delay = 5
    submitted = gateway.get_network("mychannel").get_contract("basic").submit_async("Write")
    with pytest.raises(CommitStatusError) as raised:
        submitted.get_status(timeout=0.2)
    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert raised.value.connection_error
    assert raised.value.transaction_id == submitted.transaction_id


def test_signatures_cover_the_exact_bytes_sent(gateway, fake_peer, verify_signature):
    gateway.get_network("mychannel").get_contract("basic").submit_transaction("Write")
    _, endorse = fake_peer.gateway.requests[0]
    _, submit = fake_peer.gateway.requests[1]
    signed = endorse.proposed_transaction
    header = common_pb2.Payload.FromString(submit.prepared_transaction.payload).header
    creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
    assert verify_signature(creator, signed.proposal_bytes, signed.signature)
    assert verify_signature(creator, submit.prepared_transaction.payload, submit.prepared_transaction.signature)


def test_gateway_leaves_the_injected_channel_open(identity, credentials, channel, fake_peer):
    signer = new_private_key_signer(credentials.key)
    with connect(identity, signer, channel=channel) as first:
        first.get_network("mychannel").get_contract("basic").evaluate_transaction("Read")
    with pytest.raises(RuntimeError):
        first.get_network("mychannel").get_contract("basic").evaluate_transaction("Read")
    second = connect(identity, signer, channel=channel)
    assert second.get_network("mychannel").get_contract("basic").evaluate_transaction("Read") == b"evaluated"
