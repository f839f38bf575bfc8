"""Validation of EPCIS 2.0 events and documents in the standard's JSON/JSON-LD binding.

``parse_event`` accepts exactly what the ledger can interpret and rejects everything else with an
``INVALID_ARGUMENT`` that names the field. Extension fields (names with a ``prefix:``) are kept as data.
``parse_document`` unpacks an ``EPCISDocument`` (or a JSON array of events) for CaptureEvents.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field

from ..errors import InvalidArgument, LimitExceeded
from . import cbv, identifiers as ids
from .ledger import parse_object

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent")
ACTIONS = ("ADD", "OBSERVE", "DELETE")
MAX_EVENT_BYTES = 64 * 1024
MAX_IDENTIFIERS = 500
MAX_SENSOR_REPORTS = 500
# CaptureEvents bounds. Measured with bench/capture_events.py on the test network (2 of 3
# endorsements, on a 2-core host that other test networks shared, so the figures spread), documents
# of commission(4 items) + pack + temperature groups, one transaction at a time, two or three runs:
#   events   document   endorse       commit   result   endorsed transaction
#     99      49 KB     1.9-3.2 s     0.2-0.4 s   40 KB    0.56 MB
#    198      98 KB     5.1-5.8 s     0.5 s       79 KB    1.1 MB
#    201     100 KB     4.0-7.8 s     0.5-0.9 s   81 KB    1.1 MB
#    300     148 KB     7.7-9.0 s     0.6-0.9 s  120 KB    1.7 MB
#    501     248 KB    11.6-14.9 s    1.0-1.7 s  201 KB    2.8 MB
#    999     496 KB    25.1-27.3 s    1.4-2.0 s  402 KB    5.7 MB
# Endorsing costs about 25-30 ms an event, most of it the shim's round trip to the peer for every
# state read and write (the contract's own work, on the in-memory stub, is under 2 ms an event).
# 1000 events come within a few seconds of the peer's 30 s chaincode execute timeout, and 500 pass
# the clients' 15 s endorse deadline, so the bound is 200: 4-8 s and about 1 MB, with room for a
# busier peer.
MAX_EVENTS_PER_CAPTURE = 200
# The peer passes the arguments to the chaincode twice (in the input and in the signed proposal)
# and the chaincode server accepts messages of up to 4 MB: a 2.6 MB document already broke the
# chaincode stream before the contract could see it. 1 MB keeps every document well clear.
MAX_DOCUMENT_BYTES = 1024 * 1024

_STANDARD_FIELDS = frozenset(
    "@context type eventID eventTime eventTimeZoneOffset action epcList quantityList parentID childEPCs "
    "childQuantityList inputEPCList inputQuantityList outputEPCList outputQuantityList transformationID bizStep "
    "disposition persistentDisposition readPoint bizLocation bizTransactionList sourceList destinationList "
    "sensorElementList ilmd errorDeclaration certificationInfo".split()
)
_TZ = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
# A consortium member as an EPCIS party (source/destination of type owning_party or possessing_party).
ORG_PARTY = "urn:supplychain:org:"
_MSP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PARTY_TYPES = ("owning_party", "possessing_party")
_ITEM_KINDS = (ids.SGTIN, ids.SSCC)


@dataclass(frozen=True)
class Quantity:
    """A quantity of a lot (``epcClass`` as LGTIN)."""

    lot: ids.Identifier
    quantity: float
    uom: str | None


@dataclass
class Event:
    """A validated EPCIS event: parsed identifiers beside the document as submitted."""

    doc: dict
    type: str
    event_time: str
    action: str | None = None
    event_id: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: ids.Identifier | None = None
    biz_location: ids.Identifier | None = None
    epcs: list[ids.Identifier] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    parent: ids.Identifier | None = None
    parent_uri: str | None = None
    children: list[ids.Identifier] = field(default_factory=list)
    inputs: list[ids.Identifier] = field(default_factory=list)
    input_quantities: list[Quantity] = field(default_factory=list)
    outputs: list[ids.Identifier] = field(default_factory=list)
    output_quantities: list[Quantity] = field(default_factory=list)
    sensor_reports: list[dict] = field(default_factory=list)
    ilmd: dict | None = None
    error_declaration: dict | None = None
    destination_orgs: list[str] = field(default_factory=list)

    @property
    def location(self) -> ids.Identifier | None:
        """Where the objects are after the event: the business location, else the read point."""
        return self.biz_location or self.read_point

    def objects(self) -> list[ids.Identifier]:
        """Every item, logistic unit and lot the event is about (parent first)."""
        found = [self.parent] if self.parent else []
        found += self.epcs + self.children + self.inputs + self.outputs
        found += [q.lot for q in self.quantities + self.input_quantities + self.output_quantities]
        seen: dict[str, ids.Identifier] = {}
        for ident in found:
            seen.setdefault(ident.key, ident)
        return list(seen.values())


def utc_time(value, name: str) -> str:
    """An ISO 8601 time with an offset, as UTC with milliseconds (``2026-01-05T10:00:00.000Z``, see utc_millis)."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{name} must be an ISO 8601 string")
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{name} {value!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise InvalidArgument(f"{name} {value!r} has no time zone (add Z or an offset)")
    return utc_millis(when)


def utc_millis(when: datetime.datetime) -> str:
    """``when`` in UTC with milliseconds; the third decimal is rounded up when the fourth is 5 to 9 (CBV 2.0 8.9.2)."""
    when = when.astimezone(datetime.timezone.utc)
    millis, rest = divmod(when.microsecond, 1000)
    when = when.replace(microsecond=millis * 1000) + datetime.timedelta(milliseconds=1 if rest >= 500 else 0)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _list(doc: dict, name: str) -> list:
    value = doc.get(name, [])
    if not isinstance(value, list):
        raise InvalidArgument(f"{name} must be a list")
    return value


def _identifiers(doc: dict, name: str, kinds=_ITEM_KINDS) -> list[ids.Identifier]:
    parsed = [ids.parse(v, kinds, f"{name} entry") for v in _list(doc, name)]
    keys = [p.key for p in parsed]
    if len(set(keys)) != len(keys):
        raise InvalidArgument(f"{name} lists the same identifier twice")
    return parsed


def _quantities(doc: dict, name: str) -> list[Quantity]:
    result = []
    for entry in _list(doc, name):
        if not isinstance(entry, dict) or "epcClass" not in entry or "quantity" not in entry:
            raise InvalidArgument(f"each {name} entry needs epcClass and quantity")
        lot = ids.parse(entry["epcClass"], (ids.LGTIN,), f"{name} epcClass")
        qty = entry["quantity"]
        if isinstance(qty, bool) or not isinstance(qty, (int, float)) or qty <= 0:
            raise InvalidArgument(f"{name} quantity must be a positive number")
        uom = entry.get("uom")
        if uom is not None and (not isinstance(uom, str) or not re.match(r"^[A-Z0-9]{2,3}$", uom)):
            raise InvalidArgument(f"{name} uom must be a UN/ECE Rec 20 code such as KGM or H87")
        result.append(Quantity(lot, qty, uom))
    return result


def _location(doc: dict, name: str) -> ids.Identifier | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise InvalidArgument(f"{name} must be an object with an id (urn:epc:id:sgln:...)")
    return ids.parse(value["id"], (ids.SGLN,), f"{name}.id")


def _number(report: dict, name: str):
    value = report.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidArgument(f"sensorReport {name} must be a number")
    return value


def _sensor_reports(doc: dict) -> list[dict]:
    reports = []
    for element in _list(doc, "sensorElementList"):
        if not isinstance(element, dict):
            raise InvalidArgument("sensorElementList entries must be objects")
        meta = element.get("sensorMetadata", {})
        if not isinstance(meta, dict):
            raise InvalidArgument("sensorMetadata must be an object")
        meta_time = utc_time(meta["time"], "sensorMetadata.time") if "time" in meta else None
        device = meta.get("deviceID")
        raw_reports = element.get("sensorReport")
        if not isinstance(raw_reports, list) or not raw_reports:
            raise InvalidArgument("each sensor element needs a non-empty sensorReport list")
        for report in raw_reports:
            if not isinstance(report, dict) or not isinstance(report.get("type"), str):
                raise InvalidArgument("each sensorReport needs a type such as gs1:Temperature")
            values = {n: _number(report, n) for n in ("value", "minValue", "maxValue", "meanValue")}
            if all(v is None for v in values.values()) and "stringValue" not in report and "booleanValue" not in report:
                raise InvalidArgument(f"sensorReport {report['type']} has no value, minValue, maxValue or meanValue")
            low, high = values["minValue"], values["maxValue"]
            if low is not None and high is not None and low > high:
                raise InvalidArgument(f"sensorReport {report['type']} has minValue above maxValue")
            reports.append({
                "type": report["type"].rpartition(":")[2].rpartition("/")[2],
                "time": utc_time(report["time"], "sensorReport.time") if "time" in report else meta_time,
                "deviceID": report.get("deviceID", device),
                "uom": report.get("uom"),
                "exception": report.get("exception"),
                **{k: v for k, v in values.items() if v is not None},
            })
    if len(reports) > MAX_SENSOR_REPORTS:
        raise InvalidArgument(f"an event carries at most {MAX_SENSOR_REPORTS} sensor reports")
    return reports


def _ilmd(doc: dict) -> dict | None:
    value = doc.get("ilmd")
    if value is None:
        return None
    if not isinstance(value, dict) or not value or len(value) > 50:
        raise InvalidArgument("ilmd must be an object with 1 to 50 fields")
    for key in ("lotNumber", "cbvmda:lotNumber"):
        if key in value and not isinstance(value[key], str):
            raise InvalidArgument(f"ilmd {key} must be a string")
    for key in ("layDate", "example:layDate"):
        if key in value:
            try:
                datetime.date.fromisoformat(value[key])
            except (TypeError, ValueError):
                raise InvalidArgument(f"ilmd {key} must be a date (YYYY-MM-DD)") from None
    return value


def _error_declaration(doc: dict) -> dict | None:
    value = doc.get("errorDeclaration")
    if value is None:
        return None
    if not isinstance(value, dict) or "declarationTime" not in value:
        raise InvalidArgument("errorDeclaration must be an object with a declarationTime")
    utc_time(value["declarationTime"], "errorDeclaration.declarationTime")
    corrective = value.get("correctiveEventIDs", [])
    if not isinstance(corrective, list) or not all(isinstance(c, str) and c for c in corrective):
        raise InvalidArgument("errorDeclaration.correctiveEventIDs must be a list of event IDs")
    return value


def _check_shape(event: Event, doc: dict) -> None:
    kind = event.type
    if kind == "TransformationEvent":
        if "action" in doc:
            raise InvalidArgument("TransformationEvent has no action")
        if not (event.inputs or event.input_quantities) or not (event.outputs or event.output_quantities):
            raise InvalidArgument("TransformationEvent needs inputs (inputEPCList/inputQuantityList) and outputs")
    elif event.action not in ACTIONS:
        raise InvalidArgument(f"{kind} needs action ADD, OBSERVE or DELETE")
    allowed = {
        "ObjectEvent": {"epcList", "quantityList", "ilmd"},
        "AggregationEvent": {"parentID", "childEPCs", "childQuantityList"},
        "TransformationEvent": {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                                "transformationID", "ilmd"},
        "TransactionEvent": {"epcList", "quantityList", "parentID"},
        "AssociationEvent": {"parentID", "childEPCs", "childQuantityList"},
    }[kind]
    lists = {"epcList", "quantityList", "parentID", "childEPCs", "childQuantityList", "inputEPCList",
             "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"}
    for name in lists - allowed:
        if name in doc:
            raise InvalidArgument(f"{name} is not a field of {kind}")
    if "childQuantityList" in doc:
        raise InvalidArgument("childQuantityList is not supported yet: aggregate identified items or logistic units")
    if kind == "ObjectEvent" and not (event.epcs or event.quantities):
        raise InvalidArgument("ObjectEvent needs a non-empty epcList or quantityList")
    if kind == "ObjectEvent" and event.ilmd is not None and event.action != "ADD":
        raise InvalidArgument("ilmd is allowed only when objects are created (action ADD)")
    if kind in ("AggregationEvent", "AssociationEvent") and event.action != "OBSERVE" and not doc.get("parentID"):
        raise InvalidArgument(f"{kind} with action {event.action} needs a parentID")
    if kind in ("AggregationEvent", "AssociationEvent") and event.action == "ADD" and not event.children:
        raise InvalidArgument(f"{kind} with action ADD needs childEPCs")
    if kind == "TransactionEvent" and not doc.get("bizTransactionList"):
        raise InvalidArgument("TransactionEvent needs a bizTransactionList")
    if sum(1 for _ in event.objects()) > MAX_IDENTIFIERS:
        raise InvalidArgument(f"an event names at most {MAX_IDENTIFIERS} objects")


def _biz_transactions(doc: dict) -> None:
    for entry in _list(doc, "bizTransactionList"):
        if not isinstance(entry, dict) or not isinstance(entry.get("bizTransaction"), str):
            raise InvalidArgument("each bizTransactionList entry needs a bizTransaction URI")
        if "type" in entry and not isinstance(entry["type"], str):
            raise InvalidArgument("bizTransactionList type must be a string such as po or desadv")
    for name, key in (("sourceList", "source"), ("destinationList", "destination")):
        for entry in _list(doc, name):
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("type", key)):
                raise InvalidArgument(f"each {name} entry needs a type and a {key}")


