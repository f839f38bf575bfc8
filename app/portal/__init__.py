"""The portal: server-rendered pages for members, signed in with a session."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from . import logistics, routes, signing  # noqa: E402,F401
