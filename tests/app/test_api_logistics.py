"""The logistics API on the real network: uploads, anchoring, signing, rejections, and bytes between gateways."""

from __future__ import annotations

import base64
import json
import os

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.gateway.gateway_pb2 import ProposedTransaction

from app import users
from app.auth import logistics_for
from app.documents import DocumentStore
from tests.app.shipping import PNG, milestone, new_shipment, pdf, sha256, sign, upload

pytestmark = pytest.mark.fabric


def store_of(app) -> DocumentStore:
    return DocumentStore(app.config["DOCUMENTS_PATH"])


def documents_of(client, shipment_id: str) -> list:
    listed = client.get(f"/api/v1/shipments/{shipment_id}/documents")
    assert listed.status_code == 200, listed.json
    body = listed.json
    return body["documents"] if isinstance(body, dict) else body


@pytest.fixture
def shipment(api):
    """Producer -> Logistics -> Retailer, of a fresh case."""
    return new_shipment(api)


def test_a_shipment_is_created_with_its_endorsers_and_read_by_its_parties_only(api, shipment):
    assert shipment["status"] == "created" and shipment["endorsers"] == ["LogisticsMSP", "ProducerMSP"]
    for org in ("Producer", "Logistics", "Retailer", "Regulator"):
        got = api(org).get(f"/api/v1/shipments/{shipment['id']}")
        assert got.status_code == 200, (org, got.json)
    listed = api("Logistics").get("/api/v1/shipments", query_string={"perPage": 200}).json
    assert shipment["id"] in [s["id"] for s in listed["shipments"]]


def test_a_shipment_the_caller_does_not_ship_is_refused_and_not_written(api):
    from tests.app.shipping import packed_case, shipment_spec

    spec = shipment_spec(packed_case(api))
    refused = api("Retailer").post("/api/v1/shipments", spec)
    assert refused.status_code == 403 and refused.json["code"] == "FORBIDDEN", refused.json
    assert api("Producer").get(f"/api/v1/shipments/{spec['id']}").status_code == 404


@pytest.mark.parametrize("case", ["too_large", "type_not_accepted", "type_mismatch", "hash_mismatch", "empty"])
def test_an_upload_that_breaks_a_rule_is_refused_and_nothing_is_stored_or_anchored(api, gateway_app, shipment, case):
    app = gateway_app("Producer")
    data, fields, content_type = pdf(case), {}, "application/pdf"
    expected = {"too_large": (413, "DOCUMENT_TOO_LARGE"), "type_not_accepted": (415, "UNSUPPORTED_MEDIA_TYPE"),
                "type_mismatch": (422, "CONTENT_TYPE_MISMATCH"), "hash_mismatch": (422, "HASH_MISMATCH"),
                "empty": (422, "EMPTY_DOCUMENT")}[case]  # fmt: skip
    if case == "too_large":
        data = data + b"0" * app.config["DOCUMENT_MAX_BYTES"]
    elif case == "type_not_accepted":
        content_type = "application/x-msdownload"
    elif case == "type_mismatch":
        data = PNG  # declared a PDF
    elif case == "hash_mismatch":
        fields["sha256"] = sha256(data + b"x")
    elif case == "empty":
        data = b""
    refused = upload(api("Producer"), shipment["id"], data, content_type=content_type, **fields)
    assert (refused.status_code, refused.json["code"]) == expected, refused.json
    assert refused.content_type == "application/problem+json"
    assert not store_of(app).has(sha256(data))
    assert documents_of(api("Producer"), shipment["id"]) == []


def test_a_document_the_ledger_refuses_to_anchor_is_not_stored(api, gateway_app, shipment):
    data = pdf()
    refused = upload(api("Regulator"), shipment["id"], data)  # the Regulator writes nothing but recalls
    assert (refused.status_code, refused.json["code"]) == (403, "FORBIDDEN"), refused.json
    assert not store_of(gateway_app("Regulator")).has(sha256(data))
    assert not any(p.name.startswith(".staged-") for p in store_of(gateway_app("Regulator")).root.rglob("*"))
    assert documents_of(api("Producer"), shipment["id"]) == []


