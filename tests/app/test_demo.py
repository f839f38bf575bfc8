"""The demo story of ``python -m app up``, recorded on the real network through the gateways and read back as
README.md tells it."""

from __future__ import annotations

import pytest

from app import demo, launcher

pytestmark = pytest.mark.fabric


def test_the_demo_story_is_recorded_once_and_reads_as_the_readme_tells_it(live_gateways, api):
    processes = list(live_gateways.values())
    done = launcher.seed_demo(processes)
    assert f"Producer created shipment {demo.SHIPMENT} and signed its consignment note" in done
    assert done[-1].startswith("carton C004 verified"), done
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
    evidence = regulator.get(f"/api/v1/documents/{note['id']}/versions/1/evidence")
    assert evidence.status_code == 200, evidence.json

    carton = regulator.get(f"/api/v1/objects/{demo.CARTONS[0]}").json
    assert carton["custodian"] == "RetailerMSP" and carton["disposition"] == "retail_sold"
    origins = regulator.get(f"/api/v1/objects/{demo.CARTONS[1]}/upstream").json["origins"]
    assert "H2-0417" in {o["ilmd"].get("ex:hen") for o in origins}
    readings = regulator.get(f"/api/v1/objects/{demo.CARTONS[1]}/readings").json
    assert readings["excursions"] == 1 and 9.6 in [r["value"] for r in readings["readings"]]
    lot = regulator.get(f"/api/v1/objects/urn:epc:class:lgtin:{demo.COMPANY}.{demo.EGG_REF}.{demo.RECALLED_LOT}").json
    assert lot["recalled"]["reason"] == "Salmonella found in house H5"
    copy = regulator.client.get(f"/verify/{demo.CARTONS[3]}", headers={"Accept": "application/json"}).json
    assert copy["suspectedClone"] and copy["anomalies"][-1]["observed"] == demo.CLONE_GEO

    assert launcher.seed_demo(processes) == ["demo data already on the ledger"]
