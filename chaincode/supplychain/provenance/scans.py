"""Verification scans: where a serial was checked, and whether custody explains it (clone suspicion).

A verifier (a shop's scanner, a consumer app through a member's gateway) records each check of an
item with the place it happened: a location URN (``urn:epc:id:sgln:...``, any URN up to 200
characters) or a ``geo:<lat>,<lon>`` URI. A scan is **explained** when

- it is the item's first recorded scan, or
- it happened at the same place as the previous scan (geo places within ``SAME_PLACE_KM``), or
- the item's custody changed since the previous scan (an event about it or about a case or pallet
  holding it changed its custodian, location, transit state or container), or
- it happened at the item's recorded location.

Otherwise the same serial was verified in two places that custody does not explain: the scan is
kept as a ``scan`` anomaly and verification reports a suspected clone. Distances use floating-point
trigonometry; endorsers agree except for two places exactly ``SAME_PLACE_KM`` apart.
"""

from __future__ import annotations

import math
import re

from ..errors import InvalidArgument
from .ledger import SCAN_STATE, SCANS, Ledger

SAME_PLACE_KM = 25.0
MAX_PLACE_LENGTH = 200
MAX_SCAN_ANOMALIES = 20
EARTH_RADIUS_KM = 6371.0
_GEO = re.compile(r"geo:(-?\d{1,2}(?:\.\d{1,7})?),(-?\d{1,3}(?:\.\d{1,7})?)")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[\x21-\x7e]+")


def parse_place(text: str) -> str:
    """A scan's place: ``geo:<lat>,<lon>`` (WGS 84 degrees) or a URN; INVALID_ARGUMENT otherwise."""
    if not isinstance(text, str) or not text or len(text) > MAX_PLACE_LENGTH:
        raise InvalidArgument(f"place must be 1 to {MAX_PLACE_LENGTH} characters")
    geo = _GEO.fullmatch(text)
    if geo:
        lat, lon = float(geo.group(1)), float(geo.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidArgument(f"place {text!r} is outside latitude -90..90 and longitude -180..180")
        return text
    if _URN.fullmatch(text):
        return text
    raise InvalidArgument(f"place must be a geo URI (geo:48.85,2.35) or a location URN, got {text!r}")


def _coordinates(place: str) -> tuple[float, float] | None:
    geo = _GEO.fullmatch(place)
    return (float(geo.group(1)), float(geo.group(2))) if geo else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def same_place(a: str, b: str) -> bool:
    """Equal places, or two geo places within ``SAME_PLACE_KM``."""
    if a == b:
        return True
    ca, cb = _coordinates(a), _coordinates(b)
    return ca is not None and cb is not None and distance_km(ca, cb) <= SAME_PLACE_KM


def custody(record: dict) -> dict:
    """What custody says about where an item is: compared between scans."""
    return {k: record.get(k) for k in ("lastEvent", "custodian", "location", "inTransit", "parent")}


def explain(record: dict, previous: dict | None, place: str) -> str | None:
    """Why custody explains a scan at ``place`` (see the module docstring), or None when nothing does."""
    if previous is None:
        return "first recorded scan"
    if same_place(previous["place"], place):
        return "same place as the previous scan"
    if custody(record) != previous["custody"]:
        return "custody changed since the previous scan"
    if record.get("location") and same_place(record["location"], place):
        return "the item's recorded location"
    return None


async def record_scan(ledger: Ledger, record: dict, place: str, by: str, now: str, tx_id: str) -> dict:
    """Record a scan of ``record`` at ``place``; returns the scan with ``explained`` (a reason, or None)."""
    state = await ledger.get(SCAN_STATE, record["id"]) or {"count": 0, "last": None, "anomalies": []}
    reason = explain(record, state["last"], place)
    scan = {"place": place, "time": now, "txId": tx_id, "by": by, "custody": custody(record),
            "explained": reason}  # fmt: skip
    if reason is None:
        previous = state["last"]
        state["anomalies"] = (state["anomalies"] + [{
            "kind": "scan", "expected": previous["place"], "observed": place, "previousTime": previous["time"],
            "time": now, "txId": tx_id,
        }])[-MAX_SCAN_ANOMALIES:]  # fmt: skip
    state.update(count=state["count"] + 1, last=scan)
    ledger.put(SCANS, [record["id"], f"{now}#{tx_id}"], scan)
    ledger.put(SCAN_STATE, [record["id"]], state)
    return scan
