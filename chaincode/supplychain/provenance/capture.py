"""Capturing an EPCIS event: the checks it must pass and the state it changes.

Derived state per object (item, logistic unit or lot): custodian organisation, location,
disposition, containing parent, lot, in-transit flag (with the members it was shipped to) and
custody anomalies. Custody passes between organisations only by a shipping event of the
custodian followed by a receiving event of the receiver, who must be one the shipment was sent
to when its destinationList names members; objects inside a logistic unit move with it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ..errors import Conflict, Forbidden, InvalidArgument, LimitExceeded, NotFound
from . import access, identifiers as ids
from .events import Event
from .hashid import event_hash_id
from .ledger import (CONTAINS, DECLARATION, EVENT, HASH, HISTORY, LOT_ITEMS, MADE_FROM, MADE_INTO, OBJECT,
                     PRODUCT, READINGS, Ledger)  # fmt: skip

MAX_CONTENTS = 1000
# EPCIS events happen before they are captured; a little clock skew between members is tolerated.
MAX_FUTURE_SKEW_SECONDS = 300
# Business steps that legitimately change where an object is.
MOVING_STEPS = frozenset({"shipping", "receiving", "departing", "arriving", "loading", "unloading", "transporting",
                          "staging_outbound", "storing", "stocking", "picking", "packing", "unpacking"})  # fmt: skip
LOT_NUMBER_KEYS = ("lotNumber", "cbvmda:lotNumber")
# What an object's ``links`` may name: it has been an aggregation parent (CONTAINS entries, possibly all removed
# since), a transformation output (MADE_FROM) or a transformation input (MADE_INTO).
LINKS = ("contents", "inputs", "outputs")


def _new_record(ident: ids.Identifier, who: access.Caller, event: Event, event_key: str, lot: str | None) -> dict:
    return {
        "id": ident.key, "kind": ident.kind, "gtin": ident.gtin, "lot": lot, "serial": ident.serial,
        "sscc": ident.sscc, "producer": who.msp, "custodian": who.msp, "parent": None, "inTransit": False,
        "shippedTo": None,
        "location": event.location.key if event.location else None, "disposition": event.disposition or "active",
        "origin": {"event": event_key, "eventTime": event.event_time, "ilmd": event.ilmd, "by": who.msp},
        "recalled": None, "anomalies": [], "lastEvent": event_key, "links": [],
    }  # fmt: skip


def _link(record: dict, relation: str) -> None:
    """Note on ``record`` that index entries of ``relation`` (one of ``LINKS``) start at it.

    Traces read only the indexes a record names, so a leaf costs one read. Records written before
    ``links`` was kept have none and are read in full (see ``queries``).
    """
    if "links" in record and relation not in record["links"]:
        record["links"] = sorted([*record["links"], relation])


def _lot_of(ident: ids.Identifier, event: Event) -> str | None:
    if ident.kind == ids.LGTIN:
        return ident.key
    lot = next((event.ilmd[k] for k in LOT_NUMBER_KEYS if event.ilmd and k in event.ilmd), None) or ident.lot
    return ids.lgtin(ident.gtin, lot).key if lot and ident.gtin else None


class Capture:
    """One capture: loads what the event touches, checks it, then stages every write."""

    def __init__(self, ledger: Ledger, who: access.Caller, event: Event, event_key: str, now: str):
        self.ledger, self.who, self.event, self.key, self.now = ledger, who, event, event_key, now
        self.records: dict[str, dict] = {}
        self.lineage: list[tuple[str, str]] = []
        self.sensed: set[str] = set()
        self.products: dict[str, dict | None] = {}

    async def _product(self, gtin: str) -> dict | None:
        if gtin not in self.products:
            self.products[gtin] = await self.ledger.get(PRODUCT, gtin)
        return self.products[gtin]

    async def _existing(self, ident: ids.Identifier) -> dict:
        record = self.records.get(ident.key) or await self.ledger.get(OBJECT, ident.key)
        if record is None:
            raise NotFound(f"{ident.key} was never commissioned")
        self.records[ident.key] = record
        return record

    async def _create(self, ident: ids.Identifier) -> dict:
        if await self.ledger.exists(OBJECT, ident.key):
            raise Conflict(f"{ident.key} was already commissioned")
        if ident.kind in (ids.SGTIN, ids.LGTIN):
            product = await self._product(ident.gtin)
            if product is None:
                raise NotFound(f"no product class is registered for GTIN {ident.gtin}")
            access.require_product_owner(self.who, product)
        lot = _lot_of(ident, self.event)
        record = _new_record(ident, self.who, self.event, self.key, lot)
        self.records[ident.key] = record
        if lot and lot != ident.key:
            await self._ensure_lot(ident, lot)
        return record

    async def _ensure_lot(self, item: ids.Identifier, lot_key: str) -> None:
        lot = self.records.get(lot_key) or await self.ledger.get(OBJECT, lot_key)
        if lot is None:
            lot_ident = ids.parse(lot_key, (ids.LGTIN,))
            lot = _new_record(lot_ident, self.who, self.event, self.key, lot_key)
        elif lot["producer"] != self.who.msp:
            raise Forbidden(f"lot {lot_key} belongs to {lot['producer']}; {self.who.msp} cannot add items to it")
        self.records[lot_key] = lot
        self.ledger.put(LOT_ITEMS, [lot_key, item.key], {})

    async def contents(self, parent_key: str) -> list[str]:
        """Every object inside ``parent_key``, at any depth (bounded)."""
        found, queue = [], [parent_key]
        while queue:
            for attrs, _ in await self.ledger.scan(CONTAINS, [queue.pop()], MAX_CONTENTS + 1):
                found.append(attrs[0])
                queue.append(attrs[0])
                if len(found) > MAX_CONTENTS:
                    raise LimitExceeded(f"{parent_key} contains more than {MAX_CONTENTS} objects")
        return found

    async def run(self) -> list[dict]:
        """Check the event against the state and the rules; stage its writes; return changed records."""
        event, who = self.event, self.who
        receiving = event.biz_step == "receiving"
        created: list[ids.Identifier] = []
        if event.type == "ObjectEvent" and event.action == "ADD":
            access.require_producer(who, "items or lots")
            created = event.epcs + [q.lot for q in event.quantities]
        elif event.type == "TransformationEvent":
            access.require_producer(who, "transformation outputs")
            created = event.outputs + [q.lot for q in event.output_quantities]
        elif event.type == "AggregationEvent" and event.action == "ADD" and event.parent.kind == ids.SSCC:
            # Any member may build a logistic unit: an SSCC names a container, not a product.
            if not await self.ledger.exists(OBJECT, event.parent.key):
                created = [event.parent]
        created_keys = {c.key for c in created}
        for ident in created:
            await self._create(ident)
        touched = [o for o in event.objects() if o.key not in created_keys]
        for ident in touched:
            access.require_custodian(who, await self._existing(ident), receiving)
        if event.type == "AggregationEvent":
            await self._aggregate()
        if event.type == "TransformationEvent":
            inputs = [i.key for i in event.inputs] + [q.lot.key for q in event.input_quantities]
            outputs = sorted({k for o in created for k in (o.key, self.records[o.key]["lot"]) if k})
            self.lineage = [(i, o) for i in inputs for o in outputs]
            for key in inputs:
                _link(self.records[key], "outputs")
            for key in outputs:
                _link(self.records[key], "inputs")
        for ident in touched + created:
            await self._apply(self.records[ident.key], ident.key in created_keys)
        self.sensed = {o.key for o in event.objects()}
        if event.sensor_reports:
            for ident in touched:
                if ident.kind == ids.SSCC:
                    self.sensed.update(await self.contents(ident.key))
        return list(self.records.values())

    async def _aggregate(self) -> None:
        event, parent = self.event, self.event.parent
        if event.action == "ADD":
            if event.children:
                _link(self.records[parent.key], "contents")
            for child in event.children:
                current = self.records[child.key]["parent"]
                if current and current != parent.key:
                    raise Conflict(f"{child.key} is already inside {current}; disaggregate it first")
                self.records[child.key]["parent"] = parent.key
                self.ledger.put(CONTAINS, [parent.key, child.key], {})
        elif event.action == "DELETE":
            children = [c.key for c in event.children]
            if not children:
                children = [attrs[0] for attrs, _ in await self.ledger.scan(CONTAINS, [parent.key], MAX_CONTENTS)]
            for key in children:
                record = self.records.get(key) or await self.ledger.get(OBJECT, key)
                if record is None or record["parent"] != parent.key:
                    raise InvalidArgument(f"{key} is not inside {parent.key}")
                record["parent"] = None
                self.records[key] = record
                self.ledger.delete(CONTAINS, parent.key, key)

    async def _apply(self, record: dict, created: bool) -> None:
        event, who = self.event, self.who
        changes: dict = {"lastEvent": self.key}
        location = event.location.key if event.location else None
        if location:
            moved = record["location"] and record["location"] != location
            if not created and moved and not record["inTransit"] and event.biz_step not in MOVING_STEPS:
                # The same identifier seen somewhere its custody does not explain: a possible clone.
                record["anomalies"] = (record["anomalies"] + [
                    {"event": self.key, "expected": record["location"], "observed": location, "time": event.event_time}
                ])[-20:]  # fmt: skip
            changes["location"] = location
        if event.disposition:
            changes["disposition"] = event.disposition
        if event.biz_step == "shipping":
            # The members the shipment is sent to, if the destinationList names any (see access).
            changes.update(inTransit=True, shippedTo=event.destination_orgs or None)
        elif event.biz_step == "receiving":
            changes.update(inTransit=False, custodian=who.msp, shippedTo=None)
        record.update(changes)
        if record["kind"] == ids.SSCC and not created:
            # Contents travel with their logistic unit; objects the event names are applied on their own.
            inherited = {k: v for k, v in changes.items() if k in ("location", "inTransit", "custodian", "shippedTo")}
            named = {o.key for o in event.objects()}
            for key in await self.contents(record["id"]) if inherited else []:
                if key in named:
                    continue
                inner = self.records.get(key) or await self.ledger.get(OBJECT, key)
                inner.update(inherited)
                self.records[key] = inner

    def stage(self, stored_event: dict) -> None:
        """Stage the event, its indexes and every changed record."""
        # Events of the same instant keep the order they were recorded in: across transactions by record time,
        # within one transaction (a document, or a shipment's hand-over) by their position in it.
        self.ledger.sequence += 1
        sort_key = f"{self.event.event_time}#{self.now}#{self.ledger.sequence:04d}#{stored_event['hashId'][14:30]}"
        self.ledger.put(EVENT, [self.key], stored_event)
        self.ledger.put(HASH, [stored_event["hashId"]], {"event": self.key})
        for ident in self.event.objects():
            self.ledger.put(HISTORY, [ident.key, sort_key], {"event": self.key})
        if self.event.sensor_reports:
            for key in sorted(self.sensed):
                self.ledger.put(READINGS, [key, sort_key], {"event": self.key, "reports": self.event.sensor_reports})
        for source, target in self.lineage:
            self.ledger.put(MADE_INTO, [source, target], {"event": self.key})
            self.ledger.put(MADE_FROM, [target, source], {"event": self.key})
        for key, record in self.records.items():
            self.ledger.put(OBJECT, [key], record)


async def declare_error(ledger: Ledger, who: access.Caller, event: Event, event_key: str, now: str) -> dict:
    """Record an error declaration against an earlier event; the event itself is never rewritten."""
    original = await ledger.get(EVENT, event_key)
    if original is None:
        raise NotFound(f"no event {event_key} to declare an error on")
    if original["recordedBy"] != who.msp:
        raise Forbidden(f"only {original['recordedBy']}, which recorded {event_key}, may declare it erroneous")
    if await ledger.exists(DECLARATION, event_key):
        raise Conflict(f"an error was already declared on {event_key}")
    declaration = {"event": event_key, "errorDeclaration": event.error_declaration, "by": who.msp, "recordTime": now}
    ledger.put(DECLARATION, [event_key], declaration)
    return declaration


def identify(event: Event) -> tuple[str, str]:
    """The ledger key of ``event`` (its eventID, else its hash ID) and its CBV 2.0 hash ID."""
    hash_id = event_hash_id(event)
    return event.event_id or hash_id, hash_id


def _not_in_future(event_time: str, now: str) -> None:
    parse = datetime.datetime.fromisoformat
    if (parse(event_time) - parse(now)).total_seconds() > MAX_FUTURE_SKEW_SECONDS:
        raise InvalidArgument(f"eventTime {event_time} is later than the transaction time {now}")


@dataclass
class Captured:
    """What one captured event did: its summary, and the declaration when it declared an error."""

    summary: dict
    declaration: dict | None = None


async def capture(ledger: Ledger, who: access.Caller, event: Event, now: str, tx_id: str,
                  identity: tuple[str, str] | None = None) -> Captured:  # fmt: skip
    """Check ``event`` against the ledger as buffered so far and stage its writes (nothing is flushed).

    The one code path of CaptureEvent and CaptureEvents: an event later in a document sees what
    earlier ones staged. Duplicates, including of an event staged earlier, are a CONFLICT.
    ``identity`` is ``identify(event)`` when the caller has it already.
    """
    _not_in_future(event.event_time, now)
    key, hash_id = identity or identify(event)
    summary = {"eventKey": key, "hashId": hash_id, "type": event.type, "bizStep": event.biz_step,
               "recordedBy": who.msp, "objects": []}  # fmt: skip
    if event.error_declaration is not None:
        declaration = await declare_error(ledger, who, event, key, now)
        return Captured({**summary, "errorDeclaration": declaration}, declaration)
    if await ledger.exists(EVENT, key):
        raise Conflict(f"event {key} was already captured")
    seen = await ledger.get(HASH, hash_id)
    if seen is not None:
        raise Conflict(f"the same event was already captured as {seen['event']}")
    run = Capture(ledger, who, event, key, now)
    changed = await run.run()
    run.stage({"eventKey": key, "hashId": hash_id, "event": event.doc, "recordedBy": who.msp, "recordTime": now,
               "txId": tx_id})  # fmt: skip
    summary["objects"] = sorted(r["id"] for r in changed)
    return Captured(summary)
