"""The JSON API under ``/api/v1``: bearer tokens, problem+json errors, OpenAPI at ``/api/openapi.json``."""

from apiflask import APIBlueprint

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API")

from . import accounts, logistics, offline, provenance  # noqa: E402,F401  (routes register themselves on bp)
