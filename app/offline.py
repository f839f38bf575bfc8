"""Transactions signed in the user's browser, step by step, and the state kept between the steps.

``prepare`` (the gateway builds the proposal) → the browser signs it → ``sign_proposal`` (endorse) → the browser
signs the prepared transaction → ``sign_transaction`` (submit, wait for the commit). A pending transaction belongs
to one user and one of that user's browser keys and lives ``OFFLINE_TTL_SECONDS``; anybody else is told it does not
exist. Each stage is claimed with a compare-and-set update, so a signature sent twice is used once. Each signature
is checked against the browser key's certificate before anything is sent to a peer.

The ledger work itself is done by ``ledger.OfflineTransactions``; this module only keeps the state.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import time
from dataclasses import dataclass

from cryptography import x509
from fabric_protos.gateway import gateway_pb2
from flask import current_app

from .auth import offline_for
from .browser_keys import SigningRefused, key_of, verify
from .db import get_db
from .ledger import LedgerError
from .users import User

STAGES = ("proposal", "endorsing", "transaction", "submitting", "committed", "failed")
"""proposal and transaction wait for the browser's signature; endorsing and submitting are under way."""


@dataclass(frozen=True)
class Pending:
    """A transaction being signed in a browser: where it stands and, while it waits, the message to sign."""

    id: str
    name: str
    key_id: str
    transaction_id: str
    stage: str
    message: bytes | None
    outcome: dict | None
    expires_at: float

    def to_json(self) -> dict:
        """The API's view: ``message`` (base64) is what the browser signs next, ECDSA P-256 with SHA-256."""
        body = {"id": self.id, "transaction": self.name, "keyId": self.key_id, "transactionId": self.transaction_id,
                "stage": self.stage, "expiresAt": _iso(self.expires_at)}  # fmt: skip
        if self.stage in ("proposal", "transaction"):
            body["message"] = base64.b64encode(self.message).decode()
        body.update(self.outcome or {})
        return body


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(user: User, pending_id: str):
    row = get_db().execute("SELECT offline_transaction.*, browser_key.key_id AS kid, browser_key.certificate AS cert "
                           "FROM offline_transaction JOIN browser_key ON browser_key.id = browser_key_id "
                           "WHERE offline_transaction.id = ? AND offline_transaction.user_id = ?",
                           (pending_id, user.id)).fetchone()  # fmt: skip
    if row is None:
        raise SigningRefused("NOT_FOUND", "no such transaction awaiting your signature", 404)
    return row


def _pending(row) -> Pending:
    outcome = json.loads(row["outcome"]) if row["outcome"] else None
    return Pending(row["id"], row["name"], row["kid"], row["transaction_id"], row["stage"], _message(row), outcome,
                   row["expires_at"])  # fmt: skip


def get(user: User, pending_id: str) -> Pending:
    """The user's pending transaction; SigningRefused (404) for another user's or an unknown one."""
    return _pending(_row(user, pending_id))


def prepare(user: User, kid: str, name: str, params: dict) -> Pending:
    """Build the proposal of ``name`` with ``params``, created by the user's browser key ``kid``.

    Raises SigningRefused (no such key) or LedgerError (a transaction not signable in a browser, bad parameters,
    or the reads it needs failed).
    """
    key = key_of(user, kid)
    with offline_for(user, key.certificate) as offline:
        transaction_id, proposal, message = offline.propose(offline.invocation(name, params))
    db, now = get_db(), time.time()
    db.execute("DELETE FROM offline_transaction WHERE expires_at < ?", (now - 24 * 3600,))
    pending_id = secrets.token_urlsafe(18)
    db.execute("INSERT INTO offline_transaction (id, user_id, browser_key_id, name, transaction_id, stage, message, "
               "expires_at, created_at) VALUES (?, ?, ?, ?, ?, 'proposal', ?, ?, ?)",
               (pending_id, user.id, key.id, name, transaction_id, proposal,
                now + current_app.config["OFFLINE_TTL_SECONDS"], now))  # fmt: skip
    return Pending(pending_id, name, key.key_id, transaction_id, "proposal", message, None,
                   now + current_app.config["OFFLINE_TTL_SECONDS"])  # fmt: skip


def _message(row) -> bytes | None:
    """What the browser signs at the row's stage: the proposal bytes, or the prepared transaction's payload."""
    if row["stage"] == "proposal":
        return gateway_pb2.ProposedTransaction.FromString(row["message"]).proposal.proposal_bytes
    if row["stage"] == "transaction":
        return gateway_pb2.PreparedTransaction.FromString(row["message"]).envelope.payload
    return None


def _step(user: User, pending_id: str, waiting: str, working: str, signature: bytes):
    """Check the browser's ``signature`` of the message ``waiting`` for it, then claim the row for ``working``.

    Returns the row, the signature as low-S DER and the browser key's certificate. SigningRefused says why not; a
    refusal changes nothing.
    """
    row = _row(user, pending_id)
    if row["stage"] != waiting:
        raise SigningRefused("CONFLICT", f"this transaction is not waiting for its {waiting} signature (it is at "
                             f"{row['stage']})", 409)  # fmt: skip
    if row["expires_at"] < time.time():
        raise SigningRefused("EXPIRED", "this transaction waited too long for its signature: prepare it again", 409)
    der = verify(x509.load_pem_x509_certificate(row["cert"].encode()).public_key(), signature, _message(row), waiting)
    claimed = get_db().execute("UPDATE offline_transaction SET stage = ? WHERE id = ? AND stage = ?",
                               (working, pending_id, waiting)).rowcount  # fmt: skip
    if claimed != 1:
        raise SigningRefused("CONFLICT", "this signature is already being processed", 409)
    return row, der, row["cert"].encode()


def _advance(pending_id: str, stage: str, message: bytes | None = None, outcome: dict | None = None) -> None:
    get_db().execute("UPDATE offline_transaction SET stage = ?, message = ?, outcome = ? WHERE id = ?",
                     (stage, message, json.dumps(outcome) if outcome else None, pending_id))  # fmt: skip


def _fail(pending_id: str, err: Exception) -> None:
    code, message = (err.code, err.message) if isinstance(err, LedgerError) else ("INTERNAL", "the gateway failed")
    _advance(pending_id, "failed", outcome={"error": {"code": code, "message": message}})


def sign_proposal(user: User, pending_id: str, signature: bytes) -> Pending:
    """Endorse the proposal with the browser's ``signature``; then the prepared transaction awaits its signature.

    A signature that does not verify changes nothing (SigningRefused); a refused endorsement (LedgerError, e.g.
    the chaincode's own rejection) ends the transaction as failed.
    """
    row, der, certificate = _step(user, pending_id, "proposal", "endorsing", signature)
    with offline_for(user, certificate) as offline:
        try:
            transaction, _ = offline.endorse(row["message"], der)
        except Exception as err:
            _fail(pending_id, err)
            raise
    _advance(pending_id, "transaction", transaction)
    return get(user, pending_id)


def sign_transaction(user: User, pending_id: str, signature: bytes) -> Pending:
    """Submit the prepared transaction with the browser's ``signature`` and wait for its commit."""
    row, der, certificate = _step(user, pending_id, "transaction", "submitting", signature)
    with offline_for(user, certificate) as offline:
        try:
            result, block = offline.submit(row["message"], der)
        except Exception as err:
            _fail(pending_id, err)
            raise
    _advance(pending_id, "committed", outcome={"result": result, "blockNumber": block})
    return get(user, pending_id)
