"""Every setting of a gateway process, in one place.

Load order (later wins): the defaults below, then ``SUPPLYCHAIN_*`` environment variables
(``SUPPLYCHAIN_ORG=Retailer``; values are parsed as JSON where they can be), then the mapping given to
``create_app`` (tests). Derived paths are filled in only when not set. Secrets that are not given are generated
once into the instance folder, readable by the owner only, so a restart keeps sessions, tokens and keys usable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    # Which organisation this gateway serves, and where that organisation's network files are.
    "ORG": "Producer",
    "NETWORK_HOME": str(PROJECT_ROOT / "network" / "run"),
    "CHANNEL": "supplychain",
    "CHAINCODE": "supplychain",
    # The organisation's CA registrar (its Admin identity from the network); it registers the gateway's users.
    "REGISTRAR": "Admin",
    # SQLite database of users, tokens, idempotency keys (default: instance/<org>.sqlite).
    "DATABASE": None,
    # Base URL printed in Digital Link QR codes (what a consumer's phone opens).
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    # Public verification is open to anyone, so it is rate-limited per client address.
    "VERIFY_RATE_LIMIT": "60 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Bearer tokens expire after this many seconds.
    "TOKEN_TTL_SECONDS": 12 * 3600,
    # Idempotency keys are remembered this long.
    "IDEMPOTENCY_TTL_SECONDS": 24 * 3600,
    # A transaction signed in a browser must get its signatures within this many seconds of being prepared.
    "OFFLINE_TTL_SECONDS": 300,
    # A submit that hits an MVCC read conflict is retried this many times before it is reported.
    "MVCC_RETRIES": 3,
    # Largest request body accepted (an EPCIS document of the largest allowed size fits).
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    # Logistics documents (app/documents.py): the largest accepted upload, the content types accepted (each checked
    # against the bytes themselves), and where the bytes are kept (default: instance/documents/<org>).
    "DOCUMENT_MAX_BYTES": 4 * 1024 * 1024,
    "DOCUMENT_CONTENT_TYPES": ["application/pdf", "image/png", "image/jpeg", "application/json", "application/xml"],
    "DOCUMENTS_PATH": None,
    # The other organisations' gateways, by MSP ID: a document another organisation anchored is fetched from its
    # gateway (app/exchange.py). The defaults are the ports ``python -m app up`` uses.
    "PARTNER_GATEWAYS": {
        "ProducerMSP": "http://127.0.0.1:8000",
        "RetailerMSP": "http://127.0.0.1:8001",
        "LogisticsMSP": "http://127.0.0.1:8002",
        "RegulatorMSP": "http://127.0.0.1:8003",
    },
    # A partner's signed content request is accepted this many seconds either side of its timestamp, and only once.
    "EXCHANGE_MAX_AGE_SECONDS": 300,
    # Seconds to wait for a partner gateway.
    "EXCHANGE_TIMEOUT_SECONDS": 20,
    "SESSION_COOKIE_HTTPONLY": True,
    # Cookies are per host, not per port: each organisation's gateway names its own (default: <org>-session), so
    # one browser stays signed in to several portals of a network running on one host.
    "SESSION_COOKIE_NAME": None,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Secrets: generated into the instance folder when not given.
    "SECRET_KEY": None,
    "KEY_ENCRYPTION_KEY": None,
    # OpenAPI document and interactive docs.
    "API_TITLE": "Supply-chain consortium gateway",
    "API_VERSION": "1",
    "DOCS_UI": "swagger-ui",
}


def instance_path(overrides: Mapping | None) -> str:
    """The instance folder (database, generated secrets): ``INSTANCE_PATH`` or ``instance/`` in the project."""
    given = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("SUPPLYCHAIN_INSTANCE_PATH")
    return str(Path(given).resolve()) if given else str(PROJECT_ROOT / "instance")


def load(app, overrides: dict | None) -> None:
    """Fill ``app.config`` in the documented order and derive what was left unset."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("SUPPLYCHAIN")
    if overrides:
        app.config.from_mapping(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    org = app.config["ORG"]
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = str(instance / f"{org.lower()}.sqlite")
    if not app.config["DOCUMENTS_PATH"]:
        app.config["DOCUMENTS_PATH"] = str(instance / "documents" / org.lower())
    if not app.config["SESSION_COOKIE_NAME"]:
        app.config["SESSION_COOKIE_NAME"] = f"{org.lower()}-session"
    for name in ("SECRET_KEY", "KEY_ENCRYPTION_KEY"):
        if not app.config[name]:
            app.config[name] = _instance_secret(instance / f"{org.lower()}-{name.lower().replace('_', '-')}")


def _instance_secret(path: Path) -> str:
    """A 256-bit secret kept in ``path`` (mode 0600), created on first use."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
