"""Chaincode and block event streams: start positions, iteration, closing and errors."""

from __future__ import annotations

import threading
import time

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import chaincode_event_pb2, events_pb2

from app.fabric import (
    ChaincodeEvent,
    DeliverError,
    InMemoryCheckpointer,
    connect,
    new_private_key_signer,
    serialize_identity,
    tls_certificate_hash,
)
from tests.helpers import wait_for


def events_response(block_number, *names):
    return gateway_pb2.ChaincodeEventsResponse(
        block_number=block_number,
        events=[
            chaincode_event_pb2.ChaincodeEvent(
                chaincode_id="basic", tx_id=f"tx-{name}", event_name=name, payload=name.encode()
            )
            for name in names
        ],
    )


def seek_info(envelope):
    payload = common_pb2.Payload.FromString(envelope.payload)
    return (
        common_pb2.ChannelHeader.FromString(payload.header.channel_header),
        common_pb2.SignatureHeader.FromString(payload.header.signature_header),
        ab_pb2.SeekInfo.FromString(payload.data),
    )


def opened(stream, received):
    """Wait until the fake peer has the request, then close the stream."""
    with stream:
        wait_for(received)


def test_chaincode_events_arrive_in_order_with_their_block_numbers(gateway, fake_peer):
    fake_peer.gateway.chaincode_events = [events_response(5, "A", "B"), events_response(6, "C")]
    network = gateway.get_network("mychannel")
    with network.get_chaincode_events("basic") as events:
        received = [next(events) for _ in range(3)]
    assert received == [
        ChaincodeEvent(5, "tx-A", "basic", "A", b"A"),
        ChaincodeEvent(5, "tx-B", "basic", "B", b"B"),
        ChaincodeEvent(6, "tx-C", "basic", "C", b"C"),
    ]
    assert list(events) == []  # closed: iteration just stops


def test_chaincode_events_start_at_next_commit_or_the_start_block(gateway, fake_peer, identity):
    network = gateway.get_network("mychannel")
    opened(network.get_chaincode_events("basic"), lambda: len(fake_peer.gateway.requests) == 1)
    opened(network.get_chaincode_events("basic", start_block=12), lambda: len(fake_peer.gateway.requests) == 2)
    first, second = (gateway_pb2.ChaincodeEventsRequest.FromString(r.request) for _, r in fake_peer.gateway.requests)
    assert first.start_position.WhichOneof("Type") == "next_commit"
    assert first.channel_id == "mychannel" and first.chaincode_id == "basic"
    assert first.identity == serialize_identity(identity)
    assert second.start_position.specified.number == 12
    assert second.after_transaction_id == ""


def test_chaincode_events_resume_after_the_checkpointed_transaction(gateway, fake_peer):
    checkpointer = InMemoryCheckpointer()
    checkpointer.checkpoint_chaincode_event(ChaincodeEvent(9, "tx-9", "basic", "E", b""))
    events = gateway.get_network("mychannel").get_chaincode_events("basic", start_block=1, checkpoint=checkpointer)
    opened(events, lambda: fake_peer.gateway.requests)
    request = gateway_pb2.ChaincodeEventsRequest.FromString(fake_peer.gateway.requests[0][1].request)
    assert request.start_position.specified.number == 9
    assert request.after_transaction_id == "tx-9"


def test_empty_checkpoint_falls_back_to_the_start_block(gateway, fake_peer):
    events = gateway.get_network("mychannel").get_chaincode_events(
        "basic", start_block=3, checkpoint=InMemoryCheckpointer()
    )
    opened(events, lambda: fake_peer.gateway.requests)
    request = gateway_pb2.ChaincodeEventsRequest.FromString(fake_peer.gateway.requests[0][1].request)
    assert request.start_position.specified.number == 3


def test_closing_from_another_thread_ends_a_blocked_iteration(gateway, fake_peer):
    events = gateway.get_network("mychannel").get_chaincode_events("basic")
    received = []
    reader = threading.Thread(target=lambda: received.extend(events))
    reader.start()
    time.sleep(0.1)
    events.close()
    reader.join(5)
    assert not reader.is_alive()
    assert received == []


def test_block_events_send_a_signed_seek_envelope_and_yield_blocks(gateway, fake_peer, identity):
    fake_peer.deliver.responses = [
        events_pb2.DeliverResponse(block=common_pb2.Block(header=common_pb2.BlockHeader(number=n))) for n in (4, 5)
    ]
    with gateway.get_network("mychannel").get_block_events(start_block=4) as blocks:
        numbers = [next(blocks).header.number, next(blocks).header.number]
    assert numbers == [4, 5]
    method, envelope = fake_peer.deliver.requests[0]
    assert method == "Deliver"
    channel_header, signature_header, seek = seek_info(envelope)
    assert channel_header.type == common_pb2.DELIVER_SEEK_INFO == 5
    assert channel_header.channel_id == "mychannel" and channel_header.epoch == 0
    assert abs(channel_header.timestamp.seconds - time.time()) < 5
    assert channel_header.tls_cert_hash == b""
    assert signature_header.creator == serialize_identity(identity)
    assert seek.start.specified.number == 4
    assert seek.stop.specified.number == 2**64 - 1
    assert seek.behavior == ab_pb2.SeekInfo.BLOCK_UNTIL_READY
    assert fake_peer.deliver.finished.wait(5)


