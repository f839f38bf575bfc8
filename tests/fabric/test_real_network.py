"""The gateway client against the real network: every call goes to real peers and orderers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from app.fabric import (
    CommitError,
    EndorseError,
    GatewayError,
    InMemoryCheckpointer,
    SubmitError,
    TxValidationCode,
    load_private_key,
    new_private_key_signer,
    none,
    p1363_to_der,
)
from tests.helpers import eventually

pytestmark = pytest.mark.fabric

CHANNEL, CHAINCODE = "supplychain", "supplychain"
LISTENER = Path(__file__).with_name("listener.py")


def _key() -> str:
    return f"gw-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def producer(gateway_for):
    return gateway_for("Producer").get_network(CHANNEL).get_contract(CHAINCODE)


@pytest.fixture(scope="module")
def regulator(gateway_for):
    return gateway_for("Regulator").get_network(CHANNEL).get_contract(CHAINCODE)


def test_submit_commits_and_every_organisation_reads_it(producer, regulator, gateway_for):
    key = _key()
    record = json.loads(producer.submit_transaction("PutRecord", key, "eggs"))
    assert (record["key"], record["value"], record["version"]) == (key, "eggs", 1)
    # Other organisations' peers commit the block moments after the gateway's own peer.
    assert eventually(lambda: json.loads(regulator.evaluate_transaction("GetRecord", key))) == record
    logistics = gateway_for("Logistics").get_network(CHANNEL).get_contract(CHAINCODE)
    assert eventually(lambda: json.loads(logistics.evaluate_transaction("GetRecord", key))) == record


def test_async_submit_returns_the_result_at_once_and_then_the_commit_status(producer):
    key = _key()
    submitted = producer.submit_async("PutRecord", arguments=[key, "async"])
    assert json.loads(submitted.result)["value"] == "async"
    status = submitted.get_status()
    assert status.successful and status.code == TxValidationCode.VALID
    assert status.transaction_id == submitted.transaction_id and status.block_number > 0


def test_a_chaincode_error_surfaces_its_message(producer):
    with pytest.raises(GatewayError) as missing:
        producer.evaluate_transaction("GetRecord", "never-written")
    assert missing.value.chaincode_message == "NOT_FOUND: no record 'never-written'"
    assert not missing.value.connection_error


def test_a_rejected_endorsement_names_the_transaction_and_the_chaincode_reason(regulator):
    with pytest.raises(EndorseError) as refused:
        regulator.submit_transaction("PutRecord", _key(), "x")
    assert refused.value.chaincode_message == "FORBIDDEN: the Regulator reads business data but does not write it"
    assert len(refused.value.transaction_id) == 64
    assert refused.value.details and not refused.value.connection_error


def test_an_mvcc_conflict_is_a_commit_error_with_its_code(producer):
    key = _key()
    producer.submit_transaction("PutRecord", key, "v1")
    # Two transactions endorsed against the same version of the key: the second to commit conflicts.
    first = producer.new_proposal("PutRecord", arguments=[key, "a"]).endorse()
    second = producer.new_proposal("PutRecord", arguments=[key, "b"]).endorse()
    assert first.submit().get_status().successful
    status = second.submit().get_status()
    assert (status.successful, status.code) == (False, TxValidationCode.MVCC_READ_CONFLICT)

    errors: list[BaseException] = []

    def write() -> None:
        try:
            producer.submit_transaction("PutRecord", key, "race")
        except BaseException as err:  # noqa: BLE001 - collected for the assertions below
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicts = [e for e in errors if isinstance(e, CommitError)]
    assert conflicts and len(errors) == len(conflicts) and len(errors) < 6
    assert conflicts[0].code == TxValidationCode.MVCC_READ_CONFLICT
    assert "MVCC_READ_CONFLICT" in str(conflicts[0]) and len(conflicts[0].transaction_id) == 64


def test_an_offline_signed_submit_commits(private_key_pem, gateway_for):
    """Every signature is made outside the gateway: proposal, transaction and commit-status request."""
    gateway = gateway_for("Retailer", signer=None)
    contract = gateway.get_network(CHANNEL).get_contract(CHAINCODE)
    sign = new_private_key_signer(load_private_key(private_key_pem("Retailer")))
    key = _key()
    unsigned = contract.new_proposal("PutRecord", arguments=[key, "offline"])
    proposal = gateway.new_signed_proposal(unsigned.bytes(), sign(unsigned.digest()))
    unsigned_tx = proposal.endorse()
    transaction = gateway.new_signed_transaction(unsigned_tx.bytes(), sign(unsigned_tx.digest()))
    unsigned_commit = transaction.submit()
    commit = gateway.new_signed_commit(unsigned_commit.bytes(), sign(unsigned_commit.digest()))
    assert commit.get_status().successful
    producer = gateway_for("Producer").get_network(CHANNEL).get_contract(CHAINCODE)
    assert eventually(lambda: json.loads(producer.evaluate_transaction("GetRecord", key)))["value"] == "offline"


def test_a_signer_that_hashes_itself_and_returns_raw_r_s_is_accepted(private_key_pem, gateway_for):
    """As a browser's WebCrypto signs: the full message in, IEEE P1363 r||s out, high or low S."""
    key = load_private_key(private_key_pem("Logistics"))

    def webcrypto_like(message: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return p1363_to_der(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    gateway = gateway_for("Logistics", signer=webcrypto_like, hash=none)
    contract = gateway.get_network(CHANNEL).get_contract(CHAINCODE)
    for _ in range(4):  # about half of raw signatures are high-S: each must be normalised
        assert json.loads(contract.submit_transaction("PutRecord", _key(), "webcrypto"))["writer"] == "LogisticsMSP"


def test_a_tampered_signature_is_rejected_by_the_peer(private_key_pem, gateway_for):
    gateway = gateway_for("Producer", signer=None)
    contract = gateway.get_network(CHANNEL).get_contract(CHAINCODE)
    sign = new_private_key_signer(load_private_key(private_key_pem("Producer")))
    proposal = contract.new_proposal("PutRecord", arguments=[_key(), "tampered"])
    other = contract.new_proposal("PutRecord", arguments=[_key(), "other"])
    forged = gateway.new_signed_proposal(proposal.bytes(), sign(other.digest()))  # valid signature, wrong message
    with pytest.raises(EndorseError) as refused:
        forged.endorse()
    assert "access denied" in str(refused.value) and not refused.value.connection_error

    genuine = gateway.new_signed_proposal(proposal.bytes(), sign(proposal.digest())).endorse()
    forged_tx = gateway.new_signed_transaction(genuine.bytes(), sign(other.digest()))
    with pytest.raises(SubmitError) as refused_tx:
        forged_tx.submit()
    assert "FORBIDDEN" in str(refused_tx.value) or refused_tx.value.code == grpc.StatusCode.ABORTED


def test_an_identity_claiming_another_organisation_is_refused(gateway_for):
    contract = gateway_for("Producer", msp_id="RetailerMSP").get_network(CHANNEL).get_contract(CHAINCODE)
    with pytest.raises(GatewayError) as refused:
        contract.evaluate_transaction("GetRecord", "anything")
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "access denied" in str(refused.value)
    assert not refused.value.connection_error


def test_chaincode_events_arrive_in_order_from_a_start_block(producer, gateway_for):
    keys = [_key() for _ in range(3)]
    statuses = [producer.submit_async("PutRecord", arguments=[k, "evt"]) for k in keys]
    blocks = [s.get_status().block_number for s in statuses]
    network = gateway_for("Retailer").get_network(CHANNEL)
    seen = []
    with network.get_chaincode_events(CHAINCODE, start_block=min(blocks)) as events:
        for event in events:
            seen.append(event)
            if len(seen) == 3:
                break
    assert [e.transaction_id for e in seen] == [s.transaction_id for s in statuses]
    assert [json.loads(e.payload)["key"] for e in seen] == keys
    assert {e.event_name for e in seen} == {"RecordPut"} and [e.block_number for e in seen] == blocks


def test_block_events_full_filtered_and_with_private_data(producer, gateway_for):
    status = producer.submit_async("PutRecord", arguments=[_key(), "blk"])
    number = status.get_status().block_number
    network = gateway_for("Regulator").get_network(CHANNEL)
    with network.get_block_events(start_block=number) as blocks:
        block = next(blocks)
    assert block.header.number == number
    with network.get_filtered_block_events(start_block=number) as filtered:
        fblock = next(filtered)
    txs = {t.txid: t.tx_validation_code for t in fblock.filtered_transactions}
    assert txs[status.transaction_id] == TxValidationCode.VALID
    with network.get_block_and_private_data_events(start_block=number) as private:
        assert next(private).block.header.number == number


def test_a_checkpointed_chaincode_event_stream_resumes_after_the_checkpoint(producer, gateway_for):
    network = gateway_for("Logistics").get_network(CHANNEL)
    first = producer.submit_async("PutRecord", arguments=[_key(), "cp"])
    start = first.get_status().block_number
    rest = [producer.submit_async("PutRecord", arguments=[_key(), "cp"]) for _ in range(2)]
    for r in rest:
        r.get_status()
    checkpoint = InMemoryCheckpointer()
    with network.get_chaincode_events(CHAINCODE, start_block=start) as events:
        event = next(events)
        checkpoint.checkpoint_chaincode_event(event)
    assert event.transaction_id == first.transaction_id
    with network.get_chaincode_events(CHAINCODE, checkpoint=checkpoint) as events:
        assert [next(events).transaction_id for _ in rest] == [r.transaction_id for r in rest]


def test_a_listener_killed_mid_stream_resumes_without_gaps_or_duplicates(fabric_network, producer, tmp_path):
    """A real process listens with a file checkpointer, is killed with SIGKILL, and is started again."""
    submitted = [producer.submit_async("PutRecord", arguments=[_key(), "listen"]) for _ in range(8)]
    start = submitted[0].get_status().block_number
    for s in submitted:
        assert s.get_status().successful
    expected = [s.transaction_id for s in submitted]
    org = fabric_network.topology.org("Regulator")
    args = [sys.executable, str(LISTENER), "--peer", org.peers[0].address, "--host", org.peers[0].host,
            "--tls-ca", str(fabric_network.layout.ca_cert(org)), "--msp-id", org.msp_id,
            "--identity", str(fabric_network.layout.identity(org, "User1") / "msp"),
            "--start-block", str(start), "--checkpoint", str(tmp_path / "checkpoint.json"),
            "--out", str(tmp_path / "handled.txt"), "--slow", "0.3"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    handled = tmp_path / "handled.txt"

    run1 = subprocess.Popen([*args, "--received", str(tmp_path / "received1.txt")], env=env)
    deadline = time.monotonic() + 60
    while (not handled.exists() or len(handled.read_text().split()) < 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(run1.pid, signal.SIGKILL)
    run1.wait()
    killed_at = len(handled.read_text().split())
    assert 3 <= killed_at < len(expected)

    run2 = subprocess.Popen([*args, "--received", str(tmp_path / "received2.txt"), "--stop-after", expected[-1]], env=env)
    assert run2.wait(timeout=60) == 0
    assert handled.read_text().split() == expected  # no gap, no duplicate
    received2 = (tmp_path / "received2.txt").read_text().split()
    # The second run started at the checkpoint, not at the start block.
    assert received2[0] in expected[killed_at - 1 : killed_at + 1]
    assert received2 == expected[expected.index(received2[0]) :]
