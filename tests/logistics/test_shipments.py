"""Shipments on the real network: who creates and reads them, key-level endorsement, and milestone rules."""

from __future__ import annotations

import json

import pytest

from app.fabric import CommitError
from tests.logistics.actors import anchor_json, shipment_json

pytestmark = pytest.mark.fabric

ENDORSERS = ["LogisticsMSP", "ProducerMSP"]


def milestone(kind: str, place: str = "Hillside Farm gate", **fields) -> str:
    return json.dumps({"type": kind, "location": {"name": place}, **fields})


def pages(reader, function: str, field: str) -> list[dict]:
    """Every entry of a paginated list."""
    found, bookmark = [], ""
    while True:
        page = reader.read(function, "200", bookmark)
        found += page[field]
        bookmark = page["bookmark"]
        if not bookmark:
            return found


def test_the_shipper_creates_a_shipment_that_every_party_and_the_regulator_read(actor, goods):
    story = goods()
    record = actor("Producer").submit("CreateShipment", shipment_json([story.case]))
    assert (record["status"], record["endorsers"], record["custodian"]) == ("created", ENDORSERS, "ProducerMSP")
    assert (record["milestones"], record["exceptions"], record["documents"]) == (0, 0, {})
    assert record["unitKeys"] == [json.loads(actor("Producer").provenance.evaluate_transaction("GetObject",
                                                                                       story.case))["id"]]
    for org in ("Retailer", "Logistics", "Regulator"):
        seen = actor(org).read("GetShipment", record["id"])
        assert (seen["id"], seen["milestones"], seen["documents"]) == (record["id"], [], [])
        assert seen["endorsementPolicy"] == ENDORSERS  # the key's VALIDATION_PARAMETER, read back from the peer
        assert record["id"] in {s["id"] for s in pages(actor(org), "ListShipments", "shipments")}


def test_a_shipment_write_endorsed_by_only_one_of_its_endorsers_is_invalidated(actor, goods):
    story = goods()
    producer, carrier = actor("Producer"), actor("Logistics")
    shipment = producer.submit("CreateShipment", shipment_json([story.case]))
    before = producer.read("GetShipment", shipment["id"])
    unit_before = producer.provenance.evaluate_transaction("GetObject", story.case)
    # Two of the three members satisfy the chaincode's policy, but not the shipment's own: the carrier is missing.
    with pytest.raises(CommitError) as err:
        producer.submit("AnchorDocument", anchor_json(shipment["id"], "bill_of_lading"),
                        endorsers=["ProducerMSP", "RetailerMSP"])  # fmt: skip
    assert err.value.code_name == "ENDORSEMENT_POLICY_FAILURE"
    with pytest.raises(CommitError) as err:
        carrier.submit("RecordMilestone", shipment["id"], milestone("picked_up"), endorsers=["LogisticsMSP",
                                                                                              "RetailerMSP"])
    assert err.value.code_name == "ENDORSEMENT_POLICY_FAILURE"
    for org in ("Producer", "Retailer", "Logistics"):
        assert actor(org).read("GetShipment", shipment["id"]) == before
    assert producer.provenance.evaluate_transaction("GetObject", story.case) == unit_before
    # Endorsed by both, the same writes commit.
    assert producer.submit("AnchorDocument", anchor_json(shipment["id"], "bill_of_lading"), endorsers=ENDORSERS)
    assert carrier.submit("RecordMilestone", shipment["id"], milestone("picked_up"), endorsers=ENDORSERS)


def test_a_shipper_carrying_its_own_goods_needs_the_consignee_to_endorse(actor, goods):
    story = goods()
    producer = actor("Producer")
    shipment = producer.submit("CreateShipment", shipment_json([story.case], carriers=["ProducerMSP"]))
    assert shipment["endorsers"] == ["ProducerMSP", "RetailerMSP"]
    assert producer.read("GetShipment", shipment["id"])["endorsementPolicy"] == ["ProducerMSP", "RetailerMSP"]
    # Logistics is no party to it: it cannot read it; the Regulator can.
    message = actor("Logistics").refused("AnchorDocument", anchor_json(shipment["id"], "delivery_note"))
    assert message == f"FORBIDDEN: LogisticsMSP is not a party to shipment {shipment['id']}; its parties anchor its documents"
    assert actor("Logistics").read_refused("GetShipment", shipment["id"]) == (
        f"FORBIDDEN: LogisticsMSP is not a party to shipment {shipment['id']}")
    assert actor("Regulator").read("GetShipment", shipment["id"])["id"] == shipment["id"]
    assert shipment["id"] not in {s["id"] for s in pages(actor("Logistics"), "ListShipments", "shipments")}
    with pytest.raises(CommitError) as err:
        producer.submit("RecordMilestone", shipment["id"], milestone("picked_up"), endorsers=["ProducerMSP",
                                                                                              "LogisticsMSP"])
    assert err.value.code_name == "ENDORSEMENT_POLICY_FAILURE"


