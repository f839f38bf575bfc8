"""Product classes (master data per GTIN): name, producer and handling requirements."""

from __future__ import annotations


from ..errors import InvalidArgument
from . import identifiers as ids
from .ledger import parse_object

_FIELDS = {"gtin", "name", "producer", "handling"}
_LIMITS = {"temperature": (-90.0, 100.0, "Celsius"), "humidity": (0.0, 100.0, "percent relative humidity")}


def _range(name: str, value) -> dict:
    low, high, unit = _LIMITS[name]
    if not isinstance(value, dict) or set(value) - {"min", "max"} or not {"min", "max"} <= set(value):
        raise InvalidArgument(f"handling.{name} must be an object with min and max ({unit})")
    for bound in ("min", "max"):
        number = value[bound]
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not low <= number <= high:
            raise InvalidArgument(f"handling.{name}.{bound} must be a number from {low:g} to {high:g} ({unit})")
    if value["min"] > value["max"]:
        raise InvalidArgument(f"handling.{name}.min is above handling.{name}.max")
    return {"min": value["min"], "max": value["max"]}


def parse_product_class(text: str, producer: str) -> dict:
    """Validate a product class document; ``producer`` defaults to (and must equal) the caller's MSP."""
    doc = parse_object(text, "product class")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise InvalidArgument(f"unknown product class field {unknown[0]!r}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidArgument("name must be 1 to 200 characters")
    if doc.get("producer", producer) != producer:
        raise InvalidArgument(f"producer must be the registering organisation ({producer})")
    handling = doc.get("handling", {})
    if not isinstance(handling, dict) or set(handling) - set(_LIMITS):
        raise InvalidArgument("handling may only have temperature and humidity ranges")
    return {
        "gtin": ids.parse_gtin(doc.get("gtin")),
        "name": name.strip(),
        "producer": producer,
        "handling": {k: _range(k, v) for k, v in handling.items()},
    }
