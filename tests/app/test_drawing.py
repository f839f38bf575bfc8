"""The shipment pictures drawn by hand: the route map from coordinates and the temperatures in transit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from app.portal import drawing

SVG = "{http://www.w3.org/2000/svg}"


def place(name: str, lat: float | None = None, lon: float | None = None) -> dict:
    return {"name": name, **({"geo": {"lat": lat, "lon": lon}} if lat is not None else {})}


def shipment(milestones: list[dict], **places) -> dict:
    return {"id": "SHP-1", "origin": places.get("origin", place("Farm", 52.2, 0.12)),
            "destination": places.get("destination", place("Store", 51.5, -0.1)), "milestones": milestones,
            "handling": {"temperature": {"min": 1, "max": 8, "unit": "CEL"}}}  # fmt: skip


def markers(svg) -> list[tuple[str, float, float]]:
    """(class, x, y) of each stop, in drawing order."""
    found = []
    for group in ET.fromstring(str(svg)).iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if "stop" in classes:
            shape = group.find(f"{SVG}circle") if group.find(f"{SVG}circle") is not None else group.find(f"{SVG}rect")
            x = float(shape.get("cx") or float(shape.get("x")) + 6)
            y = float(shape.get("cy") or float(shape.get("y")) + 6)
            found.append((classes[1], x, y))
    return found


def test_the_map_places_north_up_and_west_left_with_every_stop_that_has_coordinates():
    svg = drawing.route_map(shipment([
        {"type": "picked_up", "location": place("Farm", 52.2, 0.12)},
        {"type": "exception", "location": place("Lay-by", 51.9, 0.05)},
        {"type": "arrived", "location": place("Depot without coordinates")},
    ]))  # fmt: skip
    stops = markers(svg)
    assert [s[0] for s in stops] == ["origin", "milestone", "exception", "destination"]
    (_, ox, oy), _, (_, _, ey), (_, dx, dy) = stops
    assert oy < ey < dy  # north is up
    assert dx < ox  # the store is west of the farm
    assert 0 < min(ox, dx) and max(ox, dx) < drawing.MAP_W and 0 < oy and dy < drawing.MAP_H
    assert "Depot without coordinates" not in str(svg)
    assert re.search(r">\d+(\.\d+)? km<", str(svg))  # a scale bar


def test_labels_of_stops_at_one_place_do_not_overlap_and_text_is_escaped():
    svg = drawing.route_map(shipment([{"type": "picked_up", "location": place("Farm <gate>", 52.2, 0.12)}]))
    labels = [t for t in ET.fromstring(str(svg)).iter(f"{SVG}text") if t.text and ("Farm" in t.text)]
    assert len({float(t.get("y")) for t in labels}) == len(labels) == 2
    assert "Farm <gate>" in [t.text.split(": ", 1)[1] for t in labels]  # parsed back: it was escaped in the markup


def test_no_coordinates_no_map_and_readings_are_charted_in_celsius():
    assert drawing.route_map(shipment([], origin=place("Farm"), destination=place("Store"))) is None
    series = drawing.shipment_readings(shipment([
        {"type": "departed", "location": place("Road"), "readings": [
            {"type": "temperature", "value": 41.0, "unit": "FAR", "time": "2026-03-02T14:00:00Z", "excursion": False},
            {"type": "humidity", "value": 80, "unit": "PCT", "time": "2026-03-02T14:00:00Z", "excursion": False},
            {"type": "temperature", "value": 9.6, "unit": "CEL", "time": "2026-03-02T16:00:00Z", "excursion": True,
             "reason": "temperature 9.6 CEL outside 1.0..8.0"}]},
    ]))  # fmt: skip
    assert [(r["value"], r["excursion"]) for r in series["readings"]] == [(5.0, False), (9.6, True)]
    assert series["excursions"] == 1 and series["requirements"]["temperature"]["max"] == 8
    chart = str(drawing.readings_chart(series))
    assert chart.count('class="excursion"') == 1 and chart.count('class="reading"') == 1
