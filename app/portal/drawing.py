"""SVG pictures for the portal: an item's lineage as a layered graph, sensor readings as a chart, a shipment's route.

Drawn by hand: both are small (a trace has at most 200 nodes) and fixed in form, and this keeps the portal free of a
JavaScript build or a native graph-layout binary. Output is escaped markup, safe to embed in a page.
"""

from __future__ import annotations

import datetime
import math
from html import escape

from markupsafe import Markup

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 230, 46, 70, 18, 12
KIND_COLOURS = {"lgtin": "#e8f1ff", "sgtin": "#eefaf0", "sscc": "#fff6e5"}


def _layers(trace: dict) -> dict[str, int]:
    """Depth of each node from the root (breadth first along the trace's edges)."""
    depth, frontier = {trace["root"]: 0}, [trace["root"]]
    children: dict[str, list[str]] = {}
    for edge in trace["edges"]:
        children.setdefault(edge["from"], []).append(edge["to"])
    while frontier:
        nxt = []
        for node in frontier:
            for child in children.get(node, []):
                if child not in depth:
                    depth[child] = depth[node] + 1
                    nxt.append(child)
        frontier = nxt
    return depth


def _label(node: dict) -> str:
    return node["id"].replace("/01/", "GTIN ", 1).replace("/21/", " · serial ").replace("/10/", " · lot ") \
        .replace("/00/", "SSCC ", 1)  # fmt: skip


def lineage(trace: dict) -> Markup:
    """The trace as columns by depth (root on the left), edges labelled with their relation."""
    depth = _layers(trace)
    nodes = {n["id"]: n for n in trace["nodes"]}
    columns: dict[int, list[str]] = {}
    for node_id in nodes:
        columns.setdefault(depth.get(node_id, 0), []).append(node_id)
    pos = {}
    for col, ids in sorted(columns.items()):
        for row, node_id in enumerate(sorted(ids)):
            pos[node_id] = (PAD + col * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(v) for v in columns.values()) * (NODE_H + GAP_Y) - GAP_Y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="lineage of {escape(trace["root"])}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
             'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#667"/></marker></defs>']  # fmt: skip
    for edge in trace["edges"]:
        if edge["from"] not in pos or edge["to"] not in pos:
            continue
        (x1, y1), (x2, y2) = pos[edge["from"]], pos[edge["to"]]
        parts.append(f'<line x1="{x1 + NODE_W}" y1="{y1 + NODE_H / 2}" x2="{x2}" y2="{y2 + NODE_H / 2}" '
                     f'stroke="#667" marker-end="url(#arrow)"><title>{escape(edge["relation"])}</title></line>')
    for node_id, (x, y) in pos.items():
        node = nodes[node_id]
        fill = "#fde2e2" if node.get("recalled") else KIND_COLOURS.get(node.get("kind"), "#f3f3f3")
        status = "RECALLED" if node.get("recalled") else (node.get("custodian") or "")
        parts.append(
            f'<g class="node" data-id="{escape(node_id)}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" '
            f'rx="6" fill="{fill}" stroke="#889"/><text x="{x + 8}" y="{y + 18}" font-size="11">'
            f'{escape(_label(node)[:38])}</text><text x="{x + 8}" y="{y + 35}" font-size="10" fill="#555">'
            f'{escape(node.get("kind", ""))} · {escape(status)}</text><title>{escape(node_id)}</title></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


CHART_W, CHART_H, MARGIN = 640, 240, 44


def _time(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _celsius(value: float, uom: str | None) -> float:
    """Readings in degrees Fahrenheit (UN/ECE code FAH) are drawn on the chart's Celsius scale."""
    return round((value - 32) * 5 / 9, 2) if uom == "FAH" else value


def readings_chart(series: dict) -> Markup | None:
    """Temperature readings over time (in °C), the allowed band shaded and excursions in red; None without readings."""
    points = [(r["time"], _celsius(r["value"], r.get("uom")), r["excursion"]) for r in series["readings"]
              if r.get("type") == "Temperature" and "value" in r and r.get("time")]  # fmt: skip
    if not points:
        return None
    band = (series.get("requirements") or {}).get("temperature")
    times = [_time(t) for t, _, _ in points]
    values = [v for _, v, _ in points] + ([band["min"], band["max"]] if band else [])
    t0, t1 = min(times), max(times) if max(times) > min(times) else min(times) + 1
    v0, v1 = min(values) - 1, max(values) + 1

    def x(t):
        return MARGIN + (t - t0) / (t1 - t0) * (CHART_W - 2 * MARGIN)

    def y(v):
        return CHART_H - MARGIN - (v - v0) / (v1 - v0) * (CHART_H - 2 * MARGIN)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="readings" width="{CHART_W}" height="{CHART_H}" '
             f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="temperature readings">']
    if band:
        parts.append(f'<rect class="band" x="{MARGIN}" y="{y(band["max"]):.1f}" width="{CHART_W - 2 * MARGIN}" '
                     f'height="{y(band["min"]) - y(band["max"]):.1f}" fill="#e6f4ea"><title>allowed '
                     f'{band["min"]}..{band["max"]} °C</title></rect>')
    parts.append(f'<line x1="{MARGIN}" y1="{CHART_H - MARGIN}" x2="{CHART_W - MARGIN}" y2="{CHART_H - MARGIN}" '
                 f'stroke="#333"/><line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{CHART_H - MARGIN}" stroke="#333"/>')
    for v in (v0 + 1, (v0 + v1) / 2, v1 - 1):
        parts.append(f'<text x="{MARGIN - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.1f}</text>')
    ordered = sorted(zip(times, points))
    path = " ".join(f"{x(t):.1f},{y(p[1]):.1f}" for t, p in ordered)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#2962ff" stroke-width="1.5"/>')
    for t, (when, value, bad) in ordered:
        cls, colour, r = ("excursion", "#d50000", 5) if bad else ("reading", "#2962ff", 3)
        parts.append(f'<circle class="{cls}" cx="{x(t):.1f}" cy="{y(value):.1f}" r="{r}" fill="{colour}">'
                     f'<title>{escape(when)}: {value} °C{" (excursion)" if bad else ""}</title></circle>')
    parts.append(f'<text x="{CHART_W / 2}" y="{CHART_H - 10}" font-size="11" text-anchor="middle">'
                 f'{escape(points[0][0][:16])} → {escape(max(points)[0][:16])}</text></svg>')
    return Markup("".join(parts))


MAP_W, MAP_H, MAP_PAD = 640, 380, 40
_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30)
_KM_PER_DEGREE = 111.32  # along a meridian; along a parallel it shrinks with cos(latitude)


def _stops(shipment: dict) -> list[tuple[str, str, float, float]]:
    """(class, label, lat, lon) of every place of the shipment that has coordinates, in travel order."""
    stops = []
    if (shipment.get("origin") or {}).get("geo"):
        stops.append(("origin", f"origin: {shipment['origin']['name']}", *_latlon(shipment["origin"])))
    for number, milestone in enumerate(shipment.get("milestones") or [], 1):
        place = milestone.get("location") or {}
        if place.get("geo"):
            kind = "exception" if milestone["type"] == "exception" else "milestone"
            stops.append((kind, f"{number}. {milestone['type']}: {place['name']}", *_latlon(place)))
    if (shipment.get("destination") or {}).get("geo"):
        stops.append(("destination", f"destination: {shipment['destination']['name']}",
                      *_latlon(shipment["destination"])))  # fmt: skip
    return stops


def _latlon(place: dict) -> tuple[float, float]:
    return float(place["geo"]["lat"]), float(place["geo"]["lon"])


def _degrees(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):g}°{positive if value >= 0 else negative}"


