"""The demo story of ``make up`` (app/demo.py), recorded on the real network and read back as README.md tells it."""

from __future__ import annotations

import pytest

from app import demo
from app.auth import ledger_for

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def ledgers(gateway_app, new_user):
    """Each organisation's ledger as a fresh admin, after the story was recorded."""
    found = {}
    for org in ("Producer", "Retailer", "Logistics", "Regulator"):
        user, _ = new_user(org, "admin")
        with gateway_app(org).app_context():
            found[org] = ledger_for(user)
    done = demo.seed(found)
    assert done[-1].startswith("carton C004 verified"), done
    return found


def test_the_story_reads_as_the_readme_tells_it(ledgers):
    regulator = ledgers["Regulator"]
    sold = regulator.verify(demo.CARTONS[0])
    assert sold["genuine"] and sold["custodian"] == "RetailerMSP" and sold["disposition"].endswith("retail_sold")
    origins = regulator.trace_upstream(demo.CARTONS[1])["origins"]
    assert {o["ilmd"].get("ex:hen") for o in origins} >= {"H2-0417"}
    readings = regulator.readings(demo.CARTONS[1], 200)
    assert [r["value"] for r in readings["readings"] if r["excursion"]] == [9.6]
    lot = regulator.object(f"urn:epc:class:lgtin:{demo.COMPANY}.{demo.EGG_REF}.{demo.RECALLED_LOT}")
    assert lot["recalled"]["reason"] == "Salmonella found in house H5"
    copy = regulator.verify(demo.CARTONS[3])
    assert copy["suspectedClone"] and copy["anomalies"][-1]["observed"] == demo.CLONE_GEO


def test_a_second_seed_leaves_the_ledger_as_it_is(ledgers):
    assert demo.seed(ledgers) == ["demo data already on the ledger"]
