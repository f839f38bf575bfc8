"""Who is calling: portal sessions (Flask-Login) and API bearer tokens, and the ledger as that user.

Every ledger call is signed with the calling user's own enrolled key; there is no shared gateway identity.
"""

from __future__ import annotations

from apiflask import HTTPTokenAuth
from flask import Flask, current_app
from flask_login import LoginManager

from . import users
from .ledger import LogisticsLedger, OfflineTransactions, ProvenanceLedger

SUBMITTER = "offline-submitter"
"""The organisation's service identity that submits browser-signed transactions and waits for their commit."""

token_auth = HTTPTokenAuth(scheme="Bearer", description="A token from POST /api/v1/auth/tokens")
login_manager = LoginManager()
login_manager.login_view = "portal.login"
login_manager.login_message_category = "info"


@token_auth.verify_token
def _verify_token(token: str) -> users.User | None:
    return users.user_for_token(token) if token else None


@token_auth.get_user_roles
def _roles(user: users.User) -> list[str]:
    return [user.role]


@login_manager.user_loader
def _load_user(user_id: str) -> users.User | None:
    return users.get_user(int(user_id))


def _gateway(user: users.User):
    return current_app.extensions["gateways"].gateway(user.enrollment_id, user.certificate, user.signing_key)


def ledger_for(user: users.User) -> ProvenanceLedger:
    """The provenance contract, signing as ``user``."""
    contract = _gateway(user).get_network(current_app.config["CHANNEL"]).get_contract(current_app.config["CHAINCODE"],
                                                                                       "provenance")  # fmt: skip
    return ProvenanceLedger(contract, current_app.config["MVCC_RETRIES"])


def logistics_for(user: users.User) -> LogisticsLedger:
    """The logistics contract and the channel's blocks, signing as ``user``."""
    return LogisticsLedger(_gateway(user), current_app.config["CHANNEL"], current_app.config["CHAINCODE"],
                           current_app.config["MVCC_RETRIES"])  # fmt: skip


def offline_for(user: users.User, certificate: bytes) -> OfflineTransactions:
    """Transactions created by ``certificate`` (a browser key of ``user``), signed by that key, submitted by the
    organisation's service identity; reads they need are made as ``user``. Use it in a ``with`` block."""
    pool = current_app.extensions["gateways"]
    service = users.service_user(SUBMITTER, "auditor")
    return OfflineTransactions(pool.offline_gateway(certificate),
                               pool.gateway(service.enrollment_id, service.certificate, service.signing_key),
                               current_app.config["CHANNEL"], current_app.config["CHAINCODE"],
                               logistics=lambda: logistics_for(user))  # fmt: skip


def init_app(app: Flask) -> None:
    """Attach session login to the app."""
    login_manager.init_app(app)
