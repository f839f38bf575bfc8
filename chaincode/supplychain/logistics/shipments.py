"""Shipments: validation of a new shipment, who its parties are, who reads it, and its milestones.

A shipment goes from a shipper to a consignee through one to five carriers. Its parties are member
organisations (never the Regulator). Status: created -> picked_up -> in_transit -> arrived -> delivered ->
received, with ``exception`` milestones counted at any point before received.
"""

from __future__ import annotations

import math
import re

from ..errors import Conflict, Forbidden, InvalidArgument
from ..provenance import access
from ..provenance import identifiers as ids
from ..provenance.events import utc_time

MEMBERS = ("LogisticsMSP", "ProducerMSP", "RetailerMSP")
SHIPMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CARRIERS = 5
MAX_UNITS = 200
MAX_NAME = 200
MAX_NOTE = 2000
MAX_READINGS = 100
UNIT_KINDS = (ids.SSCC, ids.SGTIN)
SHIPMENT_FIELDS = frozenset({"id", "shipper", "carriers", "consignee", "origin", "destination", "units", "handling"})
# Reading units (as milestones name them) and the UN/ECE Rec 20 codes EPCIS sensor reports use.
READING_UNITS = {"temperature": {"CEL": "CEL", "FAR": "FAH"}, "humidity": {"PCT": "P1"}}
DEFAULT_UNIT = {"temperature": "CEL", "humidity": "PCT"}
EPCIS_READING_TYPE = {"temperature": "gs1:Temperature", "humidity": "gs1:RelativeHumidity"}

CREATED, PICKED_UP, IN_TRANSIT, ARRIVED, DELIVERED, RECEIVED = (
    "created", "picked_up", "in_transit", "arrived", "delivered", "received")  # fmt: skip
MILESTONE_TYPES = ("picked_up", "departed", "arrived", "delivered", "exception")
# milestone type -> (statuses it may follow, status after it); exception keeps the status.
TRANSITIONS = {
    "picked_up": ((CREATED,), PICKED_UP),
    "departed": ((PICKED_UP, ARRIVED), IN_TRANSIT),
    "arrived": ((IN_TRANSIT,), ARRIVED),
    "delivered": ((IN_TRANSIT, ARRIVED), DELIVERED),
    "exception": ((CREATED, PICKED_UP, IN_TRANSIT, ARRIVED, DELIVERED), None),
}


def check_id(value, what: str = "shipment id") -> str:
    """A shipment id: 1 to 64 letters, digits, ``_`` or ``-``."""
    if not isinstance(value, str) or not SHIPMENT_ID.match(value):
        raise InvalidArgument(f"{what} must be 1 to 64 letters, digits, _ or -, got {value!r}")
    return value


