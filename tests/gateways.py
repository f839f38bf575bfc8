"""Gateway fixtures, shared by tests/app and tests/browser (registered in tests/conftest.py): Flask apps of each organisation on the session's real network, users enrolled with its CAs.

``gateway_app(org)`` is the in-process app (its test client speaks to the real peers and CA); ``api(org, role)``
is a client with a bearer token of a fresh user of that role; ``live_gateways`` runs the four gateway processes
(gunicorn) on ports ``TEST_GATEWAY_BASE_PORT`` (27500) to +3, for the browser tests.
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

from app import create_app, launcher, users

PASSWORD = "test-password-1"
_serial = itertools.count()


@pytest.fixture(scope="session")
def gateway_instance(tmp_path_factory):
    """The gateways' instance folder (databases, secrets, logs) for the session."""
    return tmp_path_factory.mktemp("gateway-instance")


@pytest.fixture(scope="session")
def gateway_app(fabric_network, gateway_instance):
    """``gateway_app(org)``: the organisation's gateway app, one per organisation for the session."""
    apps = {}

    def make(org: str = "Producer"):
        if org not in apps:
            # Partners are the live gateway processes (``live_gateways``) of the same instance folder.
            partners = launcher.gateways(gateway_instance, fabric_network.home, _gateway_base_port())[0].config()
            apps[org] = create_app({"ORG": org, "NETWORK_HOME": str(fabric_network.home), "TESTING": True,
                                    "INSTANCE_PATH": str(gateway_instance), "WTF_CSRF_ENABLED": False,
                                    "PARTNER_GATEWAYS": partners["PARTNER_GATEWAYS"]})  # fmt: skip
        return apps[org]

    yield make
    for app in apps.values():
        app.extensions["gateways"].close()


def _gateway_base_port() -> int:
    return int(os.environ.get("TEST_GATEWAY_BASE_PORT", "27500"))


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}{next(_serial)}-{uuid.uuid4().hex[:6]}"


class ApiClient:
    """A Flask test client that sends a user's bearer token and a fresh Idempotency-Key on every POST."""

    def __init__(self, app, user: users.User, token: str):
        self.app, self.user, self.token = app, user, token
        self.client = app.test_client()

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json=None, key: str | None = None, **kw):
        headers = self.headers({"Idempotency-Key": key or uuid.uuid4().hex, **kw.pop("headers", {})})
        return self.client.post(path, json=json, headers=headers, **kw)


@pytest.fixture(scope="session")
def new_user(gateway_app):
    """``new_user(org, role)``: a user registered with that organisation's CA; returns (User, password)."""

    def make(org: str = "Producer", role: str = "operator"):
        app = gateway_app(org)
        with app.app_context():
            user = users.create_user(unique(role[:4]), PASSWORD, role)
        return user, PASSWORD

    return make


@pytest.fixture(scope="session")
def api(gateway_app, new_user):
    """``api(org, role)``: an ApiClient of a new user; cached per (org, role) for the session."""
    clients = {}

    def make(org: str = "Producer", role: str = "operator", fresh: bool = False) -> ApiClient:
        if fresh or (org, role) not in clients:
            app = gateway_app(org)
            user, _ = new_user(org, role)
            with app.app_context():
                token, _ = users.issue_token(user)
            client = ApiClient(app, user, token)
            if fresh:
                return client
            clients[(org, role)] = client
        return clients[(org, role)]

    return make


@pytest.fixture(scope="session")
def live_gateways(fabric_network, gateway_instance):
    """The four gateway processes, started as ``python -m app up`` starts them; stopped at the end."""
    procs = launcher.gateways(gateway_instance, fabric_network.home, _gateway_base_port())
    try:
        for gateway in procs:
            launcher.up(gateway)
            launcher.ensure_admin(gateway)
        yield {g.org: g for g in procs}
    finally:
        for gateway in procs:
            launcher.down(gateway)
