"""An in-memory chaincode stub for fast contract-logic tests (one per test), and a ledger that drives it.

The fake stands in for the peer only in these tests; tests/chaincode/test_provenance_network.py
runs the same contract on real peers.
"""

from __future__ import annotations

import asyncio
import types

import pytest

from chaincode.supplychain.provenance.contract import ProvenanceContract

_NS, _SEP, _END = "\x00", "\x00", "\U0010ffff"


class _Iterator:
    def __init__(self, rows):
        self._rows = list(rows)
        self.closed = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self._rows:
            raise StopAsyncIteration
        return self._rows.pop(0)

    async def aclose(self):
        self.closed = True


class FakeStub:
    """World state in a dict, composite keys, range queries, tx id/time and events."""

    def __init__(self):
        self.state: dict[str, bytes] = {}
        self.events: list[tuple[str, bytes]] = []
        self.tx_number = 0
        self.seconds = 1_767_686_400  # 2026-01-06T08:00:00Z, after every event time the tests use

    def begin(self) -> None:
        self.tx_number += 1
        self.seconds += 60
        self.events = []

    def get_txid(self) -> str:
        return f"tx{self.tx_number:04d}"

    def get_tx_timestamp(self):
        return types.SimpleNamespace(seconds=self.seconds, nanos=250_000_000)

    async def get_state(self, key: str) -> bytes:
        return self.state.get(key, b"")

    async def put_state(self, key: str, value: bytes) -> None:
        assert isinstance(value, bytes) and value, "the contract writes non-empty bytes"
        self.state[key] = value

    async def delete_state(self, key: str) -> None:
        self.state.pop(key, None)

    def create_composite_key(self, object_type: str, attributes) -> str:
        for part in [object_type, *attributes]:
            assert isinstance(part, str) and _SEP not in part and _END not in part, part
        return _NS + object_type + _SEP + "".join(a + _SEP for a in attributes)

    def split_composite_key(self, key: str):
        parts = key[1:].split(_SEP)[:-1]
        return parts[0], parts[1:]

    async def get_state_by_range(self, start: str, end: str):
        rows = [types.SimpleNamespace(key=k, value=self.state[k]) for k in sorted(self.state) if start <= k < end]
        return _Iterator(rows)

    async def get_state_by_partial_composite_key(self, object_type: str, attributes):
        prefix = self.create_composite_key(object_type, attributes)
        return await self.get_state_by_range(prefix, prefix + _END)

    def set_event(self, name: str, payload: bytes) -> None:
        self.events.append((name, payload))


class FakeIdentity:
    """A client identity: MSP, certificate attributes and optionally a PEM certificate."""

    def __init__(self, msp: str, attrs: dict | None = None, cert: bytes | None = None):
        self.msp, self.attrs, self.cert = msp, attrs or {}, cert

    def get_mspid(self) -> str:
        return self.msp

    def get_attribute(self, name: str):
        return self.attrs.get(name)

    def get_x509(self) -> bytes:
        if self.cert is None:
            raise Exception("Client identity does not have a certificate")
        return self.cert


class Chain:
    """Runs provenance transactions against one FakeStub, as a given organisation."""

    def __init__(self, stub: FakeStub):
        self.stub = stub
        self.contract = ProvenanceContract()

    def call(self, msp: str, function: str, *args: str, role: str | None = None, cert: bytes | None = None) -> str:
        self.stub.begin()
        identity = FakeIdentity(msp, {"role": role} if role else {}, cert)
        ctx = types.SimpleNamespace(get_stub=lambda: self.stub, get_client_identity=lambda: identity)
        return asyncio.run(getattr(self.contract, function)(ctx, *args))


@pytest.fixture
def fake_stub() -> FakeStub:
    """A fresh in-memory stub for each test."""
    return FakeStub()


@pytest.fixture
def chain(fake_stub) -> Chain:
    return Chain(fake_stub)