def org_party(value: str, name: str) -> str | None:
    """The MSP ID a ``urn:supplychain:org:<MSPID>`` party names; None for any other party identifier."""
    if not value.startswith(ORG_PARTY):
        return None
    msp = value[len(ORG_PARTY):]
    if not _MSP_ID.match(msp):
        raise InvalidArgument(f"{name} {value!r} must be {ORG_PARTY}<MSP ID>")
    return msp


def _destination_orgs(doc: dict) -> list[str]:
    """Members named as owning or possessing party in the destinationList (sorted, no repeats)."""
    orgs = set()
    for entry in _list(doc, "destinationList"):
        try:
            short = cbv.short_name("sourceDestType", entry["type"])
        except InvalidArgument:
            short = None  # a type outside the CBV: kept as data
        msp = org_party(entry["destination"], "destination")
        if msp and short not in PARTY_TYPES:
            raise InvalidArgument(f"destination {entry['destination']!r} is a party: its type must be "
                                  "owning_party or possessing_party")  # fmt: skip
        if msp:
            orgs.add(msp)
    return sorted(orgs)


def parse_event(text: str) -> Event:
    """Parse and validate the JSON text of one EPCIS event."""
    if len(text.encode()) > MAX_EVENT_BYTES:
        raise InvalidArgument(f"event document is larger than {MAX_EVENT_BYTES} bytes")
    return validate_event(parse_object(text, "event"))