def test_an_upload_is_stored_by_hash_anchored_and_served_back(api, gateway_app, shipment):
    data = pdf()
    anchored = upload(api("Producer"), shipment["id"], data, sha256=sha256(data).upper())
    assert anchored.status_code == 201, anchored.json
    record = anchored.json
    assert record["id"] == f"{shipment['id']}:consignment_note" and record["version"] == 1
    assert record["sha256"] == sha256(data) and record["size"] == len(data) and record["anchoredBy"] == "ProducerMSP"
    assert [s["party"] for s in record["requiredSigners"]] == ["shipper", "carrier", "consignee"]
    assert anchored.headers["Location"].endswith(f"/documents/{record['id']}/versions/1")
    assert store_of(gateway_app("Producer")).get(sha256(data)) == data
    content = api("Producer").get(f"/api/v1/documents/{record['id']}/versions/1/content")
    assert content.status_code == 200 and content.data == data and content.mimetype == "application/pdf"
    assert content.headers["ETag"] == f'"{sha256(data)}"'


def test_a_consignment_note_is_signed_in_order_by_shipper_carrier_and_consignee(api, shipment):
    record = upload(api("Producer"), shipment["id"], pdf()).json
    assert record["status"] == "awaiting_signatures" and record["next"] == 0
    for org, party in (("Producer", "shipper"), ("Logistics", "carrier"), ("Retailer", "consignee")):
        waiting = api(org).get("/api/v1/inbox", query_string={"perPage": 200}).json["documents"]
        assert (record["id"], record["version"]) in [(d["id"], d["version"]) for d in waiting], org
        signed = sign(api(org), record, {"remarks": f"{party} checked the goods"})
        assert signed.status_code == 201, (org, signed.json)
    final = api("Regulator").get(f"/api/v1/documents/{record['id']}/versions/1").json
    assert final["status"] == "signed" and final["next"] is None
    assert [(s["party"], s["msp"]) for s in final["signatures"]] == [
        ("shipper", "ProducerMSP"), ("carrier", "LogisticsMSP"), ("consignee", "RetailerMSP")]
    first = final["signatures"][0]
    assert first["statement"] == {"remarks": "shipper checked the goods"}
    assert first["enrollmentId"] == api("Producer").user.enrollment_id
    assert first["certificate"].strip() == api("Producer").user.certificate.decode().strip()


def test_a_signature_made_elsewhere_over_the_signing_payload_is_recorded(api, shipment):
    record = upload(api("Producer"), shipment["id"], pdf()).json
    producer = api("Producer")
    payload = producer.get(f"/api/v1/documents/{record['id']}/versions/1/signing-payload",
                           query_string={"statement": json.dumps({"remarks": "hand-over"})})  # fmt: skip
    assert payload.status_code == 200, payload.json
    assert json.loads(payload.json["payload"])["party"] == "shipper"
    with producer.app.app_context():
        key = users.get_user(producer.user.id).signing_key()
    signature = key.sign(payload.json["payload"].encode(), ec.ECDSA(hashes.SHA256()))
    signed = sign(producer, record, {"remarks": "hand-over"}, signature=base64.b64encode(signature).decode())
    assert signed.status_code == 201, signed.json
    assert api("Logistics").get(f"/api/v1/documents/{record['id']}").json["next"] == 1


