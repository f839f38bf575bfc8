"""Keys held in the caller's browser: their certificates, and transactions signed with them step by step.

A browser key is certified in two calls (``/browser-keys/request-info``, then ``/browser-keys``); then each
transaction is prepared (``/offline/transactions``), its proposal signed (``…/proposal-signature``: endorsed) and
its prepared transaction signed (``…/transaction-signature``: submitted, answered once committed). Every
``message`` is base64; the browser signs its bytes with ECDSA P-256 and SHA-256 and sends the signature as base64 of
the 64-byte P1363 form WebCrypto gives (DER is accepted too). The private key never reaches the gateway.
"""

from __future__ import annotations

import base64
import binascii

from apiflask import Schema, fields, validators
from marshmallow import ValidationError

from .. import browser_keys, offline
from ..auth import token_auth
from ..idempotency import idempotent
from ..ledger import OFFLINE_TRANSACTIONS
from . import bp
from .accounts import caller

WRITERS = ["admin", "operator"]


class Base64(fields.String):
    """Standard base64 text, loaded as bytes."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not valid base64") from None
        if not decoded:
            raise ValidationError("must not be empty")
        return decoded


class PublicKey(Schema):
    publicKey = Base64(required=True, metadata={"description": "SubjectPublicKeyInfo (DER) of an ECDSA P-256 key"})


class CertifyKey(PublicKey):
    signature = Base64(required=True, metadata={"description": "signature of the certificationRequestInfo"})
    label = fields.String(load_default="", validate=validators.Length(max=100))


class NewOfflineTransaction(Schema):
    keyId = fields.String(required=True, validate=validators.Regexp(r"^[0-9a-f]{64}$"))
    transaction = fields.String(required=True, validate=validators.OneOf(sorted(OFFLINE_TRANSACTIONS)))
    parameters = fields.Dict(load_default=dict)


class Signature(Schema):
    signature = Base64(required=True, metadata={"description": "base64 of the P1363 (r||s) or DER signature"})


def key_json(key: browser_keys.BrowserKey) -> dict:
    """A browser key as the API shows it (public material only)."""
    return {"keyId": key.key_id, "label": key.label, "certificate": key.certificate.decode(),
            "createdAt": key.created_at, "notAfter": key.not_after}  # fmt: skip


@bp.get("/browser-keys")
@bp.auth_required(token_auth)
@bp.doc(summary="The caller's browser keys and their certificates")
def list_browser_keys():
    return {"keys": [key_json(k) for k in browser_keys.keys_of(caller())]}


@bp.post("/browser-keys/request-info")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(PublicKey, arg_name="body")
@idempotent(caller)
@bp.doc(summary="The certificate request info (PKCS #10, DER) the browser signs for its public key")
def browser_key_request_info(body):
    info = browser_keys.request_info(caller().enrollment_id, body["publicKey"])
    return {"certificationRequestInfo": base64.b64encode(info).decode(), "subject": caller().enrollment_id}


@bp.post("/browser-keys")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(CertifyKey, arg_name="body")
@idempotent(caller)
@bp.doc(
    summary="Certify a browser key through the organisation's CA (re-enrolment: same name, same role)",
    responses={201: "Certified", 400: "Bad key or signature", 409: "Already certified", 502: "The CA refused"},
)
def certify_browser_key(body):
    key = browser_keys.certify(caller(), body["publicKey"], body["signature"], body["label"])
    return key_json(key), 201


@bp.delete("/browser-keys/<key_id>")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Forget one of the caller's browser keys")
def forget_browser_key(key_id):
    browser_keys.forget(caller(), key_id)
    return ""


@bp.post("/offline/transactions")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(NewOfflineTransaction, arg_name="body")
@idempotent(caller)
@bp.doc(summary="Prepare a transaction created by a browser key; answers the proposal to sign")
def prepare_offline_transaction(body):
    pending = offline.prepare(caller(), body["keyId"], body["transaction"], body["parameters"])
    return pending.to_json(), 201


@bp.get("/offline/transactions/<pending_id>")
@bp.auth_required(token_auth)
@bp.doc(summary="Where a browser-signed transaction stands")
def get_offline_transaction(pending_id):
    return offline.get(caller(), pending_id).to_json()


@bp.post("/offline/transactions/<pending_id>/proposal-signature")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(Signature, arg_name="body")
@idempotent(caller)
@bp.doc(summary="Sign the proposal: the gateway has it endorsed and answers the transaction to sign")
def sign_offline_proposal(pending_id, body):
    return offline.sign_proposal(caller(), pending_id, body["signature"]).to_json()


@bp.post("/offline/transactions/<pending_id>/transaction-signature")
@bp.auth_required(token_auth, roles=WRITERS)
@bp.input(Signature, arg_name="body")
@idempotent(caller)
@bp.doc(summary="Sign the transaction: the gateway submits it and answers once it is committed")
def sign_offline_transaction(pending_id, body):
    return offline.sign_transaction(caller(), pending_id, body["signature"]).to_json()
