"""The demo story, recorded through the domain layer as each organisation's admin.

Hillside Farm (Producer) registers its products; hens of flock F-2026-03 in house H2 lay eggs (two eggs come from
tagged hen H2-0417); the eggs are graded and packed into cartons (a transformation), cartons into two cases and the
cases onto a pallet. The pallet goes as shipment SHP-2026-0001 from Hillside Farm through FreshWay Logistics to
GreenGrocer (Retailer): the farm issues a consignment note, which the farm, the carrier at pick-up and the store at
delivery sign; the carrier records its milestones with coordinates and its reefer's temperatures (one reading is
above 8 °C: an excursion); at the store the carrier and the store sign the proof of delivery, with the quantity
received and the condition, which hands the pallet to the store; the store sells a carton. A second lot, from
another house, is recalled by the Producer. Carton C004's code is verified in the shop and then in a city the carton
never reached: a suspected copy. Idempotent: a ledger that already has the story is left as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from .documents import DocumentStore, inspect
from .ledger import LedgerError, LogisticsLedger, ProvenanceLedger

COMPANY = "0614141"
EGG_REF, CARTON_REF = "000001", "000002"  # indicator digit 0, then the item reference
FARM, PACKHOUSE, STORE = (f"urn:epc:id:sgln:{COMPANY}.{n:05d}.0" for n in (1, 2, 4))
CLONE_GEO = "geo:41.3874,2.1686"  # where a copy of carton C004's code is verified: a city the carton never reached
LAID, LOT, RECALLED_LOT = "2026-03-02", "EGG-2026-03-02-H2", "EGG-2026-03-02-H5"


def _gtin(ref: str) -> str:
    body = ref[0] + COMPANY + ref[1:]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


EGG_GTIN, CARTON_GTIN = _gtin(EGG_REF), _gtin(CARTON_REF)


def egg(serial: str) -> str:
    return f"urn:epc:id:sgtin:{COMPANY}.{EGG_REF}.{serial}"


def carton(serial: str) -> str:
    return f"urn:epc:id:sgtin:{COMPANY}.{CARTON_REF}.{serial}"


def sscc(ref: str) -> str:
    return f"urn:epc:id:sscc:{COMPANY}.{ref}"


CASES, PALLET = [sscc("0000000011"), sscc("0000000012")], sscc("0000000099")
CARTONS = [carton(f"C{n:03d}") for n in range(1, 5)]


def _event(kind: str, time: str, **fields) -> dict:
    return {"type": kind, "eventTime": f"2026-03-{time}+01:00", "eventTimeZoneOffset": "+01:00", **fields}


def _at(where: str) -> dict:
    return {"readPoint": {"id": where}, "bizLocation": {"id": where}}


def laying(lot: str, house: str, eggs: list[str], hen: str | None, time: str) -> dict:
    ilmd = {"lotNumber": lot, "ex:farm": "Hillside Farm", "ex:house": house, "ex:flock": f"F-2026-03-{house}",
            "ex:layDate": LAID, **({"ex:hen": hen} if hen else {})}  # fmt: skip
    return _event("ObjectEvent", time, epcList=eggs, action="ADD", bizStep="commissioning", disposition="active",
                  ilmd=ilmd, **_at(FARM))  # fmt: skip


def producer_documents() -> list[list[dict]]:
    """What Hillside Farm records, as documents captured one transaction each."""
    tagged, untagged = [egg(f"H2-{n:03d}") for n in (1, 2)], [egg(f"H2-{n:03d}") for n in range(3, 25)]
    laid = [laying(LOT, "H2", tagged, "H2-0417", "02T07:00:00"), laying(LOT, "H2", untagged, None, "02T07:05:00")]
    grading = _event("TransformationEvent", "02T10:00:00", inputEPCList=tagged + untagged, outputEPCList=CARTONS,
                     bizStep="commissioning", ilmd={"lotNumber": "CTN-2026-03-02", "ex:grade": "A", "ex:size": "M"},
                     **_at(PACKHOUSE))  # fmt: skip
    packing = [_event("AggregationEvent", "02T11:00:00", parentID=CASES[i], childEPCs=CARTONS[2 * i:2 * i + 2],
                      action="ADD", bizStep="packing", **_at(PACKHOUSE)) for i in range(2)]  # fmt: skip
    loading = _event("AggregationEvent", "02T11:30:00", parentID=PALLET, childEPCs=CASES, action="ADD",
                     bizStep="loading", **_at(PACKHOUSE))  # fmt: skip
    other = [egg(f"H5-{n:03d}") for n in range(1, 7)]
    return [laid + [grading] + packing + [loading], [laying(RECALLED_LOT, "H5", other, None, "02T07:30:00")]]


SHIPMENT = "SHP-2026-0001"
PLACES = {  # name, latitude, longitude
    "packhouse": ("Hillside Farm packhouse", 52.2053, 0.1218),
    "junction": ("A14 junction 33", 52.2330, 0.1770),
    "crossdock": ("FreshWay cross-dock, Harlow", 51.7727, 0.1020),
    "store": ("GreenGrocer, Farringdon", 51.5203, -0.1050),
}


def _place(key: str) -> dict:
    name, lat, lon = PLACES[key]
    return {"name": name, "geo": {"lat": lat, "lon": lon}}


def _reading(time: str, value: float) -> dict:
    return {"type": "temperature", "value": value, "unit": "CEL", "time": f"2026-03-{time}+01:00",
            "deviceId": "urn:epc:id:giai:0614141.REEFER7"}  # fmt: skip


def shipment() -> dict:
    """The pallet's shipment: farm to store through FreshWay, kept between 1 and 8 °C."""
    return {"id": SHIPMENT, "shipper": "ProducerMSP", "carriers": ["LogisticsMSP"], "consignee": "RetailerMSP",
            "origin": _place("packhouse"), "destination": _place("store"), "units": [PALLET],
            "handling": {"temperature": {"min": 1, "max": 8, "unit": "CEL"}}}  # fmt: skip


