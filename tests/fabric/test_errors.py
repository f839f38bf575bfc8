"""Error mapping: gRPC status, decoded ErrorDetails, chaincode messages, connection failures."""

from __future__ import annotations

import socket

import grpc
import pytest
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_response_pb2

from app.fabric import (
    CommitError,
    EndorseError,
    ErrorDetail,
    GatewayError,
    SubmitError,
    connect,
    new_grpc_channel,
    new_private_key_signer,
)
from app.fabric.errors import decode_status_details

PEER_DETAILS = [
    gateway_pb2.ErrorDetail(
        address="peer0.org1.example.com:7051",
        msp_id="Org1MSP",
        message="chaincode response 500, NOT_FOUND: asset asset9 does not exist",
    ),
    gateway_pb2.ErrorDetail(
        address="peer0.org2.example.com:9051",
        msp_id="Org2MSP",
        message="chaincode response 500, NOT_FOUND: asset asset9 does not exist",
    ),
]


def test_endorse_failure_decodes_details_and_the_chaincode_message(gateway, fake_peer):
    fake_peer.gateway.fail(
        "Endorse",
        grpc.StatusCode.ABORTED,
        "failed to collect enough transaction endorsements, see attached details for more info",
        PEER_DETAILS,
    )
    contract = gateway.get_network("mychannel").get_contract("basic")
    with pytest.raises(EndorseError) as raised:
        contract.submit_transaction("TransferAsset", "asset9", "bob")
    error = raised.value
    assert isinstance(error, GatewayError)
    assert error.code == grpc.StatusCode.ABORTED
    assert error.transaction_id == fake_peer.gateway.requests[0][1].transaction_id
    assert error.details == [
        ErrorDetail("peer0.org1.example.com:7051", "Org1MSP", PEER_DETAILS[0].message),
        ErrorDetail("peer0.org2.example.com:9051", "Org2MSP", PEER_DETAILS[1].message),
    ]
    assert error.chaincode_status == 500
    assert error.chaincode_message == "NOT_FOUND: asset asset9 does not exist"
    assert not error.connection_error
    assert isinstance(error.cause, grpc.RpcError) and error.__cause__ is error.cause
    assert "peer0.org2.example.com:9051" in str(error) and error.transaction_id in str(error)
    assert fake_peer.gateway.methods() == ["Endorse"]


def test_evaluate_chaincode_error_is_a_gateway_error_with_the_chaincode_message(gateway, fake_peer):
    fake_peer.gateway.fail(
        "Evaluate",
        grpc.StatusCode.UNKNOWN,
        "evaluate call to endorser returned error: chaincode response 500, asset not found",
    )
    with pytest.raises(GatewayError) as raised:
        gateway.get_network("mychannel").get_contract("basic").evaluate_transaction("ReadAsset", "x")
    assert type(raised.value) is GatewayError
    assert raised.value.details == []
    assert raised.value.chaincode_message == "asset not found"


def test_non_chaincode_failures_have_no_chaincode_message(gateway, fake_peer):
    fake_peer.gateway.fail(
        "Submit",
        grpc.StatusCode.UNAVAILABLE,
        "no orderers could successfully process transaction",
        [gateway_pb2.ErrorDetail(address="orderer1:7050", msp_id="OrdererMSP", message="connection refused")],
    )
    with pytest.raises(SubmitError) as raised:
        gateway.get_network("mychannel").get_contract("basic").submit_transaction("Write")
    assert raised.value.chaincode_message is None
    assert raised.value.connection_error
    assert raised.value.details[0].msp_id == "OrdererMSP"


def test_unreachable_peer_is_a_connection_error(identity, credentials):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = new_grpc_channel(f"127.0.0.1:{port}", None)
    try:
        gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel)
        with pytest.raises(EndorseError) as raised:
            gateway.get_network("mychannel").get_contract("basic").new_proposal("Write").endorse(timeout=2)
    finally:
        channel.close()
    assert raised.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert raised.value.connection_error
    assert raised.value.details == []


def test_access_denied_is_a_rejection_not_a_connection_error(gateway, fake_peer):
    fake_peer.gateway.fail("Evaluate", grpc.StatusCode.FAILED_PRECONDITION, "access denied")
    with pytest.raises(GatewayError) as raised:
        gateway.get_network("mychannel").get_contract("basic").evaluate_transaction("Read")
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert not raised.value.connection_error


def test_status_details_decoding_skips_foreign_details_and_survives_garbage(encode_status):
    foreign = proposal_response_pb2.Response(status=500, message="not an ErrorDetail")
    detail = gateway_pb2.ErrorDetail(address="a:1", msp_id="M", message="m")
    data = encode_status(grpc.StatusCode.ABORTED, "x", [foreign, detail])
    assert decode_status_details(data) == [ErrorDetail("a:1", "M", "m")]
    assert decode_status_details(b"") == []
    assert decode_status_details(b"\x1a\xff\xff") == []
    assert decode_status_details(b"\xff") == []


def test_commit_error_names_the_validation_code():
    error = CommitError(11, "abc")
    assert str(error) == "transaction abc failed to commit with status code 11 (MVCC_READ_CONFLICT)"
    assert not isinstance(error, GatewayError)
    assert CommitError(77, "abc").code_name == "UNKNOWN_77"
