"""The provenance contract: EPCIS 2.0 events as the shared record of what happened to each product.

Transactions take and return JSON text. Writes emit one chaincode event named in ``names``;
queries are evaluate transactions, bounded, and paginated where a list can grow.
"""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import Contract, TransactionContext

from ..errors import ChaincodeError, Conflict, InvalidArgument, NotFound
from . import access, names, queries
from .capture import capture, identify
from .events import describe, parse_document, parse_event, validate_event
from .identifiers import parse_gtin
from .ledger import DECLARATION, EVENT, HASH, HISTORY, OBJECT, PRODUCT, Ledger, canonical, parse_page_size, tx_time
from .products import parse_product_class
from .recall import recall
from .scans import parse_place, record_scan


def _emit(ctx: TransactionContext, name: str, payload: dict) -> str:
    text = canonical(payload)
    ctx.get_stub().set_event(name, text.encode())
    return text


class ProvenanceContract(Contract):
    """Product classes, EPCIS event capture, custody, traces, verification and recalls."""

    Name = "provenance"

    def get_evaluate_transactions(self) -> list[str]:
        return ["GetProductClass", "GetEvent", "GetObject", "ItemHistory", "TraceUpstream", "TraceDownstream",
                "Readings", "Verify", "WhoAmI"]  # fmt: skip

    async def RegisterProductClass(self, ctx: TransactionContext, product_json: str) -> str:
        """Register a GTIN's master data (Producer members only); CONFLICT if the GTIN is registered."""
        who = access.caller(ctx)
        access.require_writer(who)
        access.require_producer(who, "product classes")
        product = parse_product_class(product_json, who.msp)
        ledger = Ledger(ctx)
        if await ledger.exists(PRODUCT, product["gtin"]):
            raise Conflict(f"GTIN {product['gtin']} is already registered")
        product.update(registeredAt=tx_time(ctx), txId=ctx.get_stub().get_txid())
        ledger.put(PRODUCT, [product["gtin"]], product)
        await ledger.flush()
        return _emit(ctx, names.PRODUCT_CLASS_REGISTERED, product)

    async def GetProductClass(self, ctx: TransactionContext, gtin: str) -> str:
        """A product class by GTIN (anyone may read it)."""
        product = await Ledger(ctx).get(PRODUCT, parse_gtin(gtin))
        if product is None:
            raise NotFound(f"no product class for GTIN {gtin}")
        return canonical(product)

    async def CaptureEvent(self, ctx: TransactionContext, event_json: str) -> str:
        """Capture one EPCIS event; returns ``{"eventKey", "hashId", ...}``. Duplicates are a CONFLICT."""
        who = access.caller(ctx)
        access.require_writer(who)
        event = parse_event(event_json)
        ledger = Ledger(ctx)
        done = await capture(ledger, who, event, tx_time(ctx), ctx.get_stub().get_txid())
        await ledger.flush()
        if done.declaration is not None:
            return _emit(ctx, names.EPCIS_ERROR_DECLARED, done.declaration)
        return _emit(ctx, names.EPCIS_EVENT_CAPTURED, done.summary)

    async def CaptureEvents(self, ctx: TransactionContext, document_json: str) -> str:
        """Capture every event of an EPCIS 2.0 document in list order, all or nothing.

        ``document_json`` is an ``EPCISDocument`` or a bare JSON array of events, at most
        ``MAX_EVENTS_PER_CAPTURE`` events. Later events see what earlier ones did (commission,
        then aggregate, then ship). If any event fails, nothing is written and the error keeps its
        code and names the event: ``"FORBIDDEN: event 3 (ObjectEvent shipping): <reason>"``
        (positions count from 1). Returns and emits one ``EpcisEventsCaptured`` event:
        ``{"captured": [<CaptureEvent's result per event, in order>]}``; an error declaration's
        entry carries its ``errorDeclaration``.
        """
        who = access.caller(ctx)
        access.require_writer(who)
        documents = parse_document(document_json)
        ledger, now, tx_id = Ledger(ctx), tx_time(ctx), ctx.get_stub().get_txid()
        captured, first_at = [], {}
        for position, doc in enumerate(documents, 1):
            try:
                event = validate_event(doc)
                identity = identify(event)
                if event.error_declaration is None:
                    for ident in dict.fromkeys(identity):  # key, then hash ID: one message on every peer
                        if ident in first_at:
                            raise Conflict(f"it repeats event {first_at[ident]} of this document ({ident})")
                        first_at[ident] = position
                captured.append((await capture(ledger, who, event, now, tx_id, identity)).summary)
            except ChaincodeError as err:
                raise err.within(f"event {position} ({describe(doc)})") from None
        await ledger.flush()
        return _emit(ctx, names.EPCIS_EVENTS_CAPTURED, {"captured": captured})

    async def GetEvent(self, ctx: TransactionContext, event_id: str) -> str:
        """A captured event by eventID or hash ID, with its error declaration if one was made."""
        ledger = Ledger(ctx)
        if not event_id or "\x00" in event_id:
            raise InvalidArgument("event_id must be a non-empty string")
        stored = await ledger.get(EVENT, event_id)
        if stored is None:
            by_hash = await ledger.get(HASH, event_id)
            stored = await ledger.get(EVENT, by_hash["event"]) if by_hash else None
        if stored is None:
            raise NotFound(f"no event {event_id}")
        stored["errorDeclaration"] = await ledger.get(DECLARATION, stored["eventKey"])
        return canonical(stored)

    async def GetObject(self, ctx: TransactionContext, epc: str) -> str:
        """The derived state of an item, logistic unit or lot."""
        _, record = await queries.load(Ledger(ctx), epc)
        return canonical(record)

    async def ItemHistory(self, ctx: TransactionContext, epc: str, page_size: str, bookmark: str) -> str:
        """Events about ``epc`` in event-time order: ``{"events": [...], "bookmark": next or ""}``."""
        ledger = Ledger(ctx)
        _, record = await queries.load(ledger, epc)
        entries, next_bookmark = await ledger.page(HISTORY, [record["id"]], parse_page_size(page_size), bookmark)
        events = [await ledger.get(EVENT, entry["event"]) for _, entry in entries]
        return canonical({"id": record["id"], "events": events, "bookmark": next_bookmark})

    async def TraceUpstream(self, ctx: TransactionContext, epc: str) -> str:
        """Lineage back to the origins (ILMD of commissioning), bounded: ``truncated`` says when a bound stopped it.

        At most ``queries.MAX_TRACE_NODES`` nodes and ``queries.MAX_TRACE_INDEX_READS`` index reads.
        """
        return canonical(await queries.trace_upstream(Ledger(ctx), epc))

    async def TraceDownstream(self, ctx: TransactionContext, lot: str) -> str:
        """Everything made from ``lot`` and where it is now, bounded as TraceUpstream is."""
        return canonical(await queries.trace_downstream(Ledger(ctx), lot))

    async def Readings(self, ctx: TransactionContext, epc: str, page_size: str, bookmark: str) -> str:
        """Sensor reports about ``epc`` with excursions against its product class flagged."""
        return canonical(await queries.readings(Ledger(ctx), epc, parse_page_size(page_size), bookmark))

    async def Verify(self, ctx: TransactionContext, code: str) -> str:
        """Consumer check of an EPC URN or Digital Link: genuine, origin, custodian, recalled, clone suspicion."""
        return canonical(await queries.verify(Ledger(ctx), code))

    async def RecordScan(self, ctx: TransactionContext, code: str, place: str) -> str:
        """Record that ``code`` was verified at ``place`` and answer as Verify does, clone suspicion included.

        ``place`` is ``geo:<lat>,<lon>`` or a location URN (see ``scans``). A code that was never
        commissioned records nothing (``"recorded": false``). Emits ``ItemScanned``.
        """
        who = access.caller(ctx)
        access.require_scanner(who)
        place = parse_place(place)
        ledger = Ledger(ctx)
        result = await queries.verify(ledger, code)
        if not result["genuine"]:
            return canonical({**result, "recorded": False})
        record = await ledger.get(OBJECT, result["id"])
        scan = await record_scan(ledger, record, place, who.msp, tx_time(ctx), ctx.get_stub().get_txid())
        result = await queries.verify(ledger, code)  # sees the scan just buffered
        await ledger.flush()
        _emit(ctx, names.ITEM_SCANNED, {"id": result["id"], "scan": scan, "suspectedClone": result["suspectedClone"]})
        return canonical({**result, "recorded": True, "scan": scan})

    async def Recall(self, ctx: TransactionContext, lot: str, reason: str) -> str:
        """Recall a lot and everything made from it (the lot's producer or the Regulator)."""
        ledger = Ledger(ctx)
        notice = {"time": tx_time(ctx), "txId": ctx.get_stub().get_txid()}
        result = await recall(ledger, access.caller(ctx), lot, reason, notice)
        await ledger.flush()
        return _emit(ctx, names.LOT_RECALLED, result)

    async def WhoAmI(self, ctx: TransactionContext) -> str:
        """The caller as the rules see it: organisation, role attribute, enrolment ID, may write."""
        who = access.caller(ctx)
        return canonical({"mspId": who.msp, "role": who.role, "enrollmentId": who.enrollment_id,
                          "canWrite": who.can_write})  # fmt: skip
