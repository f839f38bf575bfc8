"""A whole consignment on the real network: consignment note, milestones with readings, proof of delivery, and
custody of the goods reaching the consignee in provenance."""

from __future__ import annotations

import json

import pytest

from chaincode.supplychain.logistics import names
from tests.logistics.actors import CHAINCODE, CHANNEL, anchor_json, shipment_json

pytestmark = pytest.mark.fabric

ENDORSERS = ["LogisticsMSP", "ProducerMSP"]


def milestone(kind: str, place: str, geo: tuple[float, float] | None = None, readings=(), **fields) -> str:
    location = {"name": place, **({"geo": {"lat": geo[0], "lon": geo[1]}} if geo else {})}
    return json.dumps({"type": kind, "location": location, "readings": list(readings), **fields})


def temperature(value: float, unit: str = "CEL") -> dict:
    return {"type": "temperature", "value": value, "unit": unit, "deviceId": "urn:epc:id:giai:0614141.REEFER7"}


def test_a_consignment_is_signed_along_the_way_and_custody_reaches_the_consignee(actor, goods, gateway_for):
    story = goods()
    producer, carrier, retailer = actor("Producer"), actor("Logistics"), actor("Retailer")
    shipment = producer.submit("CreateShipment", shipment_json([story.case]))
    sid = shipment["id"]
    note = producer.submit("AnchorDocument", anchor_json(sid, "consignment_note"), endorsers=ENDORSERS)

    # Hand-over: the shipper signs, the carrier picks up (custody moves) and signs.
    producer.sign_document(note["id"], "shipper", ENDORSERS, {"remarks": "1 case, sealed"})
    picked = carrier.submit("RecordMilestone", sid, milestone("picked_up", "Hillside Farm", (52.1, 5.1),
                                                              [temperature(4.0)]), endorsers=ENDORSERS)  # fmt: skip
    assert picked["status"] == "picked_up"
    carrier.sign_document(note["id"], "carrier", ENDORSERS)
    departed = carrier.submit("RecordMilestone", sid, milestone("departed", "A12 services", (52.2, 5.0),
                                                                [temperature(49.3, "FAR")]), endorsers=ENDORSERS)
    assert departed["milestone"]["readings"][0]["excursion"] is True
    assert departed["milestone"]["readings"][0]["reason"] == "temperature 9.611 CEL outside 1..8"
    carrier.submit("RecordMilestone", sid, milestone("arrived", "GreenGrocer DC"), endorsers=ENDORSERS)

    # The proof of delivery: the carrier signs it; the consignee signs once the goods are delivered.
    pod = carrier.submit("AnchorDocument", anchor_json(sid, "proof_of_delivery"), endorsers=ENDORSERS)
    carrier.sign_document(pod["id"], "carrier", ENDORSERS)
    received = {"received": [{"id": story.case, "quantity": 1}], "condition": "good", "remarks": "seal intact"}
    early = retailer.sign(retailer.payload(pod["id"], "consignee", received))
    assert retailer.refused("SignDocument", pod["id"], "", early, json.dumps(received), "", endorsers=ENDORSERS) == (
        f"CONFLICT: shipment {sid} is arrived: the consignee signs the proof of delivery once it is delivered")
    delivered = carrier.submit("RecordMilestone", sid, milestone("delivered", "GreenGrocer DC dock 3"),
                               endorsers=ENDORSERS)  # fmt: skip
    assert delivered["status"] == "delivered"
    assert retailer.sign_document(note["id"], "consignee", ENDORSERS)["status"] == "signed"
    for bad, expected in (
        ({"received": [{"id": story.case, "quantity": 1}]},
         "INVALID_ARGUMENT: the consignee's proof of delivery states the condition"),
        ({"received": [{"id": story.items[0], "quantity": 1}], "condition": "good"},
         f"INVALID_ARGUMENT: {story.items[0]} is not a unit of shipment {sid}"),
        ({"received": [{"id": story.case, "quantity": -1}], "condition": "good"},
         "INVALID_ARGUMENT: received quantities are integers >= 0"),
    ):  # fmt: skip
        message = retailer.read_refused("SigningPayload", pod["id"], "", "consignee", json.dumps(bad))
        assert message.startswith(expected), message
    submitted = retailer.logistics.submit_async("SignDocument", arguments=[
        pod["id"], "", retailer.sign(retailer.payload(pod["id"], "consignee", received)), json.dumps(received), ""],
        endorsing_organizations=ENDORSERS)  # fmt: skip
    status = submitted.get_status()
    assert status.successful, status.code_name
    signed = json.loads(submitted.result)
    assert (signed["status"], signed["signatures"][1]["statement"]) == ("signed", received)
    with gateway_for("Regulator").get_network(CHANNEL).get_chaincode_events(
            CHAINCODE, start_block=status.block_number) as events:  # fmt: skip
        event = next(e for e in events if e.transaction_id == submitted.transaction_id)
    assert (event.event_name, json.loads(event.payload)) == (names.DOCUMENT_SIGNED, signed)
    retailer._settle(status.transaction_id)

    # The shipment as every party and the Regulator see it.
    for org in ("Producer", "Logistics", "Regulator"):
        seen = actor(org).read("GetShipment", sid)
        assert (seen["status"], seen["custodian"], seen["excursions"]) == ("received", "RetailerMSP", 1)
        assert [m["type"] for m in seen["milestones"]] == ["picked_up", "departed", "arrived", "delivered"]
        assert [(d["kind"], d["status"]) for d in seen["documents"]] == [("consignment_note", "signed"),
                                                                         ("proof_of_delivery", "signed")]
    assert not {note["id"], pod["id"]} & {d["id"] for d in retailer.read("Inbox", "200", "")["documents"]}

    # Provenance: the case and the eggs in it are the Retailer's, with every move and reading on record.
    for epc in [story.case, *story.items]:
        unit = json.loads(retailer.provenance.evaluate_transaction("GetObject", epc))
        assert (unit["custodian"], unit["inTransit"], unit["shippedTo"]) == ("RetailerMSP", False, None)
    history = json.loads(actor("Regulator").provenance.evaluate_transaction("ItemHistory", story.case, "50", ""))
    moves = [(e["event"]["bizStep"], e["recordedBy"]) for e in history["events"]]
    assert moves == [("packing", "ProducerMSP"), ("shipping", "ProducerMSP"), ("receiving", "LogisticsMSP"),
                     ("sensor_reporting", "LogisticsMSP"), ("sensor_reporting", "LogisticsMSP"),
                     ("shipping", "LogisticsMSP"), ("receiving", "RetailerMSP")]  # fmt: skip
    assert all(e["event"]["sc:shipment"] == sid for e in history["events"][1:])
    assert history["events"][1]["event"]["sc:geo"] == "geo:52.1,5.1"
    readings = json.loads(retailer.provenance.evaluate_transaction("Readings", story.items[0], "50", ""))
    assert [(r["value"], r["uom"], r["excursion"]) for r in readings["readings"]] == [(4.0, "CEL", False),
                                                                                     (49.3, "FAH", True)]

    # The case left the shipment: its new holder may ship it on.
    onward = retailer.submit("CreateShipment", shipment_json([story.case], shipper="RetailerMSP",
                                                             consignee="ProducerMSP"))  # fmt: skip
    assert onward["endorsers"] == ["LogisticsMSP", "RetailerMSP"]
