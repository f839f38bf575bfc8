"""SVG pictures for the portal: an item's lineage as a layered graph and its sensor readings as a chart.

Drawn by hand: both are small (a trace has at most 200 nodes) and fixed in form, and this keeps the portal free of a
JavaScript build or a native graph-layout binary. Output is escaped markup, safe to embed in a page.
"""

from __future__ import annotations

import datetime
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
