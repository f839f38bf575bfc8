"""Public pages: consumer verification of a GS1 Digital Link, no login, rate-limited per client address."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import routes  # noqa: E402,F401
