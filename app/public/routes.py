"""``/verify/<Digital Link path>`` for people (HTML) and machines (JSON), and the Digital Link resolver paths.

Anyone may verify, so the gateway reads the ledger as its own read-only service user (role ``auditor``).
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from .. import users
from ..auth import ledger_for
from ..problems import wants_json
from ..ratelimit import limiter
from . import bp

VERIFIER = "public-verifier"


def _limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


@bp.get("/verify/<path:code>")
@limiter.limit(_limit)
def verify(code: str):
    """Is this item genuine, where does it come from, who holds it, is it recalled, is it a suspected clone?"""
    code = code if code.startswith("urn:") else "/" + code
    ledger = ledger_for(users.service_user(VERIFIER, "auditor"))
    result = ledger.verify(code)
    if result["genuine"]:  # where it comes from, down to farm, house, flock and hen where they were recorded
        result["origins"] = ledger.trace_upstream(result["id"])["origins"]
    if wants_json() or request.args.get("format") == "json":
        return result
    return render_template("public/verify.html", result=result, code=code)


@bp.get("/<any('01', '00'):ai>/<path:rest>")
def digital_link(ai: str, rest: str):
    """A GS1 Digital Link URI printed on a product resolves to its verification page."""
    return redirect(url_for(".verify", code=f"{ai}/{rest}", **request.args), 303)


@bp.get("/")
def index():
    """Home: the portal for members, a code box for consumers."""
    return redirect(url_for("portal.home"))


@bp.get("/healthz")
def healthz():
    """Liveness for the launcher: the process answers and its database opens."""
    from ..db import get_db

    get_db().execute("SELECT 1").fetchone()
    return {"status": "OK", "org": current_app.config["ORG"]}
