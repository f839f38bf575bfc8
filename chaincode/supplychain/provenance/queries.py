"""Read-side views: traces over lineage, sensor series with excursions, and consumer verification."""

from __future__ import annotations

from ..errors import NotFound
from . import identifiers as ids
from .ledger import CONTAINS, LOT_ITEMS, MADE_FROM, MADE_INTO, OBJECT, PRODUCT, READINGS, Ledger

MAX_TRACE_NODES = 200


def summary(record: dict) -> dict:
    """What a trace shows of one object."""
    keys = ("id", "kind", "custodian", "location", "disposition", "parent", "lot", "inTransit", "producer")
    return {**{k: record.get(k) for k in keys}, "recalled": record.get("recalled") is not None}


async def _trace(ledger: Ledger, start: dict, edges) -> dict:
    nodes, links, queue, truncated = {start["id"]: start}, [], [start], False
    while queue and not truncated:
        record = queue.pop(0)
        for relation, target in await edges(record):
            links.append({"from": record["id"], "to": target, "relation": relation})
            if target in nodes:
                continue
            if len(nodes) >= MAX_TRACE_NODES:
                truncated = True
                break
            found = await ledger.get(OBJECT, target)
            if found is None:
                raise NotFound(f"{target} is referenced by {record['id']} but missing")
            nodes[target] = found
            queue.append(found)
    return {"root": start["id"], "nodes": [summary(n) for n in nodes.values()], "edges": links,
            "truncated": truncated, "maxNodes": MAX_TRACE_NODES, "records": nodes}  # fmt: skip


async def _related(ledger: Ledger, kind: str, key: str) -> list[str]:
    return [attrs[0] for attrs, _ in await ledger.scan(kind, [key], MAX_TRACE_NODES + 1)]


async def load(ledger: Ledger, code: str, kinds=(ids.SGTIN, ids.SSCC, ids.LGTIN)) -> tuple[ids.Identifier, dict]:
    """The identifier ``code`` names and its record; NOT_FOUND if it was never commissioned."""
    ident = ids.parse(code, kinds, "epc")
    record = await ledger.get(OBJECT, ident.key)
    if record is None:
        raise NotFound(f"{ident.key} was never commissioned")
    return ident, record


async def trace_upstream(ledger: Ledger, code: str) -> dict:
    """Lineage back to the origins: lots, transformation inputs and the contents of logistic units."""
    _, start = await load(ledger, code)

    async def edges(record):
        found = [("lot", record["lot"])] if record.get("lot") and record["lot"] != record["id"] else []
        found += [("input", k) for k in await _related(ledger, MADE_FROM, record["id"])]
        return found + [("contains", k) for k in await _related(ledger, CONTAINS, record["id"])]

    trace = await _trace(ledger, start, edges)
    records = trace.pop("records")
    trace["origins"] = [
        {"id": key, **r["origin"]} for key, r in records.items()
        if r["origin"].get("ilmd") and (r["kind"] == ids.LGTIN or not r.get("lot"))
    ]  # fmt: skip
    return trace


async def trace_downstream(ledger: Ledger, code: str) -> dict:
    """Everything made from a lot (its items and transformation outputs) and where each is now."""
    _, start = await load(ledger, code, (ids.LGTIN, ids.SGTIN, ids.SSCC))

    async def edges(record):
        found = [("item", k) for k in await _related(ledger, LOT_ITEMS, record["id"])]
        return found + [("output", k) for k in await _related(ledger, MADE_INTO, record["id"])]

    trace = await _trace(ledger, start, edges)
    records = trace.pop("records")
    trace["containers"] = {k: r["parent"] for k, r in records.items() if r.get("parent")}
    return trace


def _celsius(value: float, uom: str | None) -> float:
    if uom == "FAH":
        return (value - 32) * 5 / 9
    if uom == "KEL":
        return value - 273.15
    return value


def excursion(report: dict, handling: dict) -> str | None:
    """Why ``report`` breaks the handling requirements, or None."""
    if report["type"] == "Temperature" and "temperature" in handling:
        limits, convert = handling["temperature"], lambda v: _celsius(v, report.get("uom"))
    elif report["type"] == "RelativeHumidity" and "humidity" in handling:
        limits, convert = handling["humidity"], lambda v: v
    else:
        return None
    for name in ("value", "minValue", "maxValue", "meanValue"):
        if name in report:
            value = round(convert(report[name]), 3)
            if value < limits["min"] or value > limits["max"]:
                return f"{report['type']} {name} {value} outside {limits['min']}..{limits['max']}"
    return None


async def readings(ledger: Ledger, code: str, size: int, bookmark: str) -> dict:
    """One page of an object's sensor reports (its own and its containers'), excursions flagged."""
    _, record = await load(ledger, code)
    product = await ledger.get(PRODUCT, record["gtin"]) if record.get("gtin") else None
    handling = product["handling"] if product else {}
    entries, next_bookmark = await ledger.page(READINGS, [record["id"]], size, bookmark)
    series = []
    for _, entry in entries:
        for report in entry["reports"]:
            reason = excursion(report, handling)
            series.append({**report, "event": entry["event"], "excursion": reason is not None, "reason": reason})
    return {"id": record["id"], "requirements": handling, "readings": series, "bookmark": next_bookmark,
            "excursions": sum(1 for r in series if r["excursion"])}  # fmt: skip


async def verify(ledger: Ledger, code: str) -> dict:
    """What a consumer's scan should show: genuine, origin, custodian, recall and clone suspicion."""
    ident = ids.parse(code, (ids.SGTIN, ids.SSCC, ids.LGTIN), "code")
    record = await ledger.get(OBJECT, ident.key)
    if record is None:
        return {"id": ident.key, "genuine": False, "reason": "this identifier was never commissioned on the ledger"}
    if ident.kind == ids.SGTIN and ident.lot and record.get("lot") != ident.lot_key:
        return {"id": ident.key, "genuine": False, "reason": "the lot printed on the code is not the item's lot"}
    lot = await ledger.get(OBJECT, record["lot"]) if record.get("lot") and record["lot"] != record["id"] else None
    recall = record.get("recalled") or (lot or {}).get("recalled")
    product = await ledger.get(PRODUCT, record["gtin"]) if record.get("gtin") else None
    return {
        "id": record["id"], "genuine": True, "product": product["name"] if product else None,
        "producer": record["producer"], "origin": (lot or record)["origin"], "lot": record.get("lot"),
        "custodian": record["custodian"], "location": record["location"], "disposition": record["disposition"],
        "inTransit": record["inTransit"], "recalled": recall is not None, "recall": recall,
        "suspectedClone": bool(record["anomalies"]), "anomalies": record["anomalies"],
    }  # fmt: skip
