"""Commit status from the shared filtered-block stream, and the CommitStatus fallback, against the fake peer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import transaction_pb2

from app.fabric import CommitError, X509Identity, connect, new_private_key_signer
from app.fabric import commitwatcher
from tests.helpers import wait_for


@pytest.fixture
def ledger(fake_peer):
    """Every Submit commits its transaction in the next block (the first is block 8)."""
    fake_peer.ledger.commit_on_submit = True
    return fake_peer.ledger


@pytest.fixture
def contract(gateway, ledger):
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.submit_transaction("Write", "first")  # block 8, from CommitStatus: the watcher reads from block 9
    return contract


def stream_starts(fake_peer):
    """Start block of each DeliverFiltered stream the fake peer was asked for."""
    return [
        ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(envelope.payload).data).start.specified.number
        for method, envelope in fake_peer.deliver.requests
        if method == "DeliverFiltered"
    ]


def commit_status_ids(fake_peer):
    return [
        gateway_pb2.CommitStatusRequest.FromString(request.request).transaction_id
        for method, request in fake_peer.gateway.requests
        if method == "CommitStatus"
    ]


def watcher_threads():
    """Watcher threads of this module's fake channel (the real-network tests run watchers of their own)."""
    return [thread for thread in threading.enumerate() if thread.name == "fabric-commit-watcher-mychannel"]


def test_concurrent_transactions_are_resolved_from_one_stream(contract, fake_peer):
    def submit(index):
        submitted = contract.submit_async("Write", arguments=[str(index)])
        return submitted, submitted.get_status()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(40)))
        assert set(pool.map(lambda index: contract.submit_transaction("Write", str(index)), range(20))) == {b"endorsed"}

    assert all(status.successful and status.transaction_id == s.transaction_id for s, status in results)
    assert sorted(status.block_number for _, status in results) == list(range(9, 49))  # one block each
    assert {fake_peer.ledger.statuses[s.transaction_id][1] == status.block_number for s, status in results} == {True}
    assert len(commit_status_ids(fake_peer)) == 1
    assert stream_starts(fake_peer) == [9]


def test_an_invalid_transaction_is_reported_by_get_status_and_raised_by_submit(contract, fake_peer):
    fake_peer.gateway.commit_code = transaction_pb2.MVCC_READ_CONFLICT
    status = contract.submit_async("Increment").get_status()
    assert not status.successful
    assert status.code_name == "MVCC_READ_CONFLICT" and status.block_number == 9
    with pytest.raises(CommitError) as raised:
        contract.submit_transaction("Increment")
    assert raised.value.code == transaction_pb2.MVCC_READ_CONFLICT
    assert len(commit_status_ids(fake_peer)) == 1


def test_a_broken_stream_is_reopened_after_the_last_block_seen(contract, fake_peer, ledger):
    assert contract.submit_async("Write").get_status().block_number == 9
    ledger.break_streams()
    submitted = contract.submit_async("Write")  # block 10, committed around the time the stream is down
    status = submitted.get_status()
    assert status.successful and status.block_number == 10
    assert contract.submit_async("Write").get_status().block_number == 11
    assert stream_starts(fake_peer) == [9, 10]
    assert len(commit_status_ids(fake_peer)) == 1


def test_a_transaction_whose_block_never_arrives_falls_back_to_commit_status(contract, fake_peer, ledger):
    ledger.withhold = True
    submitted = contract.submit_async("Write")
    started = time.monotonic()
    status = submitted.get_status(timeout=1)
    assert time.monotonic() - started > 0.7  # the stream had three quarters of the timeout
    assert status.successful and status.block_number == 9
    assert commit_status_ids(fake_peer)[1:] == [submitted.transaction_id]
    assert 0 < fake_peer.gateway.time_remaining["CommitStatus"] <= 0.3  # CommitStatus had the rest
    assert submitted.get_status() == status  # asked again, CommitStatus answers again


def test_a_stream_that_stays_broken_sends_waiters_to_commit_status(contract, fake_peer, ledger, monkeypatch):
    monkeypatch.setattr(commitwatcher, "BROKEN_GRACE", 0.3)
    ledger.refuse_streams = True
    ledger.withhold = True  # nothing reaches the open stream before it breaks
    waiting = contract.submit_async("Write")
    ledger.break_streams()
    started = time.monotonic()
    assert waiting.get_status().block_number == 9
    assert time.monotonic() - started < 3  # soon after the grace, not near the 60 s timeout
    wait_for(lambda: len(stream_starts(fake_peer)) >= 3)  # the watcher keeps trying to reopen
    started = time.monotonic()
    assert contract.submit_async("Write").get_status().block_number == 10
    assert time.monotonic() - started < 1  # broken for longer than the grace: CommitStatus at once
    assert len(commit_status_ids(fake_peer)) == 3


