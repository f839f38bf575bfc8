"""Builders of EPCIS 2.0 events and product classes for the provenance tests."""

from __future__ import annotations

import json

from chaincode.supplychain.provenance.identifiers import check_digit

COMPANY = "0614141"
FARM, PACKER, CARRIER, STORE = (f"urn:epc:id:sgln:{COMPANY}.0000{n}.0" for n in (1, 2, 3, 4))
EGGS_ITEM_REF = "812345"
EGGS_GTIN = "8" + COMPANY + EGGS_ITEM_REF[1:] + check_digit("8" + COMPANY + EGGS_ITEM_REF[1:])
OMELETTE_ITEM_REF = "812346"
OMELETTE_GTIN = "8" + COMPANY + "12346" + check_digit("8" + COMPANY + "12346")


def sgtin(serial: str, item_ref: str = EGGS_ITEM_REF) -> str:
    return f"urn:epc:id:sgtin:{COMPANY}.{item_ref}.{serial}"


def sscc(serial_ref: str) -> str:
    return f"urn:epc:id:sscc:{COMPANY}.{serial_ref}"


def lgtin(lot: str, item_ref: str = EGGS_ITEM_REF) -> str:
    return f"urn:epc:class:lgtin:{COMPANY}.{item_ref}.{lot}"


def product_class(gtin: str = EGGS_GTIN, name: str = "Free-range eggs, 6", **handling) -> str:
    handling = handling or {"temperature": {"min": 1, "max": 8}, "humidity": {"min": 70, "max": 85}}
    return json.dumps({"gtin": gtin, "name": name, "producer": "ProducerMSP", "handling": handling})


def event(kind: str = "ObjectEvent", time: str = "2026-01-05T06:00:00+01:00", **fields) -> str:
    doc = {"type": kind, "eventTime": time, "eventTimeZoneOffset": time[-6:] if time[-6] in "+-" else "+00:00"}
    doc.update(fields)
    return json.dumps(doc)


def commission(epcs: list[str], lot: str = "L1", time: str = "2026-01-05T06:00:00+01:00", **fields) -> str:
    ilmd = {"lotNumber": lot, "ex:farm": "Hillside Farm", "ex:house": "H2", "ex:flock": "F-2025-11",
            "layDate": "2026-01-05"}  # fmt: skip
    return event(time=time, epcList=epcs, action="ADD", bizStep="commissioning", disposition="active",
                 readPoint={"id": FARM}, bizLocation={"id": FARM}, ilmd=ilmd, **fields)  # fmt: skip


def org(msp: str) -> str:
    """A consortium member as an EPCIS party (source or destination)."""
    return f"urn:supplychain:org:{msp}"


def ship(epcs: list[str], where: str = PACKER, time: str = "2026-01-05T09:00:00+01:00",
         to: list[tuple[str, str]] = ()) -> str:  # fmt: skip
    """A shipping event; ``to`` is its destinationList as (type, destination) pairs."""
    extra = {"destinationList": [{"type": t, "destination": d} for t, d in to]} if to else {}
    return event(time=time, epcList=epcs, action="OBSERVE", bizStep="shipping", disposition="in_transit",
                 readPoint={"id": where}, **extra)  # fmt: skip


def receive(epcs: list[str], where: str = STORE, time: str = "2026-01-05T12:00:00+01:00") -> str:
    return event(time=time, epcList=epcs, action="OBSERVE",
                 bizStep="https://ref.gs1.org/cbv/BizStep-receiving", disposition="in_progress",
                 readPoint={"id": where}, bizLocation={"id": where})  # fmt: skip


def pack(parent: str, children: list[str], time: str = "2026-01-05T08:00:00+01:00") -> str:
    return event("AggregationEvent", time=time, parentID=parent, childEPCs=children, action="ADD",
                 bizStep="packing", readPoint={"id": PACKER}, bizLocation={"id": PACKER})  # fmt: skip


def transform(inputs: list[str], outputs: list[str], lot: str, time: str = "2026-01-05T10:00:00+01:00") -> str:
    return event("TransformationEvent", time=time, inputEPCList=inputs, outputEPCList=outputs,
                 bizStep="commissioning", bizLocation={"id": PACKER},
                 ilmd={"lotNumber": lot, "ex:recipe": "plain omelette"})  # fmt: skip


def temperature(epcs: list[str], value: float, time: str = "2026-01-05T11:00:00+01:00") -> str:
    sensors = [{"sensorMetadata": {"time": time, "deviceID": "urn:epc:id:giai:0614141.T1"},
                "sensorReport": [{"type": "gs1:Temperature", "value": value, "uom": "CEL"}]}]  # fmt: skip
    return event(time=time, epcList=epcs, action="OBSERVE", bizStep="sensor_reporting", sensorElementList=sensors)


CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.org/epcis/"}]


def document(*events: str, created: str = "2026-01-05T16:00:00Z") -> str:
    """An EPCIS 2.0 EPCISDocument carrying ``events`` (JSON texts from the builders above) in order."""
    return json.dumps({"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": created,
                       "epcisBody": {"eventList": [json.loads(e) for e in events]}})  # fmt: skip
