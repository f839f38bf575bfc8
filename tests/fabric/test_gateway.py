"""Connecting: the gRPC channel helper (message size, keepalive, TLS) and gateway lifecycle."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from fabric_protos.gateway import gateway_pb2_grpc

from app.fabric import Timeouts, connect, new_grpc_channel, new_private_key_signer
from app.fabric import gateway as gateway_module


def captured_options(monkeypatch, **kwargs):
    seen = {}

    def fake_secure_channel(endpoint, credentials, options):
        seen.update(options)
        return "channel"

    monkeypatch.setattr(gateway_module.grpc, "secure_channel", fake_secure_channel)
    assert new_grpc_channel("peer:7051", b"-----BEGIN CERTIFICATE-----", **kwargs) == "channel"
    return seen


def test_channel_accepts_large_blocks_and_pings_no_faster_than_peers_allow(monkeypatch):
    options = captured_options(monkeypatch, server_name_override="peer0.org1.example.com")
    assert options["grpc.max_receive_message_length"] >= 100 * 1024 * 1024
    assert options["grpc.keepalive_time_ms"] >= 60_000
    assert options["grpc.ssl_target_name_override"] == "peer0.org1.example.com"


def test_mutual_tls_needs_both_certificate_and_key():
    with pytest.raises(ValueError):
        new_grpc_channel("peer:7051", b"ca", client_cert_pem=b"cert")
    with pytest.raises(ValueError):
        new_grpc_channel("peer:7051", None, server_name_override="peer0")


def test_tls_channel_reaches_a_peer_through_a_name_override(new_credentials, identity, credentials, fake_peer):
    tls = new_credentials("peer0.org1.example.com", san="peer0.org1.example.com")
    key_pem = tls.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake_peer.gateway, server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key_pem, tls.certificate_pem)]))
    server.start()
    channel = new_grpc_channel(f"127.0.0.1:{port}", tls.certificate_pem, server_name_override="peer0.org1.example.com")
    try:
        gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel)
        assert gateway.get_network("ch").get_contract("cc").evaluate_transaction("Read") == b"evaluated"
    finally:
        channel.close()
        server.stop(None).wait()


def test_timeouts_default_to_the_fabric_samples_convention():
    timeouts = Timeouts()
    assert (timeouts.evaluate, timeouts.endorse, timeouts.submit, timeouts.commit_status) == (5, 15, 5, 60)
    assert timeouts.chaincode_events is None and timeouts.block_events is None


def test_gateway_exposes_its_identity_and_hides_the_signer(identity, credentials, channel):
    gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel)
    assert gateway.identity is identity
    assert str(credentials.key.private_numbers().private_value) not in repr(gateway)
    gateway.close()
    gateway.close()
