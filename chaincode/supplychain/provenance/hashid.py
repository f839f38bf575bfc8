"""The CBV 2.0 event hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``) of a validated event.

Follows CBV 2.0 section 8.9 and agrees with the reference implementation
(``epcis-event-hash-generator`` 1.9.3; tests/chaincode/test_provenance_hashid.py compares the two
on a corpus of events). The pre-hash string is ``eventType=<type>`` and then, in the canonical
property order, ``name=value`` pieces without separators:

- list members are sorted; a quantity or sensor element is prefixed with ``quantityElement`` or
  ``sensorElement``; a business transaction, source or destination is ``type=<type>`` followed by
  its identifier (the order the reference implementation and the standard's maintainers use);
- times are in UTC with milliseconds, the third decimal rounded up when the fourth is 5 to 9;
- EPC URNs (SGTIN, SSCC, SGLN, LGTIN, GTIN patterns, GIAI, GRAI, PGLN, GDTI, GSRN, GSRN-P) and
  GS1 Digital Link URIs of those keys become constrained canonical ``https://id.gs1.org`` URIs;
- CBV values in bare, URN or Web URI spelling become CBV Web URIs; compact URIs (``gs1:``,
  ``cbv:``, ``cbvmda:``, ``epcis:`` and the prefixes of the event's ``@context``) are expanded;
- numbers lose trailing zeros (``1.50`` is ``1.5``, ``10.0`` is ``10``), booleans are ``true``/``false``;
- ILMD and extension fields come last, sorted, named ``{namespace}localName``; extensions inside
  readPoint, bizLocation and sensor elements come at the end of their element;
- eventID, recordTime, errorDeclaration and ``@context`` are left out.

Where the reference implementation departs from the standard's text, this module follows the
standard; the test module names each such case and why.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import urllib.parse

from ..errors import InvalidArgument
from . import cbv, identifiers as ids
from .events import Event, utc_millis

DL_DOMAIN = "https://id.gs1.org"
# The compact-URI prefixes of the EPCIS 2.0 JSON-LD context (CBV 2.0 section 8.9.2 names gs1, cbv and epcis).
STANDARD_PREFIXES = {"gs1": "https://gs1.org/voc/", "cbv": cbv.CBV_URI, "epcis": "https://ref.gs1.org/epcis/",
                     "cbvmda": "urn:epcglobal:cbv:mda:"}  # fmt: skip
_CBV_URNS = {f"urn:epcglobal:cbv:{urn}:": term for urn, term in
             (("bizstep", "BizStep-"), ("disp", "Disp-"), ("btt", "BTT-"), ("sdt", "SDT-"), ("er", "ER-"))}  # fmt: skip
# Bare-string vocabularies of the EPCIS 2.0 context, by field: a bare value is prefix + value.
_GS1_VOC = STANDARD_PREFIXES["gs1"]
_VOCAB = {"bizStep": cbv.CBV_URI + "BizStep-", "disposition": cbv.CBV_URI + "Disp-", "set": cbv.CBV_URI + "Disp-",
          "unset": cbv.CBV_URI + "Disp-", "bizTransaction.type": cbv.CBV_URI + "BTT-",
          "source.type": cbv.CBV_URI + "SDT-", "destination.type": cbv.CBV_URI + "SDT-",
          "sensorReport.type": _GS1_VOC, "exception": _GS1_VOC, "component": cbv.CBV_URI + "Comp-"}  # fmt: skip

_QUANTITY = ["epcClass", "quantity", "uom"]
_METADATA = ["time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
             "bizRules"]  # fmt: skip
_REPORT = ["type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
           "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
           "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom",
           "coordinateReferenceSystem"]  # fmt: skip
_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
PROPERTY_ORDER = ["eventTime", "eventTimeZoneOffset", "certificationInfo", "epcList", "parentID", "inputEPCList",
                  "childEPCs", "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList",
                  "outputQuantityList", "action", "transformationID", "bizStep", "disposition",
                  "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList",
                  "destinationList", "sensorElementList"]  # fmt: skip
_EXCLUDED = {"@context", "type", "eventID", "recordTime", "errorDeclaration"}

# GS1 Digital Link percent-encodes these characters of serials, lots and other key qualifiers.
_DL_ESCAPES = {c: f"%{ord(c):02X}" for c in "!\"%&()*+,/:<>?"}
_OTHER_URNS = {
    "giai": re.compile(r"^urn:epc:id:giai:(\d{6,12})\.(.+)$"),
    "grai": re.compile(r"^urn:epc:id:grai:(\d{6,12})\.(\d{0,6})\.(.+)$"),
    "pgln": re.compile(r"^urn:epc:id:pgln:(\d{6,12})\.(\d{0,6})$"),
    "gdti": re.compile(r"^urn:epc:id:gdti:(\d{6,12})\.(\d{0,6})\.(.*)$"),
    "gsrn": re.compile(r"^urn:epc:id:gsrn:(\d{6,12})\.(\d{5,11})$"),
    "gsrnp": re.compile(r"^urn:epc:id:gsrnp:(\d{6,12})\.(\d{5,11})$"),
}
# Digital Link URIs of other primary keys: the path from the key on, without a query or fragment.
_OTHER_DL = re.compile(r"^https?://[^/?#]+(?:/[^?#]*?)?(/(?:8004|8003|417|253|8018|8017|401|402|255|8010)/[^?#]+?)/?"
                       r"(?:[?#].*)?$")


def _escape(text: str) -> str:
    return "".join(_DL_ESCAPES.get(c, c) for c in urllib.parse.unquote(text))


def _check(body: str) -> str:
    return body + ids.check_digit(body)


def _other_urn(value: str) -> str | None:
    for scheme, pattern in _OTHER_URNS.items():
        found = pattern.match(value)
        if not found:
            continue
        company, *rest = found.groups()
        if scheme == "giai":
            return f"/8004/{company}{_escape(rest[0])}"
        if scheme in ("gsrn", "gsrnp"):
            if len(company) + len(rest[0]) != 17:
                return None
            return ("/8018/" if scheme == "gsrn" else "/8017/") + _check(company + rest[0])
        if len(company) + len(rest[0]) != 12:
            return None
        if scheme == "pgln":
            return f"/417/{_check(company + rest[0])}"
        if scheme == "grai":
            return f"/8003/{_check('0' + company + rest[0])}{_escape(rest[1])}"
        return f"/253/{_check(company + rest[0])}{_escape(rest[1])}"
    return None


def digital_link(value: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI of an EPC URN or Digital Link URI (None if not one).

    Digital Link paths without a domain (``/01/<gtin>/21/<serial>``), which this contract accepts
    as identifiers, are canonicalised too.
    """
    if not value.startswith(("urn:epc:", "https://", "http://", "/")):
        return None
    try:
        ident = ids.parse(value)
    except InvalidArgument:
        if value.startswith("/"):
            path = None
        elif value.startswith("urn:epc:"):
            path = _other_urn(value)
        else:
            found = _OTHER_DL.match(value)
            path = found.group(1) if found else None
        return DL_DOMAIN + path if path else None
    if ident.kind == ids.SGTIN:
        path = f"/01/{ident.gtin}/21/{_escape(ident.serial)}"
    elif ident.kind == ids.LGTIN:
        path = f"/01/{ident.gtin}/10/{_escape(ident.lot)}"
    elif ident.kind == ids.SGLN:
        gln, _, extension = ident.key[len("/414/"):].partition("/254/")
        path = f"/414/{gln}" + (f"/254/{_escape(extension)}" if extension else "")
    else:  # GTIN, SSCC: digits only
        path = ident.key
    return DL_DOMAIN + path


