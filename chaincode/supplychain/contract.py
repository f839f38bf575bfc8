"""A minimal key/value contract: one real write and one read, with access checks.

It proves the network end to end (endorsement policy, commit, reads on every peer) until
the provenance contracts arrive. Writes read the previous version first, so concurrent
writes of one key conflict as Fabric's MVCC check intends.
"""

from __future__ import annotations

import datetime
import json

from fabric_chaincode_python.fabric_contract_api import Contract, TransactionContext

from .errors import Forbidden, InvalidArgument, NotFound

REGULATOR_MSP = "RegulatorMSP"
MAX_KEY_LENGTH = 128
MAX_VALUE_BYTES = 64 * 1024
RECORD_PUT_EVENT = "RecordPut"


def _canonical(obj) -> str:
    """Deterministic JSON: every endorser must produce byte-identical results."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tx_time(ctx: TransactionContext) -> str:
    ts = ctx.get_stub().get_tx_timestamp()
    when = datetime.datetime.fromtimestamp(ts.seconds, datetime.timezone.utc).replace(microsecond=ts.nanos // 1000)
    return when.isoformat().replace("+00:00", "Z")


def _record_key(ctx: TransactionContext, key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(c) < 0x20 for c in key):
        raise InvalidArgument(f"key must be 1 to {MAX_KEY_LENGTH} printable characters")
    return ctx.get_stub().create_composite_key("record", [key])


class RecordContract(Contract):
    """Key/value records that any member but the Regulator may write and everyone may read."""

    Name = "records"

    def get_evaluate_transactions(self) -> list[str]:
        return ["GetRecord"]

    async def PutRecord(self, ctx: TransactionContext, key: str, value: str) -> str:
        """Create or replace the record ``key``; returns the stored record as JSON."""
        msp = ctx.get_client_identity().get_mspid()
        if msp == REGULATOR_MSP:
            raise Forbidden("the Regulator reads business data but does not write it")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise InvalidArgument(f"value is larger than {MAX_VALUE_BYTES} bytes")
        stub = ctx.get_stub()
        state_key = _record_key(ctx, key)
        previous = await stub.get_state(state_key)
        version = json.loads(previous)["version"] + 1 if previous else 1
        record = {
            "key": key,
            "value": value,
            "version": version,
            "writer": msp,
            "txId": stub.get_txid(),
            "time": _tx_time(ctx),
        }
        payload = _canonical(record)
        await stub.put_state(state_key, payload.encode())
        stub.set_event(RECORD_PUT_EVENT, payload.encode())
        return payload

    async def GetRecord(self, ctx: TransactionContext, key: str) -> str:
        """The record ``key`` as JSON; NOT_FOUND if it was never written."""
        raw = await ctx.get_stub().get_state(_record_key(ctx, key))
        if not raw:
            raise NotFound(f"no record {key!r}")
        return raw.decode()