def validate_event(doc: dict) -> Event:
    """Validate one EPCIS event already decoded from JSON (for example a member of a document's eventList)."""
    if not isinstance(doc, dict):
        raise InvalidArgument("an event must be a JSON object")
    if len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_EVENT_BYTES:
        raise InvalidArgument(f"event is larger than {MAX_EVENT_BYTES} bytes")
    if doc.get("type") not in EVENT_TYPES:
        raise InvalidArgument(f"type must be one of {', '.join(EVENT_TYPES)}")
    if "recordTime" in doc:
        raise InvalidArgument("recordTime is set by the ledger, not by the capturing party")
    unknown = sorted(k for k in doc if k not in _STANDARD_FIELDS and ":" not in k)
    if unknown:
        raise InvalidArgument(f"unknown field {unknown[0]!r} (extensions need a namespace prefix such as ex:)")
    if "eventTime" not in doc or "eventTimeZoneOffset" not in doc:
        raise InvalidArgument("eventTime and eventTimeZoneOffset are required")
    if not isinstance(doc["eventTimeZoneOffset"], str) or not _TZ.match(doc["eventTimeZoneOffset"]):
        raise InvalidArgument("eventTimeZoneOffset must look like +01:00 or -05:00")
    event_id = doc.get("eventID")
    if event_id is not None and (not isinstance(event_id, str) or ":" not in event_id or len(event_id) > 256):
        raise InvalidArgument("eventID must be a URI of at most 256 characters (ni:///, urn:uuid:, ...)")
    event = Event(doc=doc, type=doc["type"], event_time=utc_time(doc["eventTime"], "eventTime"),
                  action=doc.get("action"), event_id=event_id)  # fmt: skip
    if "bizStep" in doc:
        event.biz_step = cbv.short_name("bizStep", doc["bizStep"])
    if "disposition" in doc:
        event.disposition = cbv.short_name("disposition", doc["disposition"])
    persistent = doc.get("persistentDisposition", {})
    for name in ("set", "unset"):
        for value in persistent.get(name, []) if isinstance(persistent, dict) else [None]:
            cbv.short_name("disposition", value)
    event.read_point = _location(doc, "readPoint")
    event.biz_location = _location(doc, "bizLocation")
    event.epcs = _identifiers(doc, "epcList")
    event.quantities = _quantities(doc, "quantityList")
    event.children = _identifiers(doc, "childEPCs")
    event.inputs = _identifiers(doc, "inputEPCList")
    event.input_quantities = _quantities(doc, "inputQuantityList")
    event.outputs = _identifiers(doc, "outputEPCList")
    event.output_quantities = _quantities(doc, "outputQuantityList")
    if doc.get("parentID") is not None:
        parent = doc["parentID"]
        if event.type == "AssociationEvent":
            # An association's parent is usually an asset or a sensor (GIAI, GRAI): kept as a URI.
            if not isinstance(parent, str) or not parent.startswith(("urn:epc:id:", "https://")) or len(parent) > 256:
                raise InvalidArgument("AssociationEvent parentID must be an EPC URN or a Digital Link URI")
            event.parent_uri = parent
        else:
            event.parent = ids.parse(parent, _ITEM_KINDS, "parentID")
            if event.parent.key in {c.key for c in event.children}:
                raise InvalidArgument("parentID cannot also be one of its childEPCs")
    _biz_transactions(doc)
    event.destination_orgs = _destination_orgs(doc)
    event.sensor_reports = _sensor_reports(doc)
    event.ilmd = _ilmd(doc)
    event.error_declaration = _error_declaration(doc)
    _check_shape(event, doc)
    return event