def milestones() -> list[dict]:
    """What FreshWay Logistics records on the way: reefer temperatures, one above 8 °C."""
    return [
        {"type": "picked_up", "location": _place("packhouse"), "readings": [_reading("02T13:00:00", 4.2)]},
        {"type": "departed", "location": _place("junction"), "note": "reefer door alarm at loading",
         "readings": [_reading("02T14:00:00", 5.0), _reading("02T16:00:00", 9.6)]},
        {"type": "arrived", "location": _place("crossdock"), "readings": [_reading("02T18:00:00", 5.1)]},
        {"type": "departed", "location": _place("crossdock")},
        {"type": "delivered", "location": _place("store"), "readings": [_reading("02T21:00:00", 4.8)]},
    ]  # fmt: skip


def consignment_note() -> bytes:
    """The consignment note, as JSON in the spirit of an e-CMR."""
    return json.dumps({
        "type": "consignment note", "number": "CMR-2026-0001", "shipment": SHIPMENT,
        "sender": "Hillside Farm, ProducerMSP", "carrier": "FreshWay Logistics, LogisticsMSP",
        "consignee": "GreenGrocer, RetailerMSP", "takingOver": PLACES["packhouse"][0], "delivery": PLACES["store"][0],
        "goods": [{"sscc": PALLET, "description": "Free-range eggs: 2 cases of 2 cartons of 6", "packages": 1}],
        "instructions": "Keep between 1 and 8 °C",
    }, indent=2).encode()  # fmt: skip


def proof_of_delivery() -> bytes:
    """The proof of delivery the carrier hands over at the store."""
    return json.dumps({"type": "proof of delivery", "shipment": SHIPMENT, "consignmentNote": "CMR-2026-0001",
                       "deliveredAt": PLACES["store"][0], "units": [PALLET]}, indent=2).encode()  # fmt: skip


