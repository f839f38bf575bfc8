"""The portal's side of browser-held keys: the page to create one, and the JSON calls ``static/signing.js`` makes
(certify a key, a document's signing payload, prepare and sign transactions).

The calls mirror ``/api/v1/browser-keys`` and ``/api/v1/offline/transactions`` for a signed-in session instead of a
bearer token; being cookie-authenticated, they need the page's CSRF token in an ``X-CSRFToken`` header. Errors are
problem documents, whose ``detail`` the page shows.
"""

from __future__ import annotations

import base64
import binascii
import functools

from flask import render_template, request
from flask_login import current_user, login_required

from .. import browser_keys, offline
from ..auth import logistics_for
from ..fabric_ca import CAError
from ..ledger import LedgerError
from ..problems import problem
from . import bp
from .logistics import statement_from


def _json_call(view):
    """A JSON endpoint for signing.js: signed in, a writer, errors as problem documents."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.can_write:
            return problem(403, f"role {current_user.role} reads but does not write")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return problem(422, "expected a JSON object", "INVALID_INPUT")
        try:
            return view(body, *args, **kwargs)
        except (browser_keys.SigningRefused, LedgerError) as err:
            return problem(err.status, err.message, err.code)
        except CAError as err:
            return problem(502 if err.status else 503, str(err), "CA_ERROR" if err.status else "CA_UNAVAILABLE")
        except _BadField as err:
            return problem(422, f"{err.args[0]}: {err.args[1]}", "INVALID_INPUT", errors={err.args[0]: [err.args[1]]})

    return wrapper


class _BadField(Exception):
    """A field of a JSON call is missing or malformed: (name, message)."""


def _bytes(body: dict, name: str) -> bytes:
    try:
        value = base64.b64decode(body[name], validate=True)
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise _BadField(name, "base64 text is required") from None
    if not value:
        raise _BadField(name, "must not be empty")
    return value


def _text(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise _BadField(name, "text is required")
    return value


@bp.get("/keys")
@login_required
def keys():
    """This browser's signing key: create one, see the certified ones."""
    return render_template("portal/keys.html", keys=browser_keys.keys_of(current_user))


@bp.post("/signing/keys/request-info")
@_json_call
def key_request_info(body):
    info = browser_keys.request_info(current_user.enrollment_id, _bytes(body, "publicKey"))
    return {"certificationRequestInfo": base64.b64encode(info).decode(), "subject": current_user.enrollment_id}


@bp.post("/signing/keys")
@_json_call
def certify_key(body):
    key = browser_keys.certify(current_user, _bytes(body, "publicKey"), _bytes(body, "signature"),
                               _text(body, "label", ""))  # fmt: skip
    return {"keyId": key.key_id, "certificate": key.certificate.decode(), "notAfter": key.not_after}, 201


@bp.post("/signing/payload")
@_json_call
def signing_payload(body):
    """The text to sign for a document version, with the statement read from the signing form's fields."""
    fields = body.get("form", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise _BadField("form", "an object of the signing form's fields is required")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _BadField("version", "a version number is required")
    statement = statement_from(fields)
    answer = logistics_for(current_user).signing_payload(_text(body, "document"), version, _text(body, "party"),
                                                         statement)  # fmt: skip
    return {"payload": answer["payload"], "sha256": answer["sha256"], "statement": statement}


@bp.post("/signing/transactions")
@_json_call
def prepare_transaction(body):
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise _BadField("parameters", "an object is required")
    pending = offline.prepare(current_user, _text(body, "keyId"), _text(body, "transaction"), parameters)
    return pending.to_json(), 201


@bp.post("/signing/transactions/<pending_id>/proposal-signature")
@_json_call
def sign_proposal(body, pending_id):
    return offline.sign_proposal(current_user, pending_id, _bytes(body, "signature")).to_json()


@bp.post("/signing/transactions/<pending_id>/transaction-signature")
@_json_call
def sign_transaction(body, pending_id):
    return offline.sign_transaction(current_user, pending_id, _bytes(body, "signature")).to_json()
