"""A document version's bytes and evidence bundle as HTTP responses: one way for the API and the portal.

The bytes come from this gateway's content-addressed store, or else from the anchoring organisation's gateway
(``app/exchange.py``), which checks on its own ledger that this organisation may read them; they are checked
against the anchored SHA-256 before they are kept or served.
"""

from __future__ import annotations

import json

from flask import Response, current_app

from . import exchange, users
from .auth import logistics_for
from .documents import DocumentStore
from .evidence import bundle as evidence
from .ledger import LogisticsLedger


def store() -> DocumentStore:
    """This gateway's document store."""
    return DocumentStore(current_app.config["DOCUMENTS_PATH"])


def document_bytes(record: dict) -> bytes:
    """The bytes of a document version: from the store, or fetched from the anchoring gateway, checked and kept."""
    data = store().get(record["sha256"])
    return data if data is not None else _fetch_from_partner(record)


def _fetch_from_partner(record: dict) -> bytes:
    anchored_by = record["anchoredBy"]
    if anchored_by == current_app.extensions["organization"].msp_id:
        raise exchange.ExchangeError("DOCUMENT_BYTES_NOT_HERE", f"this gateway anchored {record['id']} version "
                                     f"{record['version']} but no longer has its bytes", 404)  # fmt: skip
    base_url = current_app.config["PARTNER_GATEWAYS"].get(anchored_by)
    if not base_url:
        raise exchange.ExchangeError("PARTNER_UNKNOWN", f"no gateway of {anchored_by} is configured "
                                     "(PARTNER_GATEWAYS)", 503)  # fmt: skip
    service = users.service_user(exchange.SERVICE_USER, "auditor")
    request = logistics_for(service).signed_document_request(record["id"], record["version"], service.signing_key())
    data = exchange.fetch(base_url, record["id"], record["version"], request, record["sha256"],
                          current_app.config["EXCHANGE_TIMEOUT_SECONDS"])  # fmt: skip
    store().put(data)
    return data


def _file_name(record: dict, suffix: str = "") -> str:
    return f"{record['id'].replace(':', '-')}-v{record['version']}{suffix}"


def content_response(record: dict, data: bytes) -> Response:
    """The version's bytes ``data`` as an attachment with its content type; immutable, so cacheable for good."""
    response = Response(data, mimetype=record["contentType"])
    response.headers["ETag"] = f'"{record["sha256"]}"'
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"  # a version's bytes never change
    name = record.get("filename") or _file_name(record)
    response.headers["Content-Disposition"] = f'attachment; filename="{name.replace(chr(34), "")}"'
    return response


def evidence_response(ledger: LogisticsLedger, record: dict) -> Response:
    """The version's evidence bundle (``app/evidence``) as a JSON attachment."""
    config = current_app.config
    body = evidence.build(ledger, record, document_bytes(record), channel=config["CHANNEL"],
                          generated_by=current_app.extensions["organization"].msp_id,
                          chaincode=config["CHAINCODE"])  # fmt: skip
    response = current_app.response_class(json.dumps(body, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(record, "-evidence.json")}"'
    return response
