"""The consortium gateway: one Flask process per member organisation, connected to that organisation's peer and CA.

``create_app`` wires the parts together; nothing reads configuration at import time. Blueprints by audience:
``api`` (JSON under ``/api/v1``, bearer tokens, OpenAPI at ``/api/docs``), ``portal`` (server-rendered pages,
sessions) and ``public`` (consumer verification, no login). ``app/fabric/`` is the Gateway client and imports
nothing else of ``app``.

This module imports no third-party package at import time, so that ``python -m app.evidence.verify`` (stdlib,
``cryptography`` and ``fabric_protos`` only) runs without the web stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apiflask import APIFlask


def create_app(config: Mapping | None = None) -> APIFlask:
    """Build a gateway for the organisation the configuration names (``app/config.py``)."""
    from apiflask import APIFlask
    from flask_wtf.csrf import CSRFProtect

    from . import api, auth, cli, config as settings, db, portal, problems, public
    from .gateways import GatewayPool
    from .organization import Organization
    from .ratelimit import limiter

    app = APIFlask(__name__, title="Supply-chain consortium gateway", version="1", docs_path="/api/docs",
                   spec_path="/api/openapi.json", instance_path=settings.instance_path(config))  # fmt: skip
    settings.load(app, dict(config or {}))
    app.json.sort_keys = False
    organization = Organization.load(app.config["NETWORK_HOME"], app.config["ORG"])
    app.extensions["organization"] = organization
    app.extensions["gateways"] = GatewayPool(organization)
    db.init_app(app)
    auth.init_app(app)
    limiter.init_app(app)
    problems.init_app(app)
    csrf = CSRFProtect(app)  # also app.extensions["csrf"]
    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, which a browser never sends by itself
    csrf.exempt("app.public.routes.record_scan")  # no session, no cookie: nothing a forged request could borrow
    app.register_blueprint(api.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(public.bp)
    cli.init_app(app)
    return app
