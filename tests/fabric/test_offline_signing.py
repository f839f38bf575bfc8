"""Offline signing: digests out, signatures in, bytes unchanged, nothing re-signed."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2

from app.fabric import (
    X509Identity,
    connect,
    new_private_key_signer,
    none,
    p1363_to_der,
    sha256,
)


def webcrypto_sign(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """What ``subtle.sign({name: 'ECDSA', hash: 'SHA-256'}, key, message)`` returns: P1363 r||s, any S."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_offline_signed_submit_round_trip(identity, credentials, channel, fake_peer):
    offline = connect(identity, channel=channel)
    signer = new_private_key_signer(credentials.key)
    contract = offline.get_network("mychannel").get_contract("basic")

    unsigned = contract.new_proposal("CreateAsset", arguments=["asset1"])
    proposal_bytes = unsigned.bytes()
    signed = offline.new_signed_proposal(proposal_bytes, signer(unsigned.digest()))
    assert signed.transaction_id == unsigned.transaction_id
    assert signed.digest() == unsigned.digest()
    original = gateway_pb2.ProposedTransaction.FromString(proposal_bytes)
    after = gateway_pb2.ProposedTransaction.FromString(signed.bytes())
    assert after.proposal.proposal_bytes == original.proposal.proposal_bytes
    assert after.proposal.signature

    unsigned_transaction = signed.endorse()
    transaction_bytes = unsigned_transaction.bytes()
    transaction = offline.new_signed_transaction(transaction_bytes, signer(unsigned_transaction.digest()))
    assert transaction.result == unsigned_transaction.result == b"endorsed"
    prepared = gateway_pb2.PreparedTransaction.FromString(transaction.bytes())
    assert prepared.envelope.payload == gateway_pb2.PreparedTransaction.FromString(transaction_bytes).envelope.payload

    unsigned_commit = transaction.submit()
    commit = offline.new_signed_commit(unsigned_commit.bytes(), signer(unsigned_commit.digest()))
    assert commit.transaction_id == unsigned.transaction_id
    status = commit.get_status()
    assert status.successful
    assert fake_peer.gateway.methods() == ["Endorse", "Submit", "CommitStatus"]


def test_unsigned_request_without_signer_refuses_to_send(identity, channel, fake_peer):
    offline = connect(identity, channel=channel)
    proposal = offline.get_network("mychannel").get_contract("basic").new_proposal("Read")
    with pytest.raises(RuntimeError, match="without a signer"):
        proposal.evaluate()
    assert fake_peer.gateway.requests == []


def test_already_signed_objects_are_never_re_signed(identity, credentials, channel, fake_peer):
    calls = []
    real = new_private_key_signer(credentials.key)

    def counting_signer(digest: bytes) -> bytes:
        calls.append(digest)
        return real(digest)

    gateway = connect(identity, counting_signer, channel=channel)
    proposal = gateway.get_network("mychannel").get_contract("basic").new_proposal("Read")
    signature = real(proposal.digest())
    signed = gateway.new_signed_proposal(proposal.bytes(), signature)
    signed.evaluate()
    signed.evaluate()
    assert calls == []
    _, request = fake_peer.gateway.requests[0]
    assert request.proposed_transaction.signature == signature


def test_hash_none_gives_the_full_message_as_digest(identity, channel):
    gateway = connect(identity, channel=channel, hash=none)
    proposal = gateway.get_network("mychannel").get_contract("basic").new_proposal("Read")
    proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
    assert proposal.digest() == proposed.proposal.proposal_bytes

    default = connect(identity, channel=channel)
    assert default.new_proposal(proposal.bytes()).digest() == sha256(proposed.proposal.proposal_bytes)


def test_webcrypto_style_signatures_work_after_p1363_conversion(identity, credentials, channel, fake_peer):
    browser = connect(identity, channel=channel, hash=none)
    contract = browser.get_network("mychannel").get_contract("basic")
    for index in range(10):  # about half of raw signatures are high-S
        proposal = contract.new_proposal("Write", arguments=[str(index)])
        signature = p1363_to_der(webcrypto_sign(credentials.key, proposal.digest()))
        transaction = browser.new_signed_proposal(proposal.bytes(), signature).endorse()
        signature = p1363_to_der(webcrypto_sign(credentials.key, transaction.digest()))
        commit = browser.new_signed_transaction(transaction.bytes(), signature).submit()
        signature = p1363_to_der(webcrypto_sign(credentials.key, commit.digest()))
        assert browser.new_signed_commit(commit.bytes(), signature).get_status().successful


def test_service_identity_can_submit_a_user_signed_transaction(
    identity, credentials, channel, fake_peer, new_credentials
):
    user_key = credentials.key
    user = connect(identity, channel=channel)
    service_credentials = new_credentials("service")
    service = connect(
        X509Identity.from_certificate("Org1MSP", service_credentials.certificate),
        new_private_key_signer(service_credentials.key),
        channel=channel,
    )
    user_signer = new_private_key_signer(user_key)
    proposal = user.get_network("mychannel").get_contract("basic").new_proposal("Write")
    transaction = service.new_signed_proposal(proposal.bytes(), user_signer(proposal.digest())).endorse()
    signed = service.new_signed_transaction(transaction.bytes(), user_signer(transaction.digest()))
    assert signed.submit().get_status().successful  # commit status signed by the service identity
    _, commit_request = fake_peer.gateway.requests[-1]
    status_request = gateway_pb2.CommitStatusRequest.FromString(commit_request.request)
    payload = common_pb2.Payload.FromString(fake_peer.gateway.requests[1][1].prepared_transaction.payload)
    user_creator = common_pb2.SignatureHeader.FromString(payload.header.signature_header).creator
    assert status_request.identity != user_creator


def test_malformed_bytes_are_rejected(identity, channel):
    gateway = connect(identity, channel=channel)
    with pytest.raises(ValueError):
        gateway.new_proposal(b"\xff\xff")
    with pytest.raises(ValueError):
        gateway.new_signed_commit(b"", b"")