def test_a_duplicate_transaction_id_in_the_stream_defers_to_commit_status(contract, fake_peer, ledger):
    ledger.commit_on_submit = False
    valid = contract.submit_async("Write")
    duplicate = contract.submit_async("Write")
    ledger.statuses[duplicate.transaction_id] = (transaction_pb2.VALID, 3)  # its first commit
    ledger.append_block(
        [(valid.transaction_id, transaction_pb2.VALID), (duplicate.transaction_id, transaction_pb2.DUPLICATE_TXID)]
    )
    assert valid.get_status().block_number == 9
    status = duplicate.get_status()
    assert status.successful and status.block_number == 3
    assert commit_status_ids(fake_peer)[1:] == [duplicate.transaction_id]


def test_transactions_submitted_before_the_watcher_started_ask_commit_status(gateway, fake_peer, ledger):
    contract = gateway.get_network("mychannel").get_contract("basic")
    first = contract.submit_async("Write")
    second = contract.submit_async("Write")
    assert first.get_status().block_number == 8
    assert second.get_status().block_number == 9  # in a block the watcher reads, but submitted before it existed
    assert commit_status_ids(fake_peer) == [first.transaction_id, second.transaction_id]
    third = contract.submit_async("Write")
    assert third.get_status().block_number == 10
    assert len(commit_status_ids(fake_peer)) == 2
    assert stream_starts(fake_peer) == [9]


def test_each_identity_has_its_own_stream(contract, fake_peer, channel, new_credentials):
    other = new_credentials("user2")
    with connect(
        X509Identity.from_certificate("Org1MSP", other.certificate), new_private_key_signer(other.key), channel=channel
    ) as second:
        second_contract = second.get_network("mychannel").get_contract("basic")
        second_contract.submit_transaction("Write")
        second_contract.submit_transaction("Write")
        contract.submit_transaction("Write")
        assert len(watcher_threads()) == 2
        creators = {
            common_pb2.SignatureHeader.FromString(
                common_pb2.Payload.FromString(envelope.payload).header.signature_header
            ).creator
            for _, envelope in fake_peer.deliver.requests
        }
        assert len(creators) == 2


def test_closing_the_gateway_stops_the_watcher_thread_and_its_stream(identity, credentials, channel, fake_peer, ledger):
    def client_threads():
        return [thread for thread in threading.enumerate() if not thread.name.startswith("ThreadPoolExecutor")]

    baseline = len(client_threads())
    gateway = connect(identity, new_private_key_signer(credentials.key), channel=channel)
    contract = gateway.get_network("mychannel").get_contract("basic")
    contract.submit_transaction("Write")
    contract.submit_transaction("Write")
    assert len(watcher_threads()) == 1 and stream_starts(fake_peer) == [9]
    gateway.close()
    assert watcher_threads() == []
    assert fake_peer.deliver.finished.wait(5)
    wait_for(lambda: len(client_threads()) <= baseline)


def test_a_gateway_without_a_signer_never_opens_a_stream(identity, credentials, channel, fake_peer, ledger):
    offline = connect(identity, channel=channel)
    signer = new_private_key_signer(credentials.key)
    contract = offline.get_network("mychannel").get_contract("basic")
    for block in (8, 9, 10):
        proposal = contract.new_proposal("Write")
        unsigned = offline.new_signed_proposal(proposal.bytes(), signer(proposal.digest())).endorse()
        transaction = offline.new_signed_transaction(unsigned.bytes(), signer(unsigned.digest()))
        commit = transaction.submit()
        assert offline.new_signed_commit(commit.bytes(), signer(commit.digest())).get_status().block_number == block
    assert fake_peer.deliver.requests == [] and watcher_threads() == []
    assert len(commit_status_ids(fake_peer)) == 3


def test_rebuilt_commits_ask_commit_status_even_while_a_watcher_runs(gateway, contract, fake_peer):
    submitted = contract.submit_async("Write")
    assert submitted.get_status().block_number == 9
    assert gateway.new_commit(submitted.bytes()).get_status().block_number == 9
    assert commit_status_ids(fake_peer)[1:] == [submitted.transaction_id]
