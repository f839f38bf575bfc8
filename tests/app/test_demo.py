"""The demo story of ``python -m app up``, recorded on the real network through the gateways' domain layer."""

from __future__ import annotations

import pytest

from app import demo, launcher

pytestmark = pytest.mark.fabric


def test_the_demo_ships_the_pallet_with_signed_documents_and_the_store_sells_a_carton(live_gateways, api):
    processes = list(live_gateways.values())
    done = launcher.seed_demo(processes)
    assert f"Producer created shipment {demo.SHIPMENT} and signed its consignment note" in done
    regulator = api("Regulator", "auditor")
    shipment = regulator.get(f"/api/v1/shipments/{demo.SHIPMENT}").json
    assert shipment["status"] == "received" and shipment["excursions"] == 1
    assert [m["type"] for m in shipment["milestones"]] == [m["type"] for m in demo.milestones()]
    assert all(m["location"].get("geo") for m in shipment["milestones"])
    documents = {d["kind"]: d for d in shipment["documents"]}
    note, pod = documents["consignment_note"], documents["proof_of_delivery"]
    assert note["status"] == pod["status"] == "signed"
    assert [s["msp"] for s in note["signatures"]] == ["ProducerMSP", "LogisticsMSP", "RetailerMSP"]
    assert pod["signatures"][-1]["statement"]["received"] == [{"id": demo.PALLET, "quantity": 1}]

    carton = regulator.get(f"/api/v1/objects/{demo.CARTONS[0]}").json
    assert carton["custodian"] == "RetailerMSP" and carton["disposition"] == "retail_sold"
    readings = regulator.get(f"/api/v1/objects/{demo.CARTONS[1]}/readings").json
    assert readings["excursions"] == 1 and 9.6 in [r["value"] for r in readings["readings"]]
    evidence = regulator.get(f"/api/v1/documents/{note['id']}/versions/1/evidence")
    assert evidence.status_code == 200, evidence.json

    assert launcher.seed_demo(processes) == ["demo data already on the ledger"]
