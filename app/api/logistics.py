"""Logistics resources: shipments, milestones, documents (stored here, anchored on the ledger), signatures, inbox,
evidence bundles, and the exchange of document bytes between organisations' gateways (``app/exchange.py``).

Document uploads are checked (``app/documents.py``) before anything is stored or anchored; the bytes take their
place in the store only once the ledger has anchored their hash.
"""

from __future__ import annotations

import json
import time

from flask import current_app, request, url_for

from .. import document_files as files, exchange, users
from ..auth import logistics_for, token_auth
from ..db import get_db
from ..documents import inspect
from ..idempotency import idempotent
from ..ledger import LedgerError
from . import bp
from .accounts import caller
from .logistics_schemas import DocumentUpload, LogisticsPage, Milestone, NewShipment, PayloadQuery, SignRequest

WRITERS = ["admin", "operator"]


def _ledger():
    return logistics_for(caller())


def _page_headers(endpoint: str, page: dict, body: dict, **values) -> dict:
    if not body.get("bookmark"):
        return {}
    return {"Link": f'<{url_for(endpoint, **values, perPage=page["perPage"], nextPageToken=body["bookmark"])}>; '
                    'rel="next"'}  # fmt: skip


@bp.post("/shipments")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(NewShipment, arg_name="shipment")
@idempotent(caller)
@bp.doc(summary="Create a shipment (its shipper); its units must be held by the shipper",
        responses={201: "Created", 403: "Not the shipper, or units not held", 409: "ID taken"})  # fmt: skip
def create_shipment(shipment):
    record = _ledger().create_shipment(shipment)
    return record, 201, {"Location": url_for(".get_shipment", shipment_id=record["id"])}


@bp.get("/shipments")
@bp.auth_required(token_auth)
@bp.input(LogisticsPage, location="query", arg_name="page")
@bp.doc(summary="The shipments the caller's organisation is a party to (all, for the Regulator), paged")
def list_shipments(page):
    body = _ledger().shipments(page["perPage"], page["nextPageToken"])
    return body, 200, _page_headers(".list_shipments", page, body)


@bp.get("/shipments/<shipment_id>")
@bp.auth_required(token_auth)
@bp.doc(summary="A shipment with its milestones (readings, excursions) and the latest version of each document")
def get_shipment(shipment_id):
    return _ledger().shipment(shipment_id)


@bp.post("/shipments/<shipment_id>/milestones")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(Milestone, arg_name="milestone")
@idempotent(caller)
@bp.doc(summary="Record a milestone and its sensor readings (a carrier of the shipment)",
        responses={201: "Recorded", 403: "Not a carrier", 409: "Out of order"})  # fmt: skip
def record_milestone(shipment_id, milestone):
    return _ledger().record_milestone(shipment_id, milestone), 201


@bp.post("/shipments/<shipment_id>/documents")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(DocumentUpload, location="form_and_files", arg_name="upload")
@idempotent(caller)
@bp.doc(summary="Upload a document of the shipment: stored here by SHA-256 and anchored as its kind's next version",
        description="Multipart form. The content type (the file part's, or `contentType`) must be accepted and "
                    "match the bytes; `sha256`, if sent, must match the bytes. On any refusal nothing is stored "
                    "or anchored.",
        responses={201: "Anchored", 413: "Too large", 415: "Content type not accepted",
                   422: "Bytes do not match the declared type or hash"})  # fmt: skip
def upload_document(shipment_id, upload):
    file = upload["file"]
    config = current_app.config
    checked = inspect(file.read(), upload.get("contentType") or file.mimetype, upload.get("sha256"),
                      max_bytes=config["DOCUMENT_MAX_BYTES"], allowed_types=config["DOCUMENT_CONTENT_TYPES"])
    document = {"shipment": shipment_id, "kind": upload["kind"], "sha256": checked.sha256,
                "contentType": checked.content_type, "size": checked.size}  # fmt: skip
    filename = _bare_name(file.filename)
    if filename:
        document["filename"] = filename
    if upload.get("roles"):
        document["roles"] = json.loads(upload["roles"])
    with files.store().staged(checked.data) as staged:
        record = _ledger().anchor_document(document)
        staged.commit()
    location = url_for(".get_document_version", document_id=record["id"], version=record["version"])
    return record, 201, {"Location": location}


