"""The provenance contract on the real network: every call is endorsed, ordered and committed by real peers."""

from __future__ import annotations

import json
import random

import pytest

from app.fabric import GatewayError
from chaincode.supplychain.provenance.identifiers import check_digit, parse
from chaincode.supplychain.provenance import names
from tests.chaincode.epcis import (COMPANY, CARRIER, commission, document, lgtin, org, pack, product_class, receive,
                                   sgtin, ship, sscc, transform)  # fmt: skip
from tests.helpers import eventually

pytestmark = pytest.mark.fabric

CHANNEL, CHAINCODE, CONTRACT = "supplychain", "supplychain", "provenance"
# Fresh item references per run, so the module never depends on what an earlier run left on the ledger.
EGGS_REF, OMELETTE_REF = (f"8{random.randrange(10_000, 100_000)}" for _ in range(2))
SERIAL_REF, DOCUMENT_REF, FAILED_REF = (f"{n}{random.randrange(100_000_000, 1_000_000_000)}" for n in (9, 8, 7))


def gtin(item_ref: str) -> str:
    body = item_ref[0] + COMPANY + item_ref[1:]
    return body + check_digit(body)


@pytest.fixture(scope="module")
def orgs(gateway_for):
    """The provenance contract as seen from each organisation's gateway."""
    names = ("Producer", "Retailer", "Logistics", "Regulator")
    return {n: gateway_for(n).get_network(CHANNEL).get_contract(CHAINCODE, CONTRACT) for n in names}


@pytest.fixture(scope="module")
def eggs(orgs):
    """Two eggs commissioned by the Producer, with both product classes registered."""
    producer = orgs["Producer"]
    producer.submit_transaction("RegisterProductClass", product_class(gtin(EGGS_REF)))
    producer.submit_transaction("RegisterProductClass", product_class(gtin(OMELETTE_REF), "Omelette"))
    producer.submit_transaction("CaptureEvent", commission([sgtin("1", EGGS_REF), sgtin("2", EGGS_REF)], lot="NL1"))
    return [sgtin("1", EGGS_REF), sgtin("2", EGGS_REF)]


def read(contract, function: str, *args: str) -> dict:
    return json.loads(contract.evaluate_transaction(function, *args))


def refused(contract, function: str, *args: str) -> str:
    with pytest.raises(GatewayError) as err:
        contract.submit_transaction(function, *args)
    return err.value.chaincode_message


def read_when(contract, function: str, *args: str, until) -> dict:
    """Read from ``contract``'s peer once it has committed what ``until`` looks for (see tests.helpers)."""

    def check() -> dict:
        result = read(contract, function, *args)
        assert until(result), result
        return result

    return eventually(check)


def test_the_producer_commissions_and_every_organisation_sees_it(orgs, eggs):
    for name in ("Retailer", "Logistics", "Regulator"):
        verdict = read_when(orgs[name], "Verify", eggs[0], until=lambda v: v["genuine"])
        assert verdict["custodian"] == "ProducerMSP"
        assert verdict["origin"]["ilmd"]["ex:farm"] == "Hillside Farm"


def test_the_retailer_cannot_commission(orgs, eggs):
    message = refused(orgs["Retailer"], "CaptureEvent", commission([sgtin("3", EGGS_REF)], lot="NL1"))
    assert message.startswith("FORBIDDEN: only ProducerMSP members commission")
    assert read(orgs["Regulator"], "Verify", sgtin("3", EGGS_REF))["genuine"] is False


def test_a_rejected_write_changes_nothing(orgs, eggs):
    before = eventually(lambda: read(orgs["Regulator"], "GetObject", eggs[1]))
    history = read(orgs["Regulator"], "ItemHistory", eggs[1], "50", "")
    assert refused(orgs["Retailer"], "CaptureEvent", ship([eggs[1]])).startswith("FORBIDDEN: ")
    assert refused(orgs["Regulator"], "CaptureEvent", ship([eggs[1]])).startswith("FORBIDDEN: the Regulator")
    assert read(orgs["Regulator"], "GetObject", eggs[1]) == before
    assert read(orgs["Regulator"], "ItemHistory", eggs[1], "50", "") == history


def test_shipping_and_receiving_move_custody(orgs, eggs):
    case = sscc(SERIAL_REF)
    orgs["Producer"].submit_transaction("CaptureEvent", pack(case, [eggs[0]]))
    orgs["Producer"].submit_transaction("CaptureEvent", ship([case]))
    # The Retailer's own peer must have the shipment before the Retailer can receive it.
    read_when(orgs["Retailer"], "GetObject", eggs[0], until=lambda s: s["inTransit"] is True)
    orgs["Retailer"].submit_transaction("CaptureEvent", receive([case]))
    for epc in (case, eggs[0]):
        state = read_when(orgs["Logistics"], "GetObject", epc, until=lambda s: not s["inTransit"])
        assert (state["custodian"], state["inTransit"]) == ("RetailerMSP", False)
    upstream = read_when(orgs["Regulator"], "TraceUpstream", case, until=lambda u: u["edges"])
    assert ("contains", "lot") == tuple(sorted({e["relation"] for e in upstream["edges"]}))
    assert upstream["origins"][0]["ilmd"]["ex:flock"] == "F-2025-11"


