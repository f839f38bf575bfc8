"""Run one gateway process per organisation (gunicorn), each with its first admin user.

``python -m app up`` starts what is not running, waits until each answers ``/healthz``, and makes sure each
organisation has an ``admin`` user registered with its CA. Admin passwords are generated once into the instance
folder (owner-only files) and printed. Process handling reuses the network's own (``network.processes``).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from network.processes import running_pid, start, stop, wait_healthy

from .config import PROJECT_ROOT

ORGS = ("Producer", "Retailer", "Logistics", "Regulator")
THREADS = 8
ADMIN = "admin"


@dataclass(frozen=True)
class GatewayProcess:
    """The gateway of one organisation: where it listens and where its files are."""

    org: str
    port: int
    instance: Path
    network_home: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.instance / "pids" / f"{self.org.lower()}.pid"

    @property
    def log(self) -> Path:
        return self.instance / "logs" / f"{self.org.lower()}.log"

    @property
    def admin_password_file(self) -> Path:
        return self.instance / f"{self.org.lower()}-admin.password"

    def config(self) -> dict:
        """The settings this process runs with (as ``create_app`` takes them).

        ``PARTNER_GATEWAYS`` names the other organisations' gateways of the same launch (organisation i on base + i).
        """
        base = self.port - ORGS.index(self.org)
        partners = {f"{org}MSP": f"http://127.0.0.1:{base + i}" for i, org in enumerate(ORGS)}
        return {"ORG": self.org, "NETWORK_HOME": str(self.network_home), "INSTANCE_PATH": str(self.instance),
                "PUBLIC_BASE_URL": self.url, "PARTNER_GATEWAYS": partners}  # fmt: skip


def gateways(instance: Path, network_home: Path, base_port: int) -> list[GatewayProcess]:
    """Organisation i listens on ``base_port + i``."""
    return [GatewayProcess(org, base_port + i, instance, network_home) for i, org in enumerate(ORGS)]


def _admin_password(gateway: GatewayProcess) -> str:
    path = gateway.admin_password_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def ensure_admin(gateway: GatewayProcess) -> str:
    """Create the organisation's ``admin`` user unless it exists; returns its password."""
    from . import create_app, users

    password = _admin_password(gateway)
    app = create_app(gateway.config())
    with app.app_context():
        if users.authenticate(ADMIN, password) is None:
            users.create_user(ADMIN, password, "admin", instance_suffix=True)
    app.extensions["gateways"].close()
    return password


def seed_demo(processes: list[GatewayProcess]) -> list[str]:
    """Record the demo story (``app/demo.py``) as each organisation's admin; returns what was done."""
    from . import create_app, demo, users
    from .auth import ledger_for, logistics_for
    from .documents import DocumentStore

    apps, members = [], {}
    try:
        for gateway in processes:
            app = create_app(gateway.config())
            apps.append(app)
            with app.app_context():
                admin = users.authenticate(ADMIN, _admin_password(gateway))
                members[gateway.org] = demo.Member(ledger_for(admin), logistics_for(admin), admin.signing_key(),
                                                   DocumentStore(app.config["DOCUMENTS_PATH"]))  # fmt: skip
        return demo.seed(members)
    finally:
        for app in apps:
            app.extensions["gateways"].close()


def up(gateway: GatewayProcess) -> bool:
    """Start the gateway unless it runs; wait until healthy. True if it was started now."""
    if running_pid(gateway.pid_file) is not None:
        return False
    settings = {f"SUPPLYCHAIN_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in gateway.config().items()}
    env = {**os.environ, **settings}
    argv = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(THREADS), "--timeout", "120",
            "--bind", f"127.0.0.1:{gateway.port}", "--access-logfile", "-", "app:create_app()"]  # fmt: skip
    start(f"gateway-{gateway.org.lower()}", argv, env, gateway.log, gateway.pid_file, PROJECT_ROOT)
    wait_healthy(f"gateway of {gateway.org}", f"{gateway.url}/healthz", None, gateway.pid_file, gateway.log)
    return True


def down(gateway: GatewayProcess) -> bool:
    """Stop the gateway; True if it was running."""
    return stop(gateway.pid_file)


def is_running(gateway: GatewayProcess) -> bool:
    """Whether the gateway's process is alive."""
    return running_pid(gateway.pid_file) is not None