def test_block_events_from_a_checkpoint_start_at_its_block(gateway, fake_peer):
    checkpointer = InMemoryCheckpointer()
    checkpointer.checkpoint_block(20)
    filtered = gateway.get_network("mychannel").get_filtered_block_events(checkpoint=checkpointer)
    opened(filtered, lambda: fake_peer.deliver.requests)
    method, envelope = fake_peer.deliver.requests[0]
    assert method == "DeliverFiltered"
    assert seek_info(envelope)[2].start.specified.number == 21


def test_filtered_and_private_data_streams_yield_their_own_types(gateway, fake_peer):
    fake_peer.deliver.responses = [
        events_pb2.DeliverResponse(filtered_block=events_pb2.FilteredBlock(channel_id="mychannel", number=3)),
        events_pb2.DeliverResponse(
            block_and_private_data=events_pb2.BlockAndPrivateData(
                block=common_pb2.Block(header=common_pb2.BlockHeader(number=3))
            )
        ),
    ]
    network = gateway.get_network("mychannel")
    with network.get_filtered_block_events() as filtered:
        assert next(filtered).number == 3
    with network.get_block_and_private_data_events() as private:
        assert next(private).block.header.number == 3


def test_a_deliver_status_other_than_success_raises(gateway, fake_peer):
    fake_peer.deliver.responses = [events_pb2.DeliverResponse(status=common_pb2.FORBIDDEN)]
    blocks = gateway.get_network("mychannel").get_block_events()
    with pytest.raises(DeliverError) as raised:
        next(blocks)
    assert raised.value.status == 403 and raised.value.status_name == "FORBIDDEN"
    assert not raised.value.connection_error
    assert fake_peer.deliver.finished.wait(5)


def test_a_success_status_ends_the_block_stream(gateway, fake_peer):
    fake_peer.deliver.responses = [
        events_pb2.DeliverResponse(block=common_pb2.Block()),
        events_pb2.DeliverResponse(status=common_pb2.SUCCESS),
    ]
    assert len(list(gateway.get_network("mychannel").get_block_events())) == 1


def test_closing_the_gateway_closes_its_streams(identity, credentials, channel, fake_peer):
    gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel)
    blocks = gateway.get_network("mychannel").get_block_events()
    events = gateway.get_network("mychannel").get_chaincode_events("basic")
    wait_for(lambda: fake_peer.deliver.requests and fake_peer.gateway.requests)
    gateway.close()
    assert list(blocks) == [] and list(events) == []
    assert fake_peer.deliver.finished.wait(5)


def test_offline_signed_event_requests(identity, credentials, channel, fake_peer):
    offline = connect(identity, channel=channel)
    signer = new_private_key_signer(credentials.key)
    network = offline.get_network("mychannel")

    request = network.new_chaincode_events_request("basic", start_block=2)
    signed = offline.new_signed_chaincode_events_request(request.bytes(), signer(request.digest()))
    opened(signed.get_events(), lambda: fake_peer.gateway.requests)

    block_request = network.new_block_events_request(start_block=2)
    blocks = offline.new_signed_block_events_request(block_request.bytes(), signer(block_request.digest()))
    opened(blocks.get_events(), lambda: len(fake_peer.deliver.requests) == 1)
    filtered = network.new_filtered_block_events_request()
    filtered_blocks = offline.new_signed_filtered_block_events_request(filtered.bytes(), signer(filtered.digest()))
    opened(filtered_blocks.get_events(), lambda: len(fake_peer.deliver.requests) == 2)

    assert [method for method, _ in fake_peer.deliver.requests] == ["Deliver", "DeliverFiltered"]


def test_tls_certificate_hash_goes_into_the_seek_header(identity, credentials, channel, fake_peer, new_credentials):
    client_tls = new_credentials("client-tls")
    expected = tls_certificate_hash(client_tls.certificate_pem)
    gateway = connect(
        identity, new_private_key_signer(credentials.key), channel=channel, tls_client_certificate_hash=expected
    )
    request = gateway.get_network("mychannel").new_block_events_request()
    channel_header, _, _ = seek_info(common_pb2.Envelope.FromString(request.bytes()))
    assert channel_header.tls_cert_hash == expected and len(expected) == 32


def test_closed_block_streams_release_their_request_threads(gateway, fake_peer):
    def client_threads():
        # The fake peer's handlers run on ThreadPoolExecutor workers; everything else here is client side.
        return [thread for thread in threading.enumerate() if not thread.name.startswith("ThreadPoolExecutor")]

    baseline = len(client_threads())
    for _ in range(5):
        with gateway.get_network("mychannel").get_block_events() as blocks:
            wait_for(lambda: fake_peer.deliver.requests)
        fake_peer.deliver.requests.clear()
        assert list(blocks) == []
    wait_for(lambda: len(client_threads()) <= baseline)