class _Canon:
    """Canonical keys and values, with the compact-URI prefixes the event's context declares."""

    def __init__(self, context):
        self.prefixes = dict(STANDARD_PREFIXES)
        for entry in context if isinstance(context, list) else [context]:
            if isinstance(entry, dict):
                self.prefixes.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})

    def key(self, name: str) -> str:
        prefix, colon, local = name.partition(":")
        return "{" + self.prefixes[prefix] + "}" + local if colon and prefix in self.prefixes else name

    def value(self, value, vocab: str | None = None) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
        if value is None:
            return ""
        text = str(value).strip()
        if vocab and text and ":" not in text and "/" not in text:
            return vocab + text
        for urn, term in _CBV_URNS.items():
            if text.startswith(urn):
                return cbv.CBV_URI + term + text[len(urn):]
        link = digital_link(text)
        if link:
            return link
        prefix, colon, local = text.partition(":")
        if colon and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return text

    def time(self, value) -> str:
        try:
            when = datetime.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return self.value(value)
        # A time without an offset is not a timestamp of the standard; converting it would depend on
        # the endorsing peer's time zone.
        return utc_millis(when) if when.tzinfo else self.value(value)


def _pair(name: str, text: str) -> str:
    return f"{name}={text}" if text else ""


def _fields(obj: dict, order: list[str], canon: _Canon, context: str = "") -> str:
    """``obj``'s fields in ``order``, then its extension fields (sorted)."""
    parts = []
    for name in order:
        if name not in obj:
            continue
        vocab = _VOCAB.get(f"{context}.type") if name == "type" else _VOCAB.get(name)
        values = obj[name] if isinstance(obj[name], list) else [obj[name]]
        timed = "time" in name.lower() and "offset" not in name.lower()
        parts += sorted(_pair(name, canon.time(v) if timed else canon.value(v, vocab)) for v in values)
    extensions = [p for k in obj if k not in order and ":" in k for p in _generic(canon.key(k), obj[k], canon)]
    return "".join(parts) + "".join(sorted(extensions))