def test_creating_a_shipment_is_refused_with_a_specific_reason_and_writes_nothing(actor, goods):
    story = goods()
    producer, retailer = actor("Producer"), actor("Retailer")
    taken = producer.submit("CreateShipment", shipment_json([story.items[0]]))
    attempt = "SHP-refused-" + story.lot
    cases = [
        (retailer, shipment_json([story.case], attempt), "FORBIDDEN: a shipment is created by its shipper ProducerMSP"),
        (actor("Regulator"), shipment_json([story.case], attempt), "FORBIDDEN: the Regulator writes nothing"),
        (actor("Producer", "auditor"), shipment_json([story.case], attempt), "FORBIDDEN: identities with role=auditor"),
        (producer, shipment_json([story.case], attempt, consignee="ProducerMSP"),
         "INVALID_ARGUMENT: the consignee must be another organisation"),
        (producer, shipment_json([story.case], attempt, carriers=["RegulatorMSP"]), "INVALID_ARGUMENT: each carrier"),
        (producer, shipment_json([story.case], "bad id!"), "INVALID_ARGUMENT: shipment id must be"),
        (producer, shipment_json([story.case + "9"], attempt), "INVALID_ARGUMENT: units[0]: SSCC URN"),
        (producer, shipment_json([story.case[:-1] + str((int(story.case[-1]) + 1) % 10)], attempt),
         "NOT_FOUND: unit"),
        (producer, shipment_json([story.case, story.items[0]], attempt),
         f"CONFLICT: unit {story.items[0]} is already in shipment {taken['id']}"),
        (producer, shipment_json([story.case], taken["id"]), f"CONFLICT: shipment {taken['id']} already exists"),
        (retailer, shipment_json([story.case], attempt, shipper="RetailerMSP", consignee="ProducerMSP"),
         f"FORBIDDEN: unit {story.case} is held by ProducerMSP, not by the shipper RetailerMSP"),
    ]  # fmt: skip
    for who, doc, expected in cases:
        message = who.refused("CreateShipment", doc)
        assert message.startswith(expected), (expected, message)
    for org in ("Producer", "Regulator"):
        assert actor(org).read_refused("GetShipment", attempt) == f"NOT_FOUND: no shipment {attempt}"
    # The case was never claimed: a shipment may still take it.
    assert producer.submit("CreateShipment", shipment_json([story.case], attempt))["units"] == [story.case]


def test_milestones_follow_the_goods_in_order_and_only_from_the_carrier(actor, goods):
    story = goods()
    producer, carrier = actor("Producer"), actor("Logistics")
    shipment = producer.submit("CreateShipment", shipment_json([story.case]))
    sid = shipment["id"]
    reading = {"type": "temperature", "value": 4.5}
    refusals = [
        (producer, milestone("picked_up"), "FORBIDDEN: only a carrier of shipment"),
        (actor("Regulator"), milestone("picked_up"), "FORBIDDEN: the Regulator writes nothing"),
        (actor("Logistics", "auditor"), milestone("picked_up"), "FORBIDDEN: identities with role=auditor"),
        (carrier, milestone("departed"), (f"CONFLICT: shipment {sid} is created: a departed milestone comes only "
                                          "when it is picked_up or arrived")),
        (carrier, milestone("delivered"), "CONFLICT: "),
        (carrier, milestone("exception", readings=[reading]),
         f"FORBIDDEN: readings are reported by the carrier holding the goods of {sid} (now ProducerMSP)"),
        (carrier, milestone("landed"), "INVALID_ARGUMENT: milestone type must be one of"),
        (carrier, json.dumps({"type": "picked_up", "location": {"name": ""}}), "INVALID_ARGUMENT: location.name"),
        (carrier, milestone("picked_up", readings=[{"type": "temperature", "value": "cold"}]),
         "INVALID_ARGUMENT: readings[0].value must be a number"),
        (carrier, milestone("picked_up", readings=[{**reading, "time": "2099-01-01T00:00:00Z"}]),
         "INVALID_ARGUMENT: readings[0].time 2099-01-01T00:00:00.000Z is later than the transaction time"),
    ]  # fmt: skip
    for who, doc, expected in refusals:
        message = who.refused("RecordMilestone", sid, doc, endorsers=ENDORSERS)
        assert message.startswith(expected), (expected, message)
    assert producer.read("GetShipment", sid)["milestones"] == []
    exception = carrier.submit("RecordMilestone", sid, milestone("exception", note="truck late"), endorsers=ENDORSERS)
    assert (exception["status"], exception["milestone"]["events"]) == ("created", [])
    picked = carrier.submit("RecordMilestone", sid, milestone("picked_up", readings=[reading]), endorsers=ENDORSERS)
    assert (picked["status"], len(picked["milestone"]["events"])) == ("picked_up", 3)
    assert carrier.refused("RecordMilestone", sid, milestone("picked_up"), endorsers=ENDORSERS).startswith(
        f"CONFLICT: shipment {sid} is picked_up: a picked_up milestone comes only when it is created")
    state = producer.read("GetShipment", sid)
    assert (state["status"], state["custodian"], state["exceptions"]) == ("picked_up", "LogisticsMSP", 1)
    assert [m["type"] for m in state["milestones"]] == ["exception", "picked_up"]
    unit = json.loads(producer.provenance.evaluate_transaction("GetObject", story.case))
    assert (unit["custodian"], unit["inTransit"]) == ("LogisticsMSP", False)
