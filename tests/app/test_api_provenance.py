"""The provenance API on the real network: every call signed by the calling user, every refusal writes nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from app import create_app, users
from tests.gateways import unique
from tests.app.story import Story

pytestmark = pytest.mark.fabric


@pytest.fixture
def story(api):
    """A registered product class of a fresh GTIN."""
    s = Story()
    response = api("Producer").post("/api/v1/products", s.product())
    assert response.status_code == 201, response.json
    return s


def captured(client, *events: str):
    return client.post("/api/v1/capture", Story.document(*events))


def test_a_product_class_is_registered_and_read_back(api, story):
    got = api("Producer").get(f"/api/v1/products/{story.gtin}")
    assert got.status_code == 200
    assert got.json["producer"] == "ProducerMSP" and got.json["handling"]["temperature"] == {"min": 1, "max": 8}


def test_the_retailer_cannot_register_a_product_and_nothing_is_written(api):
    s = Story()
    refused = api("Retailer").post("/api/v1/products", s.product())
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    assert refused.json["code"] == "FORBIDDEN" and "ProducerMSP" in refused.json["detail"]
    assert api("Producer").get(f"/api/v1/products/{s.gtin}").status_code == 404


def test_a_document_is_captured_in_one_transaction_with_one_result_per_event(api, story):
    response = captured(api("Producer"), story.commission(), story.pack(), story.ship())
    assert response.status_code == 201, response.json
    assert [c["type"] for c in response.json["captured"]] == ["ObjectEvent", "AggregationEvent", "ObjectEvent"]
    case = api("Producer").get(f"/api/v1/objects/{story.case}").json
    assert case["inTransit"] is True and case["custodian"] == "ProducerMSP"


def test_a_refused_event_leaves_the_whole_document_unwritten(api, story):
    stranger = Story()
    response = captured(api("Producer"), story.commission(), stranger.pack())
    assert response.status_code in (403, 404), response.json
    assert "event 2" in response.json["detail"]
    assert api("Producer").get(f"/api/v1/objects/{story.items[0]}").status_code == 404


def test_custody_moves_to_the_retailer_who_receives_the_shipment(api, story):
    assert captured(api("Producer"), story.commission(), story.pack(), story.ship()).status_code == 201
    received = captured(api("Retailer"), story.receive())
    assert received.status_code == 201, received.json
    item = api("Retailer").get(f"/api/v1/objects/{story.items[0]}").json
    assert item["custodian"] == "RetailerMSP" and item["parent"]


def test_lineage_readings_and_excursions_are_served(api, story):
    producer = api("Producer")
    assert captured(producer, story.commission(), story.pack(), story.temperature(4.0),
                    story.temperature(12.5, "2026-01-05T11:30:00+01:00")).status_code == 201
    upstream = producer.get(f"/api/v1/objects/{story.items[0]}/upstream").json
    assert upstream["origins"] and upstream["origins"][0]["ilmd"]["ex:farm"] == "Hillside Farm"
    readings = producer.get(f"/api/v1/objects/{story.items[0]}/readings").json  # the case's readings reach its items
    assert readings["excursions"] == 1
    assert [r["excursion"] for r in readings["readings"]] == [False, True]


def test_events_are_queried_by_epc_as_an_epcis_query_document_with_paging(api, story):
    producer = api("Producer")
    assert captured(producer, story.commission(), story.pack()).status_code == 201
    first = producer.get("/api/v1/events", query_string={"MATCH_anyEPC": story.items[0], "perPage": 1})
    assert first.status_code == 200 and first.json["type"] == "EPCISQueryDocument"
    events = first.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == 1 and events[0]["bizStep"] == "commissioning"
    assert 'rel="next"' in first.headers["Link"]
    second = producer.get("/api/v1/events", query_string={"MATCH_anyEPC": story.items[0], "perPage": 1,
                                                           "nextPageToken": first.json["nextPageToken"]})
    assert second.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["type"] == "AggregationEvent"
    key = first.json["ledger"][0]["eventKey"]
    by_id = producer.get("/api/v1/events", query_string={"EQ_eventID": key})
    assert by_id.json["ledger"][0]["eventKey"] == key


def test_a_single_event_is_captured_and_located(api, story):
    response = api("Producer").post("/api/v1/events", json.loads(story.commission()))
    assert response.status_code == 201, response.json
    assert "EQ_eventID=" in response.headers["Location"]


def test_the_regulator_recalls_and_public_verification_reports_it(api, story, gateway_app):
    assert captured(api("Producer"), story.commission()).status_code == 201
    assert api("Regulator").post("/api/v1/products", Story().product()).status_code == 403
    recall = api("Regulator").post("/api/v1/recalls", {"lot": story.lot_urn, "reason": "Salmonella found in flock"})
    assert recall.status_code == 201, recall.json
    public = gateway_app("Retailer").test_client()
    verdict = public.get(f"/verify/01/{story.gtin}/21/{story.lot}-0", headers={"Accept": "application/json"})
    assert verdict.status_code == 200, verdict.json
    assert verdict.json["genuine"] is True and verdict.json["recalled"] is True
    page = public.get(f"/verify/01/{story.gtin}/21/{story.lot}-0", headers={"Accept": "text/html"})
    assert b"RECALLED" in page.data and b"Salmonella" in page.data


def test_an_unknown_code_is_not_genuine(gateway_app):
    public = gateway_app("Producer").test_client()
    verdict = public.get("/verify/01/09506000134352/21/NOPE", headers={"Accept": "application/json"})
    assert verdict.json["genuine"] is False


def test_a_digital_link_uri_resolves_to_its_verification(gateway_app):
    response = gateway_app("Producer").test_client().get("/01/09506000134352/21/NOPE")
    assert response.status_code == 303 and response.headers["Location"].endswith("/verify/01/09506000134352/21/NOPE")


def test_an_invalid_document_is_refused_before_the_ledger_with_the_field_named(api):
    response = api("Producer").post("/api/v1/capture", {"type": "EPCISDocument", "schemaVersion": "2.0",
                                                         "creationDate": "2026-01-05T16:00:00Z"})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "epcisBody" in response.json["errors"]


def test_an_event_the_chaincode_refuses_is_a_400_naming_the_field(api, story):
    bad = json.loads(story.commission())
    bad["eventTimeZoneOffset"] = "+25:00"
    response = api("Producer").post("/api/v1/capture", Story.document(json.dumps(bad)))
    assert response.status_code == 400 and response.json["code"] == "INVALID_ARGUMENT"
    assert "eventTimeZoneOffset" in response.json["detail"]


def test_an_auditor_reads_but_cannot_write(api, story):
    auditor = api("Producer", "auditor")
    assert auditor.get(f"/api/v1/products/{story.gtin}").status_code == 200
    refused = captured(auditor, story.commission())
    assert refused.status_code == 403
    assert api("Producer").get(f"/api/v1/objects/{story.items[0]}").status_code == 404


def test_a_retried_post_with_the_same_idempotency_key_is_not_submitted_twice(api, story):
    producer = api("Producer")
    first = producer.post("/api/v1/capture", Story.document(story.commission()), key="capture-once-" + story.lot)
    again = producer.post("/api/v1/capture", Story.document(story.commission()), key="capture-once-" + story.lot)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    history = producer.get("/api/v1/events", query_string={"MATCH_anyEPC": story.items[0]}).json
    assert len(history["ledger"]) == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(api, story):
    producer = api("Producer")
    assert producer.post("/api/v1/capture", Story.document(story.commission()), key="k-" + story.lot).status_code == 201
    other = producer.post("/api/v1/capture", Story.document(story.pack()), key="k-" + story.lot)
    assert other.status_code == 422 and other.json["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_post_without_an_idempotency_key_is_refused(api, story):
    client = api("Producer")
    response = client.client.post("/api/v1/capture", json=Story.document(story.commission()), headers=client.headers())
    assert response.status_code == 400 and response.json["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert client.get(f"/api/v1/objects/{story.items[0]}").status_code == 404


def test_an_unreachable_peer_is_a_503(tmp_path, fabric_network, gateway_instance):
    from app import create_app

    # A copy of the organisation's network files whose profile points the peer at a closed port.
    home = tmp_path / "net"
    org = home / "organizations" / "producer"
    shutil.copytree(fabric_network.home / "organizations" / "producer", org, symlinks=True)
    profile = json.loads((org / "connection-profile.json").read_text())
    for peer in profile["peers"].values():
        peer["url"] = "grpcs://127.0.0.1:9"
    (org / "connection-profile.json").write_text(json.dumps(profile))
    app = create_app({"ORG": "Producer", "NETWORK_HOME": str(home), "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        user = users.create_user(unique("offline"), "test-password-1", "operator")
        token, _ = users.issue_token(user)
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    app.extensions["gateways"].close()
    assert response.status_code == 503 and response.json["code"] == "LEDGER_UNAVAILABLE"


def test_public_verification_is_rate_limited_per_client(fabric_network, tmp_path):
    app = create_app({"ORG": "Producer", "NETWORK_HOME": str(fabric_network.home), "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path), "VERIFY_RATE_LIMIT": "3 per minute"})  # fmt: skip
    client = app.test_client()
    answers = [client.get("/verify/01/09506000134352/21/NOPE", headers={"Accept": "application/json"}).status_code
               for _ in range(4)]  # fmt: skip
    other = client.get("/verify/01/09506000134352/21/NOPE", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    app.extensions["gateways"].close()
    assert answers == [200, 200, 200, 429]
    assert other.status_code == 200


def scan(client, path: str, place, key: str | None = None):
    return client.post(f"/verify/{path}/scans", json={"place": place} if place is not None else None,
                       headers={"Idempotency-Key": key or unique("scan"), "Accept": "application/json"})  # fmt: skip


def test_scans_in_two_places_custody_does_not_explain_flag_a_suspected_clone(api, story, gateway_app):
    assert captured(api("Producer"), story.commission()).status_code == 201
    path = f"01/{story.gtin}/21/{story.lot}-0"
    shop, elsewhere = gateway_app("Retailer").test_client(), gateway_app("Logistics").test_client()
    first = scan(shop, path, "geo:48.8566,2.3522")
    assert first.status_code == 200, first.json
    assert first.json["recorded"] and not first.json["suspectedClone"]
    second = scan(elsewhere, path, "geo:35.6762,139.6503")  # Tokyo, with no shipment in between
    assert second.json["suspectedClone"] and second.json["anomalies"][-1]["observed"] == "geo:35.6762,139.6503"
    page = shop.get(f"/verify/{path}", headers={"Accept": "text/html"})
    assert b"Suspected copy" in page.data and b"2 recorded scans" in page.data


def test_a_bad_scan_is_refused_and_the_regulator_records_none(api, story, gateway_app):
    assert captured(api("Producer"), story.commission()).status_code == 201
    path = f"01/{story.gtin}/21/{story.lot}-0"
    shop = gateway_app("Retailer").test_client()
    assert scan(shop, path, None).status_code == 400
    refused = scan(shop, path, "somewhere")
    assert refused.status_code == 400 and "geo URI" in refused.json["detail"]
    no_key = shop.post(f"/verify/{path}/scans", json={"place": "geo:1,1"})
    assert no_key.status_code == 400 and no_key.json["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    regulator = scan(gateway_app("Regulator").test_client(), path, "geo:1,1")
    assert regulator.status_code == 403 and "Regulator" in regulator.json["detail"]
    verdict = shop.get(f"/verify/{path}", headers={"Accept": "application/json"}).json
    assert verdict["scans"]["count"] == 0
