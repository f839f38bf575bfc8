"""``/verify/<Digital Link path>`` for people (HTML) and machines (JSON), and the Digital Link resolver paths.

Anyone may verify, so the gateway reads the ledger as its own read-only service user (role ``auditor``). A scanner
(a shop's till, a consumer app) may also record where it verified an item, ``POST /verify/<path>/scans`` with
``{"place": "geo:<lat>,<lon>" or a location URN}``: the gateway records the scan as its ``verifier`` service user,
and a serial verified in two places that custody does not explain is reported as a suspected clone. Such a POST is
rate-limited like verification and, as every POST, needs an ``Idempotency-Key``.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from .. import users
from ..auth import ledger_for
from ..idempotency import idempotent
from ..problems import problem, wants_json
from ..ratelimit import limiter
from . import bp

VERIFIER = "public-verifier"
SCANNER = "public-scanner"


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


def _scanner() -> users.User:
    return users.service_user(SCANNER, "verifier")


@bp.post("/verify/<path:code>/scans")
@limiter.limit(_limit)
@idempotent(_scanner)
def record_scan(code: str):
    """Record where ``code`` was verified; answers as verification does, with the scan and clone suspicion."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("place"), str):
        return problem(400, 'the body must be a JSON object {"place": "geo:<lat>,<lon>" or a location URN}',
                       "INVALID_ARGUMENT")  # fmt: skip
    code = code if code.startswith("urn:") else "/" + code
    return ledger_for(_scanner()).record_scan(code, body["place"])


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