def _generic(name: str, value, canon: _Canon) -> list[str]:
    """ILMD and extension fields: one piece per value; nested objects with their fields sorted."""
    if isinstance(value, list):
        return [p for v in value for p in _generic(name, v, canon)]
    if isinstance(value, dict):
        return [name + "".join(sorted(p for k, v in value.items() for p in _generic(canon.key(k), v, canon)))]
    text = canon.value(value)
    return [f"{name}={text}" if text else name]


def _property(name: str, value, canon: _Canon) -> str:
    if name in _EPC_LISTS:
        return name + "".join(sorted(_pair("epc", canon.value(v)) for v in value)) if value else ""
    if name in _QUANTITY_LISTS:
        return name + "".join(sorted("quantityElement" + _fields(q, _QUANTITY, canon) for q in value)) if value else ""
    if name in _TYPED_LISTS:
        key = _TYPED_LISTS[name]
        vocab = _VOCAB[f"{key}.type"]
        entries = [_pair("type", canon.value(e.get("type"), vocab)) + _pair(key, canon.value(e.get(key)))
                   for e in value]  # fmt: skip
        return name + "".join(sorted(entries)) if entries else ""
    if name in ("readPoint", "bizLocation"):
        return name + _fields(value, ["id"], canon)
    if name == "persistentDisposition":
        return name + _fields(value, ["set", "unset"], canon)
    if name == "sensorElementList":
        elements = []
        for element in value:
            meta = "sensorMetadata" + _fields(element["sensorMetadata"], _METADATA, canon) \
                if "sensorMetadata" in element else ""  # fmt: skip
            reports = sorted("sensorReport" + _fields(r, _REPORT, canon, "sensorReport")
                             for r in element.get("sensorReport", []))  # fmt: skip
            rest = {k: v for k, v in element.items() if k not in ("sensorMetadata", "sensorReport")}
            elements.append("sensorElement" + meta + "".join(reports) + _fields(rest, [], canon))
        return name + "".join(sorted(elements)) if elements else ""
    return _fields({name: value}, [name], canon)


def pre_hash_string(event: Event) -> str:
    """The canonical string that is hashed (useful to compare with other implementations)."""
    doc, canon = event.doc, _Canon(event.doc.get("@context"))
    parts = [f"eventType={event.type}"]
    parts += [_property(name, doc[name], canon) for name in PROPERTY_ORDER if doc.get(name) is not None]
    known = set(PROPERTY_ORDER) | _EXCLUDED
    tail = [p for k in doc if k not in known for p in _generic(canon.key(k), doc[k], canon)]
    return "".join(parts) + "".join(sorted(tail))


def event_hash_id(event: Event) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` for ``event``."""
    digest = hashlib.sha256(pre_hash_string(event).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
