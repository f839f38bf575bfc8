"""The one place where errors become HTTP: RFC 9457 problem details for the API, pages for people.

A problem always has ``type``, ``title``, ``status`` and ``detail``, plus ``code`` (stable, for programs),
``transactionId`` when a transaction was made, and ``errors`` (field -> messages) for invalid input.
"""

from __future__ import annotations

from apiflask import HTTPError
from flask import Flask, Response, json, render_template, request
from werkzeug.exceptions import HTTPException

from .documents import CorruptDocument
from .errors import CodedError
from .evidence.bundle import EvidenceUnavailable
from .fabric_ca import CAError
from .ledger import LedgerError
from .users import UserError

PROBLEM_TYPE = "https://supplychain.example/problems/"
_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
          409: "CONFLICT", 413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 422: "INVALID_INPUT",
          429: "RATE_LIMITED", 503: "UNAVAILABLE"}  # fmt: skip
_TITLES = {"INVALID_INPUT": "The request is not valid", "INVALID_ARGUMENT": "The ledger refused the input"}


def wants_json() -> bool:
    """API paths and clients that prefer JSON get problem documents; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def problem(status: int, detail: str, code: str | None = None, headers: dict | None = None, **extra) -> Response:
    """An ``application/problem+json`` response."""
    code = code or _CODES.get(status, "ERROR")
    body = {"type": PROBLEM_TYPE + code.lower().replace("_", "-"), "title": _TITLES.get(code, _title(status)),
            "status": status, "detail": detail, "code": code}  # fmt: skip
    body.update({k: v for k, v in extra.items() if v not in (None, [], {})})
    response = Response(json.dumps(body), status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def _title(status: int) -> str:
    from werkzeug.http import HTTP_STATUS_CODES

    return HTTP_STATUS_CODES.get(status, "Error")


def _page(status: int, detail: str, code: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=_title(status), detail=detail, code=code), status


def _render(status: int, detail: str, code: str | None = None, headers: dict | None = None, **extra):
    if wants_json():
        return problem(status, detail, code, headers, **extra)
    return _page(status, detail, code or _CODES.get(status, "ERROR"))


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP, validation, ledger, document, exchange, browser-signing, user and CA errors."""

    @app.error_processor
    def _http_error(error: HTTPError):
        errors = _flatten(error.detail) if error.status_code in (400, 422) and error.detail else None
        code = "INVALID_INPUT" if errors else None
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()) if errors else error.message
        return _render(error.status_code, detail, code, dict(error.headers or {}), errors=errors)

    @app.errorhandler(HTTPException)
    def _werkzeug_error(error: HTTPException):
        return _render(error.code or 500, error.description or _title(error.code or 500))

    @app.errorhandler(LedgerError)
    def _ledger_error(error: LedgerError):
        return _render(error.status, error.message, error.code, transactionId=error.transaction_id,
                       endorsers=error.details)  # fmt: skip

    @app.errorhandler(CodedError)
    def _coded_error(error: CodedError):  # uploads, partner exchanges, browser signing
        return _render(error.status, error.message, error.code)

    @app.errorhandler(EvidenceUnavailable)
    def _no_evidence(error: EvidenceUnavailable):
        return _render(409, str(error), "EVIDENCE_UNAVAILABLE")

    @app.errorhandler(CorruptDocument)
    def _corrupt_document(error: CorruptDocument):
        return _render(500, "the stored copy of the document was changed on disk; it is not served", "CORRUPT_DOCUMENT")

    @app.errorhandler(UserError)
    def _user_error(error: UserError):
        return _render(422, str(error), "INVALID_INPUT")

    @app.errorhandler(CAError)
    def _ca_error(error: CAError):
        return _render(502 if error.status else 503, str(error), "CA_ERROR" if error.status else "CA_UNAVAILABLE")


def _flatten(detail: dict, prefix: str = "") -> dict[str, list[str]]:
    """APIFlask's nested ``{location: {field: [messages]}}`` as ``{"field.sub": [messages]}``."""
    flat: dict[str, list[str]] = {}
    for key, value in detail.items():
        name = f"{prefix}{key}" if prefix or key not in ("json", "query", "headers", "form", "path") else ""
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}." if name else ""))
        else:
            flat[name or key] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat
