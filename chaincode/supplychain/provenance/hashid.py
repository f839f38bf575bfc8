"""The CBV 2.0 event hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``) of a validated event.

Follows CBV 2.0 section 8.9 and the reference implementation's property order: ``name=value``
pieces concatenated without separators in a fixed order, list members sorted, times in UTC with
milliseconds, EPCs and locations as ``https://id.gs1.org`` Digital Link URIs, CBV values as Web
URIs; eventID, recordTime, errorDeclaration and certificationInfo are left out.

Simplified here, so hashes may differ from the reference implementation for:
- ilmd and extension fields: keys are used as written (compact ``prefix:name``), not expanded
  to full URIs through the JSON-LD context, and nested values are sorted by key;
- numbers: written without trailing zeros, but not rounded to the reference's precision;
- Digital Link URIs keep a lot beside a serial only as the canonical key shows it.
The reference package (``epcis-event-hash-generator``) should be used to check exported hashes.
"""

from __future__ import annotations

import hashlib

from . import cbv
from .events import Event, utc_time

DL_DOMAIN = "https://id.gs1.org"

_QUANTITY = [("epcClass", None), ("quantity", None), ("uom", None)]
_SENSOR = [
    ("sensorMetadata", [("time", None), ("startTime", None), ("endTime", None), ("deviceID", None),
                        ("deviceMetadata", None), ("rawData", None), ("dataProcessingMethod", None),
                        ("bizRules", None)]),
    ("sensorReport", [("type", None), ("exception", None), ("deviceID", None), ("deviceMetadata", None),
                      ("rawData", None), ("dataProcessingMethod", None), ("time", None), ("microorganism", None),
                      ("chemicalSubstance", None), ("value", None), ("component", None), ("stringValue", None),
                      ("booleanValue", None), ("hexBinaryValue", None), ("uriValue", None), ("minValue", None),
                      ("maxValue", None), ("meanValue", None), ("sDev", None), ("percRank", None),
                      ("percValue", None), ("uom", None), ("coordinateReferenceSystem", None)]),
]
PROPERTY_ORDER = [
    ("eventTime", None), ("eventTimeZoneOffset", None), ("epcList", "epc"), ("parentID", None),
    ("inputEPCList", "epc"), ("childEPCs", "epc"), ("quantityList", _QUANTITY), ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY), ("outputEPCList", "epc"), ("outputQuantityList", _QUANTITY),
    ("action", None), ("transformationID", None), ("bizStep", None), ("disposition", None),
    ("persistentDisposition", [("set", None), ("unset", None)]), ("readPoint", [("id", None)]),
    ("bizLocation", [("id", None)]), ("bizTransactionList", [("type", None), ("bizTransaction", None)]),
    ("sourceList", [("type", None), ("source", None)]), ("destinationList", [("type", None), ("destination", None)]),
    ("sensorElementList", _SENSOR),
]
_EXCLUDED = {"@context", "type", "eventID", "recordTime", "errorDeclaration", "certificationInfo"}


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _generic(name: str, value) -> str:
    """Fields outside the fixed order (ilmd, extensions): keys sorted, lists sorted."""
    if isinstance(value, dict):
        return name + "".join(_generic(k, value[k]) for k in sorted(value))
    if isinstance(value, list):
        return name + "".join(sorted(_generic("", v) for v in value))
    return f"{name}={_scalar(value)}"


def _ordered(name: str, value, order) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        if isinstance(order, str):
            return name + "".join(sorted(f"{order}={_scalar(v)}" for v in value))
        return name + "".join(sorted(_ordered("", v, order) for v in value))
    if isinstance(value, dict) and order:
        known = {k for k, _ in order}
        parts = [_ordered(k, value[k], sub) for k, sub in order if k in value]
        parts += [_generic(k, value[k]) for k in sorted(value) if k not in known]
        return name + "".join(parts)
    return f"{name}={_scalar(value)}"


def _normalised(event: Event) -> dict:
    """The document with identifiers, times and CBV values in the canonical forms the hash uses."""
    doc = {k: v for k, v in event.doc.items() if k not in _EXCLUDED}
    dl = lambda ident: DL_DOMAIN + ident.key  # noqa: E731
    doc["eventTime"] = event.event_time
    for name, parsed in (("epcList", event.epcs), ("childEPCs", event.children), ("inputEPCList", event.inputs),
                         ("outputEPCList", event.outputs)):  # fmt: skip
        if parsed:
            doc[name] = [dl(p) for p in parsed]
    for name, parsed in (("quantityList", event.quantities), ("inputQuantityList", event.input_quantities),
                         ("outputQuantityList", event.output_quantities)):  # fmt: skip
        if parsed:
            doc[name] = [{"epcClass": dl(q.lot), "quantity": q.quantity, "uom": q.uom} for q in parsed]
    if event.parent:
        doc["parentID"] = dl(event.parent)
    for name, parsed in (("readPoint", event.read_point), ("bizLocation", event.biz_location)):
        if parsed:
            doc[name] = {"id": dl(parsed)}
    if event.biz_step:
        doc["bizStep"] = cbv.uri("bizStep", event.biz_step)
    if event.disposition:
        doc["disposition"] = cbv.uri("disposition", event.disposition)
    if "sensorElementList" in doc:
        doc["sensorElementList"] = [_sensor_times(e) for e in doc["sensorElementList"]]
    return doc


def _sensor_times(element: dict) -> dict:
    element = dict(element)
    if "time" in element.get("sensorMetadata", {}):
        meta = dict(element["sensorMetadata"])
        meta["time"] = utc_time(meta["time"], "sensorMetadata.time")
        element["sensorMetadata"] = meta
    return element


def pre_hash_string(event: Event) -> str:
    """The canonical string that is hashed (useful to compare with other implementations)."""
    doc = _normalised(event)
    parts = [f"eventType={event.type}"]
    parts += [_ordered(name, doc.get(name), order) for name, order in PROPERTY_ORDER]
    known = {name for name, _ in PROPERTY_ORDER}
    parts += [_generic(k, doc[k]) for k in sorted(doc) if k not in known]
    return "".join(parts)


def event_hash_id(event: Event) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` for ``event``."""
    digest = hashlib.sha256(pre_hash_string(event).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