_DOCUMENT_FIELDS = frozenset("@context type schemaVersion creationDate epcisHeader epcisBody id sender receiver "
                             "instanceIdentifier".split())  # fmt: skip


def parse_document(text: str) -> list[dict]:
    """The events of an EPCIS 2.0 ``EPCISDocument`` (or of a bare JSON array of events), in list order.

    Events inherit the document's ``@context`` when they have none of their own, so each stored
    event keeps the namespaces its extension fields use. Events are validated one by one later,
    so that an error can name the event's position.
    """
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidArgument(f"EPCIS document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise InvalidArgument(f"EPCIS document is not valid JSON: {err}") from None
    context = None
    if isinstance(doc, list):
        events = doc
    elif isinstance(doc, dict):
        if doc.get("type") != "EPCISDocument":
            raise InvalidArgument("document type must be EPCISDocument (or send a JSON array of events)")
        unknown = sorted(k for k in doc if k not in _DOCUMENT_FIELDS and ":" not in k)
        if unknown:
            raise InvalidArgument(f"unknown EPCISDocument field {unknown[0]!r}")
        if doc.get("schemaVersion") != "2.0":
            raise InvalidArgument("schemaVersion must be \"2.0\"")
        utc_time(doc.get("creationDate"), "creationDate")
        body = doc.get("epcisBody")
        if not isinstance(body, dict) or not isinstance(body.get("eventList"), list):
            raise InvalidArgument("epcisBody must be an object with an eventList")
        events, context = body["eventList"], doc.get("@context")
    else:
        raise InvalidArgument("EPCIS document must be an EPCISDocument object or a JSON array of events")
    if not events:
        raise InvalidArgument("the document has no events")
    if len(events) > MAX_EVENTS_PER_CAPTURE:
        raise LimitExceeded(f"a document carries at most {MAX_EVENTS_PER_CAPTURE} events, this one has {len(events)}")
    if context is not None:
        events = [{"@context": context, **e} if isinstance(e, dict) and "@context" not in e else e for e in events]
    return events


def describe(doc) -> str:
    """A short description of a (possibly invalid) event for error messages: type, business step, eventID."""
    if not isinstance(doc, dict):
        return "not an object"
    parts = [doc["type"] if isinstance(doc.get("type"), str) else "unknown type"]
    if isinstance(doc.get("bizStep"), str):
        parts.append(doc["bizStep"].rpartition("BizStep-")[2].rpartition("bizstep:")[2])
    if isinstance(doc.get("eventID"), str):
        parts.append(doc["eventID"][:80])
    return " ".join(parts)
