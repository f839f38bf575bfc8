"""GS1 identifiers, EPCIS validation and the CBV 2.0 event hash, without a ledger."""

from __future__ import annotations

import json

import pytest

from chaincode.supplychain.errors import InvalidArgument
from chaincode.supplychain.provenance import cbv, identifiers as ids
from chaincode.supplychain.provenance.events import parse_event
from chaincode.supplychain.provenance.hashid import event_hash_id, pre_hash_string

from tests.chaincode.epcis import EGGS_GTIN, FARM, commission, event, sgtin, sscc


def test_gs1_check_digits_of_the_standard_examples():
    assert ids.check_digit("8061414112345") == "8"
    assert ids.parse_gtin("80614141123458") == "80614141123458"
    assert ids.parse_gtin("614141123452") == "00614141123452"
    assert ids.parse_sscc("106141412345678908") == "106141412345678908"


@pytest.mark.parametrize(
    "value, message",
    [
        ("80614141123459", r"wrong check digit \(expected 8\)"),
        ("80614141123", "GTIN must be 8, 12, 13 or 14 digits"),
        ("8061414112345x", "GTIN must be 8, 12, 13 or 14 digits"),
    ],
)
def test_bad_gtins_are_rejected_with_the_reason(value, message):
    with pytest.raises(InvalidArgument, match=message):
        ids.parse_gtin(value)


def test_urn_and_digital_link_spellings_meet_on_one_key():
    pairs = [
        ("urn:epc:id:sgtin:0614141.812345.6789", "/01/80614141123458/21/6789"),
        ("urn:epc:class:lgtin:0614141.812345.998877", "/01/80614141123458/10/998877"),
        ("urn:epc:id:sscc:0614141.1234567890", "/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.0", "/414/0614141123452"),
        ("urn:epc:id:sgln:0614141.12345.7", "/414/0614141123452/254/7"),
    ]
    for urn, path in pairs:
        assert ids.parse(urn).key == ids.parse(path).key == path
    assert ids.parse("https://example.org/01/80614141123458/10/L1/21/6789").lot_key == "/01/80614141123458/10/L1"


@pytest.mark.parametrize(
    "value, message",
    [
        ("urn:epc:id:sgtin:0614141.812345", "SGTIN URN must be"),
        ("urn:epc:id:sgtin:06141.8123451.1", "Company Prefix must be 6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141.81234.1", "must have 13 digits together"),
        ("urn:epc:id:sgtin:0614141.812345.%00", "AI encodable set"),
        ("urn:epc:id:giai:0614141.1", "unsupported EPC URN scheme"),
        ("/01/80614141123458/99/x", "unsupported Digital Link path"),
        ("/00/106141412345678901", "SSCC 106141412345678901 has a wrong check digit"),
        ("/01/80614141123458/21", "pairs of /<AI>/<value>"),
        ("epc-6789", "neither an EPC URN nor a GS1 Digital Link path"),
    ],
)
def test_malformed_identifiers_are_rejected_with_the_reason(value, message):
    with pytest.raises(InvalidArgument, match=message):
        ids.parse(value)


def test_cbv_values_accept_short_names_web_uris_and_legacy_urns():
    for spelling in ("receiving", "https://ref.gs1.org/cbv/BizStep-receiving", "urn:epcglobal:cbv:bizstep:receiving"):
        assert cbv.short_name("bizStep", spelling) == "receiving"
    with pytest.raises(InvalidArgument, match="not a CBV 2.0 value"):
        cbv.short_name("disposition", "lost_somewhere")


@pytest.mark.parametrize(
    "doc, message",
    [
        ("[]", "event must be a JSON object"),
        ("{", "not valid JSON"),
        (event("Event"), "type must be one of"),
        (event(action="ADD", epcList=[sgtin("1")], colour="red"), "unknown field 'colour'"),
        (event(action="ADD", epcList=[sgtin("1")], recordTime="2026-01-05T06:00:00Z"), "recordTime is set by"),
        (event(time="2026-01-05T06:00:00", action="ADD", epcList=[sgtin("1")]), "has no time zone"),
        (event(time="yesterday", action="ADD", epcList=[sgtin("1")]), "not an ISO 8601"),
        (event(epcList=[sgtin("1")]), "needs action ADD, OBSERVE or DELETE"),
        (event(action="ADD"), "needs a non-empty epcList or quantityList"),
        (event(action="ADD", epcList=[sgtin("1"), sgtin("1")]), "lists the same identifier twice"),
        (event(action="ADD", epcList=[FARM]), "is a sgln, expected sgtin or sscc"),
        (event(action="OBSERVE", epcList=[sgtin("1")], ilmd={"lotNumber": "L"}), "ilmd is allowed only"),
        (event(action="ADD", epcList=[sgtin("1")], bizStep="cooking"), "bizStep 'cooking' is not a CBV 2.0"),
        (event(action="ADD", epcList=[sgtin("1")], readPoint={"id": sgtin("2")}), "readPoint.id"),
        (event(action="ADD", quantityList=[{"epcClass": "urn:epc:class:lgtin:0614141.812345.L", "quantity": 0}]),
         "quantity must be a positive number"),
        (event("TransformationEvent", action="ADD", inputEPCList=[sgtin("1")]), "TransformationEvent has no action"),
        (event("TransformationEvent", inputEPCList=[sgtin("1")]), "needs inputs"),
        (event("AggregationEvent", action="ADD", childEPCs=[sgtin("1")]), "needs a parentID"),
        (event("AggregationEvent", action="ADD", parentID=sscc("1234567890")), "needs childEPCs"),
        (event("AggregationEvent", action="ADD", parentID=sscc("1234567890"), childEPCs=[sscc("1234567890")]),
         "cannot also be one of its childEPCs"),
        (event("TransactionEvent", action="ADD", epcList=[sgtin("1")]), "needs a bizTransactionList"),
        (event(action="OBSERVE", epcList=[sgtin("1")],
               sensorElementList=[{"sensorReport": [{"type": "gs1:Humidity"}]}]),
         "gs1:Humidity has no value"),
        (event(action="ADD", epcList=[sgtin("1")], errorDeclaration={"reason": "x"}), "with a declarationTime"),
    ],
)
def test_invalid_events_are_rejected_with_the_reason(doc, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_event(doc)


def test_the_event_hash_ignores_spelling_and_order_but_not_content():
    base = json.loads(commission([sgtin("1"), sgtin("2")]))
    respelled = dict(
        base,
        epcList=["/01/80614141123458/21/2", sgtin("1")],
        bizStep="urn:epcglobal:cbv:bizstep:commissioning",
        eventTime="2026-01-05T05:00:00.000Z",
        eventID="urn:uuid:4f2c5e1a-0000-4000-8000-000000000001",
    )
    first, second = parse_event(json.dumps(base)), parse_event(json.dumps(respelled))
    assert event_hash_id(first) == event_hash_id(second)
    assert event_hash_id(first).startswith("ni:///sha-256;") and event_hash_id(first).endswith("?ver=CBV2.0")
    assert pre_hash_string(first).startswith("eventType=ObjectEventeventTime=2026-01-05T05:00:00.000Z")
    assert f"epc=https://id.gs1.org/01/{EGGS_GTIN}/21/1" in pre_hash_string(first)
    changed = parse_event(json.dumps(dict(base, disposition="damaged")))
    assert event_hash_id(changed) != event_hash_id(first)
