"""The demo story, recorded through the domain layer as each organisation's admin.

Hillside Farm (Producer) registers its products; hens of flock F-2026-03 in house H2 lay eggs (two eggs come from
tagged hen H2-0417); the eggs are graded and packed into cartons (a transformation), cartons into two cases and the
cases onto a pallet. The pallet is shipped cold to FreshWay Logistics, whose reefer logs temperatures (one reading
is above 8 °C: an excursion), and delivered to GreenGrocer (Retailer), who receives it and sells a carton. A second
lot, from another house, is recalled by the Producer. Carton C004's code is verified in the shop and then in a
city the carton never reached: a suspected copy. Idempotent: a ledger that already has the story is left as is.
"""

from __future__ import annotations

from .ledger import LedgerError, ProvenanceLedger

COMPANY = "0614141"
EGG_REF, CARTON_REF = "000001", "000002"  # indicator digit 0, then the item reference
FARM, PACKHOUSE, DEPOT, STORE = (f"urn:epc:id:sgln:{COMPANY}.{n:05d}.0" for n in (1, 2, 3, 4))
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


def _temperature(epcs: list[str], time: str, value: float) -> dict:
    when = f"2026-03-{time}+01:00"
    return _event("ObjectEvent", time, epcList=epcs, action="OBSERVE", bizStep="sensor_reporting",
                  sensorElementList=[{"sensorMetadata": {"time": when, "deviceID": "urn:epc:id:giai:0614141.REEFER7"},
                                      "sensorReport": [{"type": "gs1:Temperature", "value": value, "uom": "CEL"}]}],
                  **_at(DEPOT))  # fmt: skip


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
    shipping = _event("ObjectEvent", "02T12:00:00", epcList=[PALLET], action="OBSERVE", bizStep="shipping",
                      disposition="in_transit", **_at(PACKHOUSE))  # fmt: skip
    other = [egg(f"H5-{n:03d}") for n in range(1, 7)]
    return [laid + [grading] + packing + [loading, shipping], [laying(RECALLED_LOT, "H5", other, None, "02T07:30:00")]]


def carrier_documents() -> list[dict]:
    """What FreshWay Logistics records: receipt, reefer temperatures (one excursion), delivery."""
    return [
        _event("ObjectEvent", "02T13:00:00", epcList=[PALLET], action="OBSERVE", bizStep="receiving",
               disposition="in_progress", **_at(DEPOT)),
        _temperature([PALLET], "02T14:00:00", 4.2),
        _temperature([PALLET], "02T16:00:00", 9.6),
        _temperature([PALLET], "02T18:00:00", 5.1),
        _event("ObjectEvent", "02T19:00:00", epcList=[PALLET], action="OBSERVE", bizStep="shipping",
               disposition="in_transit", **_at(DEPOT)),
    ]  # fmt: skip


def retailer_documents() -> list[dict]:
    """What GreenGrocer records: receipt of the pallet and the sale of one carton."""
    return [
        _event("ObjectEvent", "02T21:00:00", epcList=[PALLET], action="OBSERVE", bizStep="receiving",
               disposition="in_progress", **_at(STORE)),
        _event("ObjectEvent", "03T09:15:00", epcList=[CARTONS[0]], action="OBSERVE", bizStep="retail_selling",
               disposition="retail_sold", **_at(STORE)),
    ]  # fmt: skip


def seed(ledgers: dict[str, ProvenanceLedger]) -> list[str]:
    """Record the story; ``ledgers`` maps organisation name to its admin's ledger. Returns what was done."""
    producer = ledgers["Producer"]
    try:
        producer.product(CARTON_GTIN)
        return ["demo data already on the ledger"]
    except LedgerError as err:
        if err.code != "NOT_FOUND":
            raise
    producer.register_product({"gtin": EGG_GTIN, "name": "Free-range egg, Hillside Farm",
                               "handling": {"temperature": {"min": 1, "max": 8}}})  # fmt: skip
    producer.register_product({"gtin": CARTON_GTIN, "name": "Free-range eggs, carton of 6, grade A",
                               "handling": {"temperature": {"min": 1, "max": 8}}})  # fmt: skip
    done = ["registered 2 product classes"]
    for document in producer_documents():
        done.append(f"Producer captured {len(producer.capture(document))} events")
    done.append(f"Logistics captured {len(ledgers['Logistics'].capture(carrier_documents()))} events")
    done.append(f"Retailer captured {len(ledgers['Retailer'].capture(retailer_documents()))} events")
    producer.recall(f"urn:epc:class:lgtin:{COMPANY}.{EGG_REF}.{RECALLED_LOT}", "Salmonella found in house H5")
    done.append(f"Producer recalled lot {RECALLED_LOT}")
    # Carton C004 is checked on the shop floor, then the same serial in a city its custody never reached.
    ledgers["Retailer"].record_scan(CARTONS[3], STORE)
    ledgers["Logistics"].record_scan(CARTONS[3], CLONE_GEO)
    done.append("carton C004 verified at the shop and, with no custody move since, in another city: a suspected copy")
    return done
