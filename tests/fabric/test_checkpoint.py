"""Checkpointers: semantics, the official file format and atomic replacement."""

from __future__ import annotations

import json
import os

import pytest

from app.fabric import ChaincodeEvent, FileCheckpointer, InMemoryCheckpointer


def test_in_memory_checkpointer_tracks_block_and_transaction():
    checkpointer = InMemoryCheckpointer()
    assert (checkpointer.block_number, checkpointer.transaction_id) == (None, None)
    checkpointer.checkpoint_transaction(4, "tx1")
    assert (checkpointer.block_number, checkpointer.transaction_id) == (4, "tx1")
    checkpointer.checkpoint_block(4)
    assert (checkpointer.block_number, checkpointer.transaction_id) == (5, None)
    checkpointer.checkpoint_chaincode_event(ChaincodeEvent(6, "tx2", "basic", "E", b""))
    assert (checkpointer.block_number, checkpointer.transaction_id) == (6, "tx2")


def test_file_checkpointer_round_trips_in_the_official_json_shape(tmp_path):
    path = tmp_path / "checkpoint.json"
    checkpointer = FileCheckpointer(path)
    assert checkpointer.block_number is None and not path.exists()
    checkpointer.checkpoint_transaction(12, "tx12")
    assert json.loads(path.read_text()) == {"blockNumber": 12, "transactionId": "tx12"}
    checkpointer.checkpoint_block(12)
    assert json.loads(path.read_text()) == {"blockNumber": 13, "transactionId": ""}

    reopened = FileCheckpointer(path)
    assert (reopened.block_number, reopened.transaction_id) == (13, None)


def test_file_checkpointer_reads_the_node_clients_string_block_number(tmp_path):
    path = tmp_path / "checkpoint.json"
    path.write_text('{"blockNumber":"42","transactionId":"abc"}')
    checkpointer = FileCheckpointer(path)
    assert (checkpointer.block_number, checkpointer.transaction_id) == (42, "abc")


def test_file_checkpointer_replaces_the_file_atomically_and_durably(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.json"
    checkpointer = FileCheckpointer(path)
    checkpointer.checkpoint_transaction(1, "first")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    checkpointer.checkpoint_transaction(2, "second")
    assert len(synced) == 2  # the new file, then the directory entry

    def crash(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        checkpointer.checkpoint_transaction(3, "third")
    assert json.loads(path.read_text()) == {"blockNumber": 2, "transactionId": "second"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json"]