def _bare_name(filename: str | None) -> str:
    """The client's file name without any folder part or control characters, at most 200 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[-200:].strip()


@bp.get("/shipments/<shipment_id>/documents")
@bp.auth_required(token_auth)
@bp.doc(summary="Every version of every document of a shipment")
def list_documents(shipment_id):
    return _ledger().documents(shipment_id)


@bp.get("/documents/<document_id>")
@bp.auth_required(token_auth)
@bp.doc(summary="The latest version of a document (`<shipment>:<kind>`) with its signatures")
def get_document(document_id):
    return _ledger().document(document_id)


@bp.get("/documents/<document_id>/versions/<int:version>")
@bp.auth_required(token_auth)
@bp.doc(summary="One version of a document with its signatures")
def get_document_version(document_id, version):
    return _ledger().document(document_id, version)


@bp.get("/documents/<document_id>/versions/<int:version>/content")
@bp.auth_required(token_auth)
@bp.doc(summary="The document's bytes, checked against the anchored SHA-256",
        description="If this gateway does not have them, they are fetched from the anchoring organisation's gateway "
                    "(which checks on its own ledger that this organisation may read them), checked and kept.",
        responses={200: "The bytes", 502: "The partner gateway refused or sent other bytes",
                   503: "The partner gateway is unreachable"})  # fmt: skip
def get_document_content(document_id, version):
    ledger = _ledger()
    record = ledger.document(document_id, version)
    return files.content_response(record, files.document_bytes(record))


@bp.get("/exchange/documents/<document_id>/versions/<int:version>/content")
@bp.doc(summary="Partner gateways: a document's bytes, for a signed GetDocument proposal (see app/exchange.py)",
        description="Header `Fabric-Proposal`: base64 `gateway.ProposedTransaction` asking `logistics:GetDocument` "
                    "for this document and version, signed by the asking gateway's identity, fresh and never used "
                    "before. This gateway's peer evaluates it: only a party of the shipment or the Regulator gets "
                    "the bytes.",
        responses={200: "The bytes", 400: "Not a signed proposal for this document",
                   403: "Expired, replayed, or the signer's organisation may not read it",
                   404: "The bytes are not here"})  # fmt: skip
def exchange_document_content(document_id, version):
    header = request.headers.get(exchange.HEADER)
    if not header:
        raise exchange.ExchangeError("BAD_EXCHANGE_REQUEST", f"the {exchange.HEADER} header is required", 400)
    raw, facts = exchange.read_proposal(header)
    config, now = current_app.config, time.time()
    exchange.check_request(facts, document_id, version, channel=config["CHANNEL"], chaincode=config["CHAINCODE"],
                           now=now, max_age=config["EXCHANGE_MAX_AGE_SECONDS"])  # fmt: skip
    exchange.remember(get_db(), facts.tx_id, now, config["EXCHANGE_MAX_AGE_SECONDS"])
    try:
        record = logistics_for(users.service_user(exchange.SERVICE_USER, "auditor")).evaluate_signed_request(raw)
    except LedgerError as err:
        if err.status not in (400, 502):  # the contract's refusals (403, 404) and an unreachable peer (503) as they are
            raise
        raise exchange.ExchangeError("EXCHANGE_REQUEST_REFUSED", "this organisation's peer refused the signed "
                                     f"proposal: {err.message}", 403) from None  # fmt: skip
    data = files.store().get(record["sha256"])
    if data is None:
        raise exchange.ExchangeError("DOCUMENT_BYTES_NOT_HERE", f"this gateway has no bytes of {document_id} "
                                     f"version {version}", 404)  # fmt: skip
    current_app.logger.info("document %s v%s sent to %s", document_id, version, facts.msp_id)
    return files.content_response(record, data)


@bp.get("/documents/<document_id>/versions/<int:version>/signing-payload")
@bp.auth_required(token_auth)
@bp.input(PayloadQuery, location="query", arg_name="query")
@bp.doc(summary="The exact text a party signs for this version (canonical JSON; sign its UTF-8 bytes)")
def signing_payload(document_id, version, query):
    ledger = _ledger()
    party = query.get("party") or _next_party(ledger, document_id, version)
    return ledger.signing_payload(document_id, version, party, json.loads(query["statement"]))


def _next_party(ledger, document_id: str, version: int) -> str:
    record = ledger.document(document_id, version)
    if record.get("next") is None:
        raise LedgerError("CONFLICT", f"{document_id} version {version} waits for no signature "
                          f"({record.get('status')})", 409)  # fmt: skip
    return record["requiredSigners"][record["next"]]["party"]


@bp.post("/documents/<document_id>/versions/<int:version>/signatures")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(SignRequest, arg_name="sign")
@idempotent(caller)
@bp.doc(summary="Sign this version: with your server-held key, or record a signature you made elsewhere",
        description="Without `signature`, the gateway signs the signing payload with the caller's own enrolled key "
                    "(kept encrypted here) and records it. With `signature` (over the payload of "
                    "`GET .../signing-payload` for the same party and statement), it records that one.",
        responses={201: "Signed", 400: "Forged or replayed signature", 403: "Not this organisation's turn",
                   409: "Superseded, or another party signs first"})  # fmt: skip
def sign_document(document_id, version, sign):
    ledger, statement = _ledger(), sign["statement"]
    if sign.get("signature"):
        record = ledger.sign_document(document_id, version, sign["signature"], statement, sign.get("certificate", ""))
    else:
        user = caller()
        record = ledger.sign_with_key(document_id, version, user.signing_key(), statement, sign.get("party"))
    return record, 201


@bp.get("/inbox")
@bp.auth_required(token_auth)
@bp.input(LogisticsPage, location="query", arg_name="page")
@bp.doc(summary="Documents waiting for the caller's organisation to sign, paged")
def inbox(page):
    body = _ledger().inbox(page["perPage"], page["nextPageToken"])
    return body, 200, _page_headers(".inbox", page, body)


@bp.get("/documents/<document_id>/versions/<int:version>/evidence")
@bp.auth_required(token_auth)
@bp.doc(summary="Evidence bundle: document, signatures, certificates, transactions, blocks and CAs in one JSON file",
        description="Check it offline with `python -m app.evidence.verify bundle.json [--trust ca.pem ...]`.")
def get_evidence(document_id, version):
    ledger = _ledger()
    record = ledger.document(document_id, version)
    return files.evidence_response(ledger, record)