def _text(value, what: str, limit: int, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidArgument(f"{what} must be a non-empty string of at most {limit} characters")
    if any(ord(c) < 0x20 and c not in "\n\t" for c in value):
        raise InvalidArgument(f"{what} must not contain control characters")
    return value


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgument(f"{what} must be a number")
    return value


def parse_place(value, what: str) -> dict:
    """``{"name": str, "geo": {"lat", "lon"}?}``."""
    if not isinstance(value, dict) or set(value) - {"name", "geo"}:
        raise InvalidArgument(f"{what} must be an object with a name and optionally geo")
    place = {"name": _text(value.get("name"), f"{what}.name", MAX_NAME)}
    if value.get("geo") is not None:
        geo = value["geo"]
        if not isinstance(geo, dict) or set(geo) != {"lat", "lon"}:
            raise InvalidArgument(f"{what}.geo must be {{\"lat\": number, \"lon\": number}}")
        lat, lon = _number(geo["lat"], f"{what}.geo.lat"), _number(geo["lon"], f"{what}.geo.lon")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidArgument(f"{what}.geo must have -90 <= lat <= 90 and -180 <= lon <= 180")
        place["geo"] = {"lat": lat, "lon": lon}
    return place


def _member(value, what: str) -> str:
    if value not in MEMBERS:
        raise InvalidArgument(f"{what} must be one of {', '.join(MEMBERS)}, got {value!r}")
    return value


def _handling(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not value or set(value) - set(DEFAULT_UNIT):
        raise InvalidArgument("handling may name temperature and humidity requirements")
    handling = {}
    for kind, limits in sorted(value.items()):
        if not isinstance(limits, dict) or set(limits) - {"min", "max", "unit"} or not {"min", "max"} <= set(limits):
            raise InvalidArgument(f"handling.{kind} must be {{\"min\": number, \"max\": number, \"unit\"?}}")
        low, high = _number(limits["min"], f"handling.{kind}.min"), _number(limits["max"], f"handling.{kind}.max")
        if low > high:
            raise InvalidArgument(f"handling.{kind}.min is above its max")
        unit = limits.get("unit", DEFAULT_UNIT[kind])
        if unit != DEFAULT_UNIT[kind]:
            raise InvalidArgument(f"handling.{kind}.unit must be {DEFAULT_UNIT[kind]}")
        handling[kind] = {"min": low, "max": high, "unit": unit}
    return handling


def endorsers(shipper: str, carriers: list[str], consignee: str) -> list[str]:
    """The organisations whose peers endorse every write of a shipment after its creation.

    The shipper and the carriers; the consignee too when that leaves fewer than two, because the
    chaincode's own policy needs two of the three members for the keys the shipment's writes share
    with provenance (custody records, indexes).
    """
    orgs = {shipper, *carriers}
    if len(orgs) < 2:
        orgs.add(consignee)
    return sorted(orgs)


def parse_shipment(doc: dict) -> dict:
    """A new shipment's fields, validated (units as given, deduplicated by their canonical key)."""
    unknown = sorted(set(doc) - SHIPMENT_FIELDS)
    if unknown:
        raise InvalidArgument(f"unknown shipment field {unknown[0]!r}")
    carriers = doc.get("carriers")
    if not isinstance(carriers, list) or not 1 <= len(carriers) <= MAX_CARRIERS:
        raise InvalidArgument(f"carriers must be a list of 1 to {MAX_CARRIERS} member MSP IDs")
    carriers = [_member(c, "each carrier") for c in carriers]
    if len(set(carriers)) != len(carriers):
        raise InvalidArgument("carriers lists the same organisation twice")
    shipment = {
        "id": check_id(doc.get("id")),
        "shipper": _member(doc.get("shipper"), "shipper"),
        "carriers": carriers,
        "consignee": _member(doc.get("consignee"), "consignee"),
        "origin": parse_place(doc.get("origin"), "origin"),
        "destination": parse_place(doc.get("destination"), "destination"),
        "handling": _handling(doc.get("handling")),
    }
    if shipment["consignee"] == shipment["shipper"]:
        raise InvalidArgument("the consignee must be another organisation than the shipper")
    units = doc.get("units")
    if not isinstance(units, list) or not 1 <= len(units) <= MAX_UNITS:
        raise InvalidArgument(f"units must be a list of 1 to {MAX_UNITS} SSCC or SGTIN identifiers")
    keys = []
    for index, unit in enumerate(units):
        try:
            keys.append(ids.parse(unit, UNIT_KINDS, "unit").key)
        except InvalidArgument as err:
            raise err.within(f"units[{index}]") from None
    if len(set(keys)) != len(keys):
        raise InvalidArgument("units lists the same unit twice")
    shipment["units"] = list(units)
    shipment["unitKeys"] = keys
    return shipment


def parties(shipment: dict) -> list[str]:
    """Every organisation that is a party to the shipment, sorted."""
    return sorted({shipment["shipper"], *shipment["carriers"], shipment["consignee"]})


def require_reader(who: access.Caller, shipment: dict) -> None:
    """The Regulator reads every shipment; a member reads those it is a party to."""
    if who.msp != access.REGULATOR_MSP and who.msp not in parties(shipment):
        raise Forbidden(f"{who.msp} is not a party to shipment {shipment['id']}")


def require_carrier(who: access.Caller, shipment: dict) -> None:
    """Milestones are recorded by a carrier of the shipment."""
    if who.msp not in shipment["carriers"]:
        raise Forbidden(f"only a carrier of shipment {shipment['id']} ({', '.join(shipment['carriers'])}) records "
                        f"its milestones; {who.msp} is not one")  # fmt: skip


def _reading(value, index: int, now: str) -> dict:
    what = f"readings[{index}]"
    if not isinstance(value, dict) or set(value) - {"type", "value", "unit", "time", "deviceId"}:
        raise InvalidArgument(f"{what} must be {{\"type\", \"value\", \"unit\"?, \"time\"?, \"deviceId\"?}}")
    kind = value.get("type")
    if kind not in READING_UNITS:
        raise InvalidArgument(f"{what}.type must be temperature or humidity")
    unit = value.get("unit", DEFAULT_UNIT[kind])
    if unit not in READING_UNITS[kind]:
        raise InvalidArgument(f"{what}.unit must be one of {', '.join(READING_UNITS[kind])} for {kind}")
    reading = {"type": kind, "value": _number(value.get("value"), f"{what}.value"), "unit": unit,
               "time": utc_time(value["time"], f"{what}.time") if "time" in value else now}  # fmt: skip
    if reading["time"] > now:
        raise InvalidArgument(f"{what}.time {reading['time']} is later than the transaction time {now}")
    if value.get("deviceId") is not None:
        reading["deviceId"] = _text(value["deviceId"], f"{what}.deviceId", MAX_NAME)
    return reading


def parse_milestone(doc: dict, now: str) -> dict:
    """A milestone's fields, validated; readings get the transaction time when they carry none."""
    unknown = sorted(set(doc) - {"type", "location", "note", "readings"})
    if unknown:
        raise InvalidArgument(f"unknown milestone field {unknown[0]!r}")
    if doc.get("type") not in MILESTONE_TYPES:
        raise InvalidArgument(f"milestone type must be one of {', '.join(MILESTONE_TYPES)}")
    readings = doc.get("readings", [])
    if not isinstance(readings, list) or len(readings) > MAX_READINGS:
        raise InvalidArgument(f"readings must be a list of at most {MAX_READINGS} readings")
    milestone = {"type": doc["type"], "location": parse_place(doc.get("location"), "location"),
                 "note": _text(doc.get("note"), "note", MAX_NOTE, required=False),
                 "readings": [_reading(r, i, now) for i, r in enumerate(readings)]}  # fmt: skip
    return milestone


def next_status(shipment: dict, milestone_type: str) -> str:
    """The status after a milestone of ``milestone_type``; CONFLICT when the shipment's status does not allow it."""
    allowed, after = TRANSITIONS[milestone_type]
    if shipment["status"] not in allowed:
        raise Conflict(f"shipment {shipment['id']} is {shipment['status']}: a {milestone_type} milestone comes only "
                       f"when it is {' or '.join(allowed)}")  # fmt: skip
    return after or shipment["status"]


def celsius(value: float, unit: str) -> float:
    """A temperature in degrees Celsius."""
    return (value - 32) * 5 / 9 if unit == "FAR" else value


def excursion(reading: dict, handling: dict) -> str | None:
    """Why a reading breaks the shipment's handling requirements, or None."""
    limits = handling.get(reading["type"])
    if not limits:
        return None
    value = round(celsius(reading["value"], reading["unit"]) if reading["type"] == "temperature" else reading["value"],
                  3)  # fmt: skip
    if value < limits["min"] or value > limits["max"]:
        return f"{reading['type']} {value} {limits['unit']} outside {limits['min']}..{limits['max']}"
    return None