def test_a_proof_of_delivery_is_signed_by_carrier_then_consignee_with_what_was_received(api, shipment):
    carrier = api("Logistics")
    for kind in ("picked_up", "departed", "arrived", "delivered"):
        readings = [{"type": "temperature", "value": 4.5, "unit": "CEL"}] if kind == "departed" else []
        recorded = milestone(carrier, shipment["id"], kind, readings=readings)
        assert recorded.status_code == 201, (kind, recorded.json)
    record = upload(carrier, shipment["id"], pdf(), kind="proof_of_delivery").json
    assert [s["party"] for s in record["requiredSigners"]] == ["carrier", "consignee"]
    assert sign(carrier, record, {"remarks": "delivered at dock 4"}).status_code == 201
    received = {"received": [{"id": shipment["units"][0], "quantity": 1}], "condition": "good"}
    signed = sign(api("Retailer"), record, received)
    assert signed.status_code == 201, signed.json
    final = api("Producer").get(f"/api/v1/documents/{record['id']}/versions/1").json
    assert final["status"] == "signed" and final["signatures"][1]["statement"] == received
    assert api("Producer").get(f"/api/v1/shipments/{shipment['id']}").json["status"] == "received"


def _signature_count(api, record) -> int:
    return len(api("Regulator").get(f"/api/v1/documents/{record['id']}/versions/{record['version']}").json["signatures"])


def test_each_rejection_of_the_contract_has_its_status_and_writes_nothing(api, shipment):
    producer, carrier, retailer = api("Producer"), api("Logistics"), api("Retailer")
    record = upload(producer, shipment["id"], pdf()).json

    out_of_order = sign(retailer, record)  # the consignee before the shipper
    assert (out_of_order.status_code, out_of_order.json["code"]) == (409, "CONFLICT"), out_of_order.json
    assert "shipper" in out_of_order.json["detail"] or "ProducerMSP" in out_of_order.json["detail"]

    not_a_party = sign(api("Regulator"), record)
    assert not_a_party.status_code == 403, not_a_party.json

    forged = sign(producer, record, signature=base64.b64encode(os.urandom(64)).decode())
    assert (forged.status_code, forged.json["code"]) == (400, "INVALID_SIGNATURE"), forged.json
    assert _signature_count(api, record) == 0

    assert sign(producer, record).status_code == 201
    recorded = api("Regulator").get(f"/api/v1/documents/{record['id']}/versions/1").json["signatures"][0]
    other = upload(producer, shipment["id"], pdf(), kind="bill_of_lading").json
    replayed = sign(producer, other, signature=recorded["signature"])
    assert (replayed.status_code, replayed.json["code"]) == (400, "INVALID_SIGNATURE"), replayed.json
    assert record["id"] in replayed.json["detail"]
    assert _signature_count(api, other) == 0

    corrected = upload(producer, shipment["id"], pdf("corrected")).json
    assert corrected["version"] == 2
    superseded = sign(carrier, record)
    assert (superseded.status_code, superseded.json["code"]) == (409, "CONFLICT"), superseded.json
    assert _signature_count(api, record) == 1
    assert api("Regulator").get(f"/api/v1/documents/{record['id']}/versions/1").json["status"] == "superseded"

    missing = api("Producer").get(f"/api/v1/documents/{shipment['id']}:delivery_note/versions/1")
    assert (missing.status_code, missing.json["code"]) == (404, "NOT_FOUND")

    early = milestone(carrier, shipment["id"], "arrived")  # before picked_up and departed
    assert (early.status_code, early.json["code"]) == (409, "CONFLICT"), early.json
    not_carrier = milestone(producer, shipment["id"], "picked_up")
    assert not_carrier.status_code == 403, not_carrier.json
    assert api("Producer").get(f"/api/v1/shipments/{shipment['id']}").json["status"] == "created"


def test_an_auditor_may_read_but_not_sign(api, shipment):
    record = upload(api("Producer"), shipment["id"], pdf()).json
    auditor = api("Producer", "auditor")
    assert auditor.get(f"/api/v1/documents/{record['id']}").status_code == 200
    assert sign(auditor, record).status_code == 403
    assert _signature_count(api, record) == 0


def test_a_retried_upload_with_the_same_key_is_anchored_once(api, shipment):
    data = pdf()
    first = upload(api("Producer"), shipment["id"], data, key="upload-" + shipment["id"])
    again = upload(api("Producer"), shipment["id"], data, key="upload-" + shipment["id"])
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    other = upload(api("Producer"), shipment["id"], pdf(), key="upload-" + shipment["id"])
    assert other.status_code == 422 and other.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(documents_of(api("Producer"), shipment["id"])) == 1


