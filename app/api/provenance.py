"""Provenance resources: product classes, EPCIS capture and queries, objects, traces, readings, recalls."""

from __future__ import annotations

from flask import url_for

from ..auth import ledger_for, token_auth
from ..idempotency import idempotent
from . import bp
from .accounts import caller
from .schemas import CaptureResult, EPCISDocument, EPCISEvent, EventQuery, Page, ProductClass, Recall

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
WRITERS = ["admin", "operator"]


def _ledger():
    return ledger_for(caller())


@bp.post("/products")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(ProductClass, arg_name="product")
@idempotent(caller)
@bp.doc(summary="Register a product class (Producer organisation)", responses={201: "Registered", 409: "GTIN taken"})
def register_product(product):
    result = _ledger().register_product(product)
    return result, 201, {"Location": url_for(".get_product", gtin=result["gtin"])}


@bp.get("/products/<gtin>")
@bp.auth_required(token_auth)
@bp.doc(summary="A product class by GTIN")
def get_product(gtin):
    return _ledger().product(gtin)


@bp.post("/capture")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(EPCISDocument, arg_name="document")
@bp.output(CaptureResult, status_code=201)
@idempotent(caller)
@bp.doc(summary="Capture an EPCIS 2.0 document: all its events in one transaction, all or none")
def capture(document):
    return {"captured": _ledger().capture(document["epcisBody"]["eventList"])}, 201


@bp.post("/events")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(EPCISEvent, arg_name="event")
@idempotent(caller)
@bp.doc(summary="Capture one EPCIS 2.0 event")
def capture_event(event):
    captured = _ledger().capture([event])[0]
    return captured, 201, {"Location": url_for(".query_events", EQ_eventID=captured["eventKey"])}


@bp.get("/events")
@bp.auth_required(token_auth)
@bp.input(EventQuery, location="query", arg_name="query")
@bp.doc(summary="EPCIS query: one event by ID, or the events about an EPC (paged)")
def query_events(query):
    ledger = _ledger()
    if query.get("EQ_eventID"):
        events, token = [ledger.event(query["EQ_eventID"])], ""
    else:
        page = ledger.history(query["MATCH_anyEPC"], query["perPage"], query["nextPageToken"])
        events, token = page["events"], page["bookmark"]
    body = {
        "@context": [EPCIS_CONTEXT], "type": "EPCISQueryDocument", "schemaVersion": "2.0",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                       "resultsBody": {"eventList": [e["event"] for e in events]}}},
        "ledger": [{k: e.get(k) for k in ("eventKey", "hashId", "recordedBy", "recordTime", "txId",
                                          "errorDeclaration")} for e in events],
    }  # fmt: skip
    headers = {}
    if token:
        headers["Link"] = f'<{url_for(".query_events", **{**query, "nextPageToken": token})}>; rel="next"'
        body["nextPageToken"] = token
    return body, 200, headers


@bp.get("/objects/<path:code>")
@bp.auth_required(token_auth)
@bp.doc(summary="The state of an item, logistic unit or lot (EPC URN or Digital Link path)")
def get_object(code):
    return _ledger().object(_code(code))


@bp.get("/objects/<path:code>/upstream")
@bp.auth_required(token_auth)
@bp.doc(summary="Lineage of an object back to its origins")
def trace_upstream(code):
    return _ledger().trace_upstream(_code(code))


@bp.get("/objects/<path:code>/downstream")
@bp.auth_required(token_auth)
@bp.doc(summary="Everything made from a lot, and where it is now")
def trace_downstream(code):
    return _ledger().trace_downstream(_code(code))


@bp.get("/objects/<path:code>/readings")
@bp.auth_required(token_auth)
@bp.input(Page, location="query", arg_name="page")
@bp.doc(summary="Sensor readings of an object, excursions flagged (paged)")
def readings(code, page):
    return _ledger().readings(_code(code), page["perPage"], page["nextPageToken"])


@bp.post("/recalls")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(Recall, arg_name="recall")
@idempotent(caller)
@bp.doc(summary="Recall a lot and everything made from it (its producer or the Regulator)")
def recall(recall):
    return _ledger().recall(recall["lot"], recall["reason"]), 201


def _code(code: str) -> str:
    """A URL path segment as the ledger's identifier: Digital Link paths regain their leading slash."""
    return code if code.startswith("urn:") else "/" + code
