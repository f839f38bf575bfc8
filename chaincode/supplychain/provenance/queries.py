"""Read-side views: traces over lineage, sensor series with excursions, and consumer verification."""

from __future__ import annotations

from ..errors import NotFound
from . import identifiers as ids
from .ledger import CONTAINS, LOT_ITEMS, MADE_FROM, MADE_INTO, OBJECT, PRODUCT, READINGS, SCAN_STATE, Ledger

# Trace bounds, measured with bench/provenance_bench.py (see bench/README.md). A trace is one evaluate, so it must
# answer well inside the gateway app's 5 s evaluate deadline (the peer's own limits are 30 s). Each object read costs
# one round trip to the peer (~0.65 ms on the 2-core test machine under load), each index read two: 2,000 nodes of an
# egg lineage (leaves: one read each) took 1.1-2.0 s and answered 0.9 MB. Index reads are budgeted separately, so a
# lineage of containers and transformation outputs costs at most 2,000 + 2 x 500 round trips (about 2 s) too.
MAX_TRACE_NODES = 2000
MAX_TRACE_INDEX_READS = 500


def summary(record: dict) -> dict:
    """What a trace shows of one object."""
    keys = ("id", "kind", "custodian", "location", "disposition", "parent", "lot", "inTransit", "producer")
    return {**{k: record.get(k) for k in keys}, "recalled": record.get("recalled") is not None}


class _OutOfIndexReads(Exception):
    """The trace has used its ``MAX_TRACE_INDEX_READS``."""


async def _trace(ledger: Ledger, start: dict, edges) -> dict:
    """Breadth-first from ``start``: at most MAX_TRACE_NODES nodes and MAX_TRACE_INDEX_READS index reads.

    ``edges(record, related)`` lists a record's (relation, target) pairs, reading indexes through ``related``. When
    either bound stops the walk, ``truncated`` is true: some node's edges were not all followed.
    """
    nodes, links, queue, truncated, reads = {start["id"]: start}, [], [start], False, 0

    async def related(kind: str, key: str) -> list[str]:
        nonlocal reads
        if reads >= MAX_TRACE_INDEX_READS:
            raise _OutOfIndexReads
        reads += 1
        return [attrs[0] for attrs, _ in await ledger.scan(kind, [key], MAX_TRACE_NODES + 1)]

    while queue and not truncated:
        record = queue.pop(0)
        try:
            found = await edges(record, related)
        except _OutOfIndexReads:
            truncated = True
            break
        for relation, target in found:
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
            "truncated": truncated, "maxNodes": MAX_TRACE_NODES, "maxIndexReads": MAX_TRACE_INDEX_READS,
            "records": nodes}  # fmt: skip


def _may_link(record: dict, relation: str) -> bool:
    """Whether index entries of ``relation`` may start at ``record`` (see ``capture.LINKS``).

    Each index read costs two round trips to the peer, so traces skip those a record's ``links`` rule out;
    records written before ``links`` was kept are read in full.
    """
    return "links" not in record or relation in record["links"]


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

    async def edges(record, related):
        found = [("lot", record["lot"])] if record.get("lot") and record["lot"] != record["id"] else []
        if _may_link(record, "inputs"):
            found += [("input", k) for k in await related(MADE_FROM, record["id"])]
        if _may_link(record, "contents"):
            found += [("contains", k) for k in await related(CONTAINS, record["id"])]
        return found

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

    async def edges(record, related):
        found = []
        if record["kind"] == ids.LGTIN:  # only lots have items
            found += [("item", k) for k in await related(LOT_ITEMS, record["id"])]
        if _may_link(record, "outputs"):
            found += [("output", k) for k in await related(MADE_INTO, record["id"])]
        return found

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
    scans = await ledger.get(SCAN_STATE, record["id"]) or {"count": 0, "last": None, "anomalies": []}
    anomalies = [{"kind": "custody", **a} for a in record["anomalies"]] + scans["anomalies"]
    return {
        "id": record["id"], "genuine": True, "product": product["name"] if product else None,
        "producer": record["producer"], "origin": (lot or record)["origin"], "lot": record.get("lot"),
        "custodian": record["custodian"], "location": record["location"], "disposition": record["disposition"],
        "inTransit": record["inTransit"], "recalled": recall is not None, "recall": recall,
        "suspectedClone": bool(anomalies), "anomalies": anomalies,
        "scans": {"count": scans["count"], "last": scans["last"]},
    }  # fmt: skip