# Bytes between gateways: the Producer's in-process app and its live gateway process share one instance folder
# (tests/gateways.py), so the Producer's store is the one its live gateway serves from; the Retailer's is empty.


def test_a_party_gets_the_bytes_from_the_anchoring_gateway_checked_and_kept(api, gateway_app, live_gateways,
                                                                                shipment):  # fmt: skip
    data = pdf()
    record = upload(api("Producer"), shipment["id"], data).json
    retailer_store = store_of(gateway_app("Retailer"))
    assert not retailer_store.has(record["sha256"])
    fetched = api("Retailer").get(f"/api/v1/documents/{record['id']}/versions/1/content")
    assert fetched.status_code == 200, fetched.json
    assert fetched.data == data and retailer_store.get(record["sha256"]) == data
    regulator = api("Regulator").get(f"/api/v1/documents/{record['id']}/versions/1/content")
    assert regulator.status_code == 200 and regulator.data == data


def _signed_request(gateway_app, org: str, document_id: str, version: int) -> str:
    app = gateway_app(org)
    with app.app_context():
        service = users.service_user("exchange", "auditor")
        raw = logistics_for(service).signed_document_request(document_id, version, service.signing_key())
    return base64.b64encode(raw).decode()


def _exchange(live_gateways, org: str, document_id: str, version: int, header: str | None):
    url = f"{live_gateways[org].url}/api/v1/exchange/documents/{document_id}/versions/{version}/content"
    return requests.get(url, headers={"Fabric-Proposal": header} if header else {}, timeout=30)


def test_the_anchoring_gateway_refuses_a_non_party_a_replay_and_a_request_for_another_document(
        api, gateway_app, live_gateways):  # fmt: skip
    # Producer -> its own truck -> Logistics: the Retailer is no party to it.
    shipment = new_shipment(api, carriers=("ProducerMSP",), consignee="LogisticsMSP")
    record = upload(api("Producer"), shipment["id"], pdf()).json
    doc, version = record["id"], record["version"]

    non_party = _exchange(live_gateways, "Producer", doc, version, _signed_request(gateway_app, "Retailer", doc, 1))
    assert non_party.status_code == 403 and non_party.json()["code"] == "FORBIDDEN", non_party.text
    assert "RetailerMSP" in non_party.json()["detail"]
    refused = api("Retailer").get(f"/api/v1/documents/{doc}/versions/1/content")
    assert refused.status_code == 403  # its own ledger already says no

    header = _signed_request(gateway_app, "Logistics", doc, 1)
    first = _exchange(live_gateways, "Producer", doc, version, header)
    assert first.status_code == 200 and sha256(first.content) == record["sha256"]
    replayed = _exchange(live_gateways, "Producer", doc, version, header)
    assert replayed.status_code == 403 and replayed.json()["code"] == "EXCHANGE_REQUEST_REPLAYED"

    other = _exchange(live_gateways, "Producer", f"{shipment['id']}:bill_of_lading", 1,
                      _signed_request(gateway_app, "Logistics", doc, 1))  # fmt: skip
    assert other.status_code == 400 and other.json()["code"] == "BAD_EXCHANGE_REQUEST"
    unsigned = _exchange(live_gateways, "Producer", doc, version, None)
    assert unsigned.status_code == 400
    forged = ProposedTransaction.FromString(base64.b64decode(_signed_request(gateway_app, "Logistics", doc, 1)))
    stranger = ec.generate_private_key(ec.SECP256R1())  # signs in the name of the Logistics service identity
    forged.proposal.signature = stranger.sign(forged.proposal.proposal_bytes, ec.ECDSA(hashes.SHA256()))
    bad = _exchange(live_gateways, "Producer", doc, version, base64.b64encode(forged.SerializeToString()).decode())
    assert bad.status_code == 403 and bad.json()["code"] == "EXCHANGE_REQUEST_REFUSED", bad.text