def retailer_documents() -> list[dict]:
    """What GreenGrocer records once the pallet is its own: the sale of one carton."""
    return [
        _event("ObjectEvent", "03T09:15:00", epcList=[CARTONS[0]], action="OBSERVE", bizStep="retail_selling",
               disposition="retail_sold", **_at(STORE)),
    ]  # fmt: skip


@dataclass
class Member:
    """One organisation as its admin: both contracts, the admin's key (account signing), the document store."""

    provenance: ProvenanceLedger
    logistics: LogisticsLedger
    key: ec.EllipticCurvePrivateKey
    store: DocumentStore

    def anchor(self, kind: str, data: bytes) -> dict:
        """Check, anchor and keep a JSON document of the demo shipment; its version record."""
        checked = inspect(data, "application/json", None, max_bytes=len(data), allowed_types=["application/json"])
        document = {"shipment": SHIPMENT, "kind": kind, "sha256": checked.sha256, "contentType": checked.content_type,
                    "size": checked.size, "filename": f"{kind.replace('_', '-')}.json"}  # fmt: skip
        with self.store.staged(checked.data) as staged:
            record = self.logistics.anchor_document(document)
            staged.commit()
        return record

    def sign(self, record: dict, statement: dict | None = None) -> dict:
        """Sign the document version with the admin's account key."""
        return self.logistics.sign_with_key(record["id"], record["version"], self.key, statement or {})


def seed(members: dict[str, Member]) -> list[str]:
    """Record the story; ``members`` maps organisation name to what its admin uses. Returns what was done."""
    producer, carrier, store = members["Producer"], members["Logistics"], members["Retailer"]
    try:
        producer.provenance.product(CARTON_GTIN)
        return ["demo data already on the ledger"]
    except LedgerError as err:
        if err.code != "NOT_FOUND":
            raise
    producer.provenance.register_product({"gtin": EGG_GTIN, "name": "Free-range egg, Hillside Farm",
                                          "handling": {"temperature": {"min": 1, "max": 8}}})  # fmt: skip
    producer.provenance.register_product({"gtin": CARTON_GTIN, "name": "Free-range eggs, carton of 6, grade A",
                                          "handling": {"temperature": {"min": 1, "max": 8}}})  # fmt: skip
    done = ["registered 2 product classes"]
    for document in producer_documents():
        done.append(f"Producer captured {len(producer.provenance.capture(document))} events")
    producer.logistics.create_shipment(shipment())
    note = producer.anchor("consignment_note", consignment_note())
    producer.sign(note, {"remarks": "1 pallet, 2 cases, sealed"})
    done.append(f"Producer created shipment {SHIPMENT} and signed its consignment note")
    steps = milestones()
    carrier.logistics.record_milestone(SHIPMENT, steps[0])
    carrier.sign(note, {"remarks": "picked up at 13:00, seal 44120 intact"})
    for step in steps[1:]:
        carrier.logistics.record_milestone(SHIPMENT, step)
    done.append(f"Logistics signed the consignment note and recorded {len(steps)} milestones (one excursion)")
    store.sign(note, {"remarks": "delivered 21:00"})
    pod = carrier.anchor("proof_of_delivery", proof_of_delivery())
    carrier.sign(pod)
    store.sign(pod, {"condition": "good", "received": [{"id": PALLET, "quantity": 1}],
                     "remarks": "2 cases, 4 cartons, seals intact"})  # fmt: skip
    done.append("Logistics and Retailer signed the proof of delivery: the pallet is the Retailer's")
    done.append(f"Retailer captured {len(store.provenance.capture(retailer_documents()))} events")
    producer.provenance.recall(f"urn:epc:class:lgtin:{COMPANY}.{EGG_REF}.{RECALLED_LOT}", "Salmonella found in house H5")
    done.append(f"Producer recalled lot {RECALLED_LOT}")
    # Carton C004 is checked on the shop floor, then the same serial in a city its custody never reached.
    store.provenance.record_scan(CARTONS[3], STORE)
    carrier.provenance.record_scan(CARTONS[3], CLONE_GEO)
    done.append("carton C004 verified at the shop and, with no custody move since, in another city: a suspected copy")
    return done