def route_map(shipment: dict) -> Markup | None:
    """The shipment's origin, milestones and destination on a plain map sketch; None when no place has coordinates.

    No tile server is reachable, so the map is drawn here: an equirectangular projection around the route's middle
    latitude (distances read true near the route), a graticule with degree labels, a scale bar, the planned leg from
    origin to destination dashed, and the travelled path through the milestones with coordinates, in order.
    """
    stops = _stops(shipment)
    if not stops:
        return None
    lats, lons = [s[2] for s in stops], [s[3] for s in stops]
    mid = math.radians((min(lats) + max(lats)) / 2)
    shrink = max(math.cos(mid), 0.01)
    # Extent in "northing degrees" on both axes, at least ~5 km, with a margin around the route.
    span = max((max(lons) - min(lons)) * shrink, max(lats) - min(lats), 0.05) * 1.15
    width, height = MAP_W - 2 * MAP_PAD, MAP_H - 2 * MAP_PAD
    scale = min(width, height) / span  # pixels per degree of latitude
    cx, cy = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2

    def x(lon: float) -> float:
        return MAP_W / 2 + (lon - cx) * shrink * scale

    def y(lat: float) -> float:
        return MAP_H / 2 - (lat - cy) * scale

    lat_lo, lat_hi = cy - (MAP_H / 2) / scale, cy + (MAP_H / 2) / scale
    lon_lo, lon_hi = cx - (MAP_W / 2) / (scale * shrink), cx + (MAP_W / 2) / (scale * shrink)
    step = next((s for s in _STEPS if (lat_hi - lat_lo) / s <= 6), _STEPS[-1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" width="{MAP_W}" height="{MAP_H}" '
             f'viewBox="0 0 {MAP_W} {MAP_H}" role="img" aria-label="map of shipment '
             f'{escape(str(shipment.get("id", "")))}"><rect width="{MAP_W}" height="{MAP_H}" fill="#f4f8fb"/>']  # fmt: skip
    for line in range(math.ceil(lat_lo / step), math.floor(lat_hi / step) + 1):
        lat = line * step
        parts.append(f'<line class="graticule" x1="0" y1="{y(lat):.1f}" x2="{MAP_W}" y2="{y(lat):.1f}" stroke="#dde6ee"/>'
                     f'<text x="4" y="{y(lat) - 3:.1f}" font-size="9" fill="#789">{_degrees(round(lat, 4), "N", "S")}'
                     "</text>")  # fmt: skip
    lon_step = next((s for s in _STEPS if (lon_hi - lon_lo) / s <= 8), _STEPS[-1])
    for line in range(math.ceil(lon_lo / lon_step), math.floor(lon_hi / lon_step) + 1):
        lon = line * lon_step
        parts.append(f'<line class="graticule" x1="{x(lon):.1f}" y1="0" x2="{x(lon):.1f}" y2="{MAP_H}" stroke="#dde6ee"/>'
                     f'<text x="{x(lon) + 3:.1f}" y="{MAP_H - 4}" font-size="9" fill="#789">'
                     f'{_degrees(round(lon, 4), "E", "W")}</text>')  # fmt: skip
    km = (width / 4) / scale * _KM_PER_DEGREE  # a quarter of the map's width, rounded to a nice length
    nice = next((n for n in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1) if n <= km), 0.1)
    bar = nice / _KM_PER_DEGREE * scale
    parts.append(f'<g class="scale"><line x1="{MAP_W - MAP_PAD - bar:.1f}" y1="{MAP_PAD / 2}" x2="{MAP_W - MAP_PAD}" '
                 f'y2="{MAP_PAD / 2}" stroke="#333" stroke-width="2"/><text x="{MAP_W - MAP_PAD}" y="{MAP_PAD / 2 - 4}" '
                 f'font-size="10" text-anchor="end">{nice:g} km</text></g>')  # fmt: skip
    ends = [s for s in stops if s[0] in ("origin", "destination")]
    if len(ends) == 2:
        parts.append(f'<line class="planned" x1="{x(ends[0][3]):.1f}" y1="{y(ends[0][2]):.1f}" x2="{x(ends[1][3]):.1f}" '
                     f'y2="{y(ends[1][2]):.1f}" stroke="#99a" stroke-dasharray="6 4"/>')  # fmt: skip
    travelled = [s for s in stops if s[0] != "destination"]
    if len(travelled) > 1:
        path = " ".join(f"{x(s[3]):.1f},{y(s[2]):.1f}" for s in travelled)
        parts.append(f'<polyline class="travelled" points="{path}" fill="none" stroke="#2962ff" stroke-width="2.5"/>')
    colours = {"origin": "#2e7d32", "destination": "#6a1b9a", "milestone": "#2962ff", "exception": "#d50000"}
    placed: list[tuple[float, float]] = []
    for kind, label, lat, lon in stops:
        # Labels of stops close to an earlier one (same row, a label's width apart) stack downwards.
        below = sum(1 for px, py in placed if abs(px - x(lon)) < 60 and abs(py - y(lat)) < 12) * 12
        placed.append((x(lon), y(lat)))
        shape = (f'<rect x="{x(lon) - 6:.1f}" y="{y(lat) - 6:.1f}" width="12" height="12"' if kind in ("origin",
                 "destination") else f'<circle cx="{x(lon):.1f}" cy="{y(lat):.1f}" r="6"')  # fmt: skip
        parts.append(f'<g class="stop {kind}">{shape} fill="{colours[kind]}" stroke="#fff"/>'
                     f'<text x="{x(lon) + 9:.1f}" y="{y(lat) + 4 + below:.1f}" font-size="10">{escape(label[:48])}</text>'
                     f"<title>{escape(label)} ({lat:.5f}, {lon:.5f})</title></g>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def shipment_readings(shipment: dict) -> dict:
    """The temperatures recorded with the shipment's milestones, in the shape ``readings_chart`` draws (°C)."""
    readings = []
    for milestone in shipment.get("milestones") or []:
        for reading in milestone.get("readings") or []:
            if reading.get("type") != "temperature":
                continue
            value = reading["value"] if reading.get("unit", "CEL") == "CEL" else (reading["value"] - 32) * 5 / 9
            readings.append({"type": "Temperature", "value": round(value, 2), "time": reading.get("time"),
                             "excursion": bool(reading.get("excursion"))})  # fmt: skip
    band = (shipment.get("handling") or {}).get("temperature")
    return {"readings": readings, "requirements": {"temperature": band} if band else {},
            "excursions": sum(r["excursion"] for r in readings)}  # fmt: skip
