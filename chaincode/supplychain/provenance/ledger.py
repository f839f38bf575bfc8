"""World-state access for the provenance contract: canonical JSON, composite keys, buffered writes, pages.

Writes are buffered and flushed only when a transaction has passed every check, so a rejected
transaction writes nothing even where the stub would keep partial writes.
"""

from __future__ import annotations

import bisect
import datetime
import json

from fabric_chaincode_python.fabric_contract_api import TransactionContext

from ..errors import InvalidArgument

MAX_PAGE_SIZE = 200
_END = "\U0010ffff"

# Record and index types (the composite key's object type).
OBJECT = "prov.object"  # canonical id -> item, logistic unit or lot
PRODUCT = "prov.product"  # GTIN -> product class
EVENT = "prov.event"  # event key -> captured event
HASH = "prov.hash"  # event hash ID -> event key
DECLARATION = "prov.errdecl"  # event key -> error declaration
HISTORY = "prov.history"  # (object, time#event) -> event key
READINGS = "prov.readings"  # (object, time#event) -> sensor reports
CONTAINS = "prov.contains"  # (parent, child) -> ""
LOT_ITEMS = "prov.lotitems"  # (lot, item) -> ""
MADE_INTO = "prov.madeinto"  # (input, output) -> ""
MADE_FROM = "prov.madefrom"  # (output, input) -> ""
SCANS = "prov.scans"  # (object, time#tx) -> verification scan
SCAN_STATE = "prov.scanstate"  # object -> scan count, last scan, scan anomalies


def parse_object(text: str, what: str) -> dict:
    """A JSON object from a transaction argument; INVALID_ARGUMENT naming ``what`` otherwise."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise InvalidArgument(f"{what} is not valid JSON: {err}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{what} must be a JSON object")
    return doc


def canonical(obj) -> str:
    """Deterministic JSON: every endorser must produce byte-identical results."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tx_time(ctx: TransactionContext) -> str:
    """The transaction timestamp as UTC with milliseconds (never the wall clock)."""
    ts = ctx.get_stub().get_tx_timestamp()
    when = datetime.datetime.fromtimestamp(ts.seconds, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.nanos // 1_000_000:03d}Z"


def parse_page_size(value: str) -> int:
    """A page size argument: 1 to MAX_PAGE_SIZE."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"page_size must be an integer, got {value!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return size


class Ledger:
    """Reads through to the stub, buffers writes until :meth:`flush`."""

    def __init__(self, ctx: TransactionContext):
        self.stub = ctx.get_stub()
        self._pending: dict[str, bytes | None] = {}
        self._pending_keys: list[str] = []  # the keys of _pending, sorted, for range reads

    def key(self, kind: str, *parts: str) -> str:
        return self.stub.create_composite_key(kind, list(parts))

    async def get(self, kind: str, *parts: str) -> dict | None:
        key = self.key(kind, *parts)
        raw = self._pending[key] if key in self._pending else await self.stub.get_state(key)
        # Corrupt state raises here rather than being read as missing.
        return json.loads(raw) if raw else None

    async def exists(self, kind: str, *parts: str) -> bool:
        key = self.key(kind, *parts)
        return bool(self._pending[key] if key in self._pending else await self.stub.get_state(key))

    def _buffer(self, key: str, value: bytes | None) -> None:
        if key not in self._pending:
            bisect.insort(self._pending_keys, key)
        self._pending[key] = value

    def put(self, kind: str, parts: list[str], value) -> None:
        self._buffer(self.key(kind, *parts), canonical(value).encode())

    def delete(self, kind: str, *parts: str) -> None:
        self._buffer(self.key(kind, *parts), None)

    async def flush(self) -> None:
        """Write everything buffered, in key order (the order is irrelevant to Fabric but keeps runs identical)."""
        for key in self._pending_keys:
            value = self._pending[key]
            if value is None:
                await self.stub.delete_state(key)
            else:
                await self.stub.put_state(key, value)
        self._pending.clear()
        self._pending_keys.clear()

    async def scan(self, kind: str, prefix: list[str], limit: int, start: str = "") -> list[tuple[list[str], dict]]:
        """Up to ``limit`` entries under ``kind``/``prefix``, from attribute ``start`` on, in key order.

        Fabric's range queries read committed state only, so this transaction's own buffered
        writes are merged in: entries put earlier in the transaction appear, entries deleted
        earlier in it do not.
        """
        base = self.key(kind, *prefix)
        first = self.key(kind, *prefix, start) if start else base
        end = base + _END
        keys = self._pending_keys
        pending = {k: self._pending[k] for k in keys[bisect.bisect_left(keys, first):bisect.bisect_left(keys, end)]}
        # Every pending delete may hide one committed entry, so read that many more.
        wanted = limit + sum(1 for v in pending.values() if v is None)
        merged: dict[str, bytes | None] = {}
        iterator = await self.stub.get_state_by_range(first, end)
        try:
            async for kv in iterator:
                merged[kv.key] = kv.value
                if len(merged) >= wanted:
                    break
        finally:
            await iterator.aclose()
        last = max(merged) if len(merged) >= wanted else None
        for key, value in pending.items():
            # A pending put beyond the last committed key read might sort after entries not read.
            if last is None or key <= last:
                merged[key] = value
        found = []
        for key in sorted(merged):
            if merged[key] is None:
                continue
            _, attrs = self.stub.split_composite_key(key)
            found.append((attrs[len(prefix):], json.loads(merged[key]) if merged[key] else None))
            if len(found) >= limit:
                break
        return found

    async def page(self, kind: str, prefix: list[str], size: int, bookmark: str) -> tuple[list, str]:
        """One page of entries and the bookmark of the next page ("" after the last page)."""
        if bookmark and (len(bookmark) > 512 or "\x00" in bookmark):
            raise InvalidArgument("bookmark is not one this contract returned")
        entries = await self.scan(kind, prefix, size + 1, bookmark)
        next_bookmark = entries[size][0][0] if len(entries) > size else ""
        return entries[:size], next_bookmark