def test_transformation_lineage_recall_and_verify(orgs, eggs):
    omelette = sgtin("1", OMELETTE_REF)
    orgs["Producer"].submit_transaction("CaptureEvent", transform([eggs[1]], [omelette], "NOM1"))
    upstream = read_when(orgs["Retailer"], "TraceUpstream", omelette,
                         until=lambda u: any(e["relation"] == "input" for e in u["edges"]))  # fmt: skip
    assert upstream["nodes"]
    lot = lgtin("NL1", EGGS_REF)
    omelette_path = f"/01/{gtin(OMELETTE_REF)}/21/1"
    for name in ("Regulator", "Logistics"):  # every possible endorser of the recall has the transformation
        read_when(orgs[name], "TraceDownstream", lot, until=lambda d: omelette_path in {n["id"] for n in d["nodes"]})
    assert refused(orgs["Retailer"], "Recall", lot, "salmonella").startswith("FORBIDDEN: ")
    recall = json.loads(orgs["Regulator"].submit_transaction("Recall", lot, "salmonella"))
    assert omelette_path in recall["flagged"] and recall["by"] == "RegulatorMSP"
    verdict = read_when(orgs["Retailer"], "Verify", omelette_path, until=lambda v: v["recalled"])
    assert verdict["genuine"] and verdict["recall"]["reason"] == "salmonella"
    assert read_when(orgs["Retailer"], "Verify", eggs[0], until=lambda v: v["recalled"])["recalled"] is True


def test_the_contract_reads_attributes_from_real_fabric_ca_certificates(orgs):
    who = read(orgs["Regulator"], "WhoAmI")
    assert (who["mspId"], who["enrollmentId"], who["canWrite"]) == ("RegulatorMSP", "User1", False)


def test_a_document_commits_atomically_with_one_chaincode_event(orgs, eggs, gateway_for):
    items, case = [sgtin(f"D{i}", EGGS_REF) for i in range(3)], sscc(DOCUMENT_REF)
    doc = document(commission(items, lot="ND1"), pack(case, items),
                   ship([case], to=[("possessing_party", org("RetailerMSP"))]))  # fmt: skip
    submitted = orgs["Producer"].submit_async("CaptureEvents", arguments=[doc])
    status = submitted.get_status()
    assert status.successful
    result = json.loads(submitted.result)
    assert [c["bizStep"] for c in result["captured"]] == ["commissioning", "packing", "shipping"]
    with gateway_for("Regulator").get_network(CHANNEL).get_chaincode_events(
            CHAINCODE, start_block=status.block_number) as events:  # fmt: skip
        event = next(e for e in events if e.transaction_id == submitted.transaction_id)
    assert (event.event_name, json.loads(event.payload)) == (names.EPCIS_EVENTS_CAPTURED, result)
    # Every event of the document is on every peer, with what the earlier ones did.
    for entry in result["captured"]:
        assert read_when(orgs["Logistics"], "GetEvent", entry["eventKey"], until=bool)["txId"] == status.transaction_id
    state = read_when(orgs["Retailer"], "GetObject", items[2], until=lambda s: s["inTransit"])
    assert (state["parent"], state["shippedTo"], state["custodian"]) == (parse(case).key, ["RetailerMSP"],
                                                                        "ProducerMSP")  # fmt: skip


def test_a_failing_event_leaves_the_ledger_unchanged(orgs, eggs):
    item, case = sgtin("F1", EGGS_REF), sscc(FAILED_REF)
    doc = document(commission([item], lot="ND2"), pack(case, [item]), pack(sscc(DOCUMENT_REF[:-1] + "0"), [item]))
    message = refused(orgs["Producer"], "CaptureEvents", doc)
    assert message.startswith("CONFLICT: event 3 (AggregationEvent packing): ") and "is already inside" in message
    for org_name in ("Producer", "Retailer", "Logistics"):  # a failed endorsement reaches no peer
        assert read(orgs[org_name], "Verify", item)["genuine"] is False
        assert read(orgs[org_name], "Verify", case)["genuine"] is False


def test_only_the_member_a_shipment_was_sent_to_receives_it(orgs, eggs):
    item = sgtin("S1", EGGS_REF)
    orgs["Producer"].submit_transaction("CaptureEvent", commission([item], lot="ND3"))
    orgs["Producer"].submit_transaction("CaptureEvent", ship([item], to=[("owning_party", org("RetailerMSP"))]))
    before = read_when(orgs["Logistics"], "GetObject", item, until=lambda s: s["inTransit"])
    message = refused(orgs["Logistics"], "CaptureEvent", receive([item], where=CARRIER))
    assert message == f"FORBIDDEN: {before['id']} was shipped to RetailerMSP; LogisticsMSP cannot receive it"
    assert read(orgs["Logistics"], "GetObject", item) == before
    read_when(orgs["Retailer"], "GetObject", item, until=lambda s: s["inTransit"])
    orgs["Retailer"].submit_transaction("CaptureEvent", receive([item]))
    state = read_when(orgs["Regulator"], "GetObject", item, until=lambda s: not s["inTransit"])
    assert (state["custodian"], state["shippedTo"]) == ("RetailerMSP", None)
