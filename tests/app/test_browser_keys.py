"""Browser-held keys on the real network: certified by the organisation's CA, signing transactions the gateway
builds, endorses and submits without ever holding the key."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.db import get_db
from chaincode.supplychain.provenance.access import certificate_attributes
from tests.app.story import Story
from tests.app.webcrypto import BrowserKeyHolder, certify, creator_of, sign_offline

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def producer(api):
    """A Producer operator with a certified browser key: (api client, key holder, key JSON)."""
    client = api("Producer", "operator", fresh=True)
    holder = BrowserKeyHolder()
    return client, holder, certify(client, holder)


def test_the_ca_certifies_the_browser_key_with_the_users_name_and_role(producer, gateway_app):
    client, holder, key = producer
    certificate = x509.load_pem_x509_certificate(key["certificate"].encode())
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    assert spki == holder.spki
    assert certificate.subject.rfc4514_string().startswith(f"CN={client.user.enrollment_id}")
    attributes = certificate_attributes(key["certificate"].encode())
    assert attributes["role"] == "operator" and attributes["hf.EnrollmentID"] == client.user.enrollment_id
    issuer = x509.load_pem_x509_certificate(client.user.certificate).issuer
    assert certificate.issuer == issuer  # the organisation's own CA
    assert certificate.serial_number != x509.load_pem_x509_certificate(client.user.certificate).serial_number
    assert [k["keyId"] for k in client.get("/api/v1/browser-keys").json["keys"]] == [key["keyId"]]


def test_a_certificate_request_signed_by_another_key_is_refused(api):
    client = api("Producer", "operator", fresh=True)
    holder, impostor = BrowserKeyHolder(), BrowserKeyHolder()
    info = client.post("/api/v1/browser-keys/request-info", {"publicKey": holder.spki_b64}).json
    refused = client.post(
        "/api/v1/browser-keys",
        {"publicKey": holder.spki_b64, "signature": impostor.sign_b64(info["certificationRequestInfo"])},
    )
    assert refused.status_code == 400 and refused.json["code"] == "INVALID_SIGNATURE"
    assert refused.json["detail"] == "the signature of the certificate request does not verify with this browser's key"
    assert client.get("/api/v1/browser-keys").json["keys"] == []


def test_keys_fabric_cannot_verify_are_refused_and_a_key_is_certified_once(api, producer):
    client = api("Producer", "operator", fresh=True)
    p384 = BrowserKeyHolder(ec.SECP384R1())
    refused = client.post("/api/v1/browser-keys/request-info", {"publicKey": p384.spki_b64})
    assert refused.status_code == 400 and refused.json["code"] == "INVALID_KEY"
    garbage = client.post("/api/v1/browser-keys/request-info", {"publicKey": base64.b64encode(b"not a key").decode()})
    assert garbage.status_code == 400 and "SubjectPublicKeyInfo" in garbage.json["detail"]
    _, holder, _ = producer  # a key someone already certified
    info = client.post("/api/v1/browser-keys/request-info", {"publicKey": holder.spki_b64}).json
    again = client.post(
        "/api/v1/browser-keys",
        {"publicKey": holder.spki_b64, "signature": holder.sign_b64(info["certificationRequestInfo"])},
    )
    assert again.status_code == 409 and again.json["code"] == "CONFLICT"


def test_an_auditor_cannot_certify_a_signing_key(api):
    client = api("Producer", "auditor", fresh=True)
    holder = BrowserKeyHolder()
    refused = client.post("/api/v1/browser-keys/request-info", {"publicKey": holder.spki_b64})
    assert refused.status_code == 403


def test_a_transaction_signed_in_the_browser_commits_with_the_browser_certificate_as_creator(producer, gateway_for):
    client, holder, key = producer
    story = Story()
    committed = sign_offline(client, holder, key["keyId"], "RegisterProductClass", {"product": story.product()})
    assert committed.status_code == 200, committed.json
    assert committed.json["stage"] == "committed" and committed.json["blockNumber"] > 0
    assert committed.json["result"]["gtin"] == story.gtin
    assert "message" not in committed.json
    assert client.get(f"/api/v1/products/{story.gtin}").json["producer"] == "ProducerMSP"
    creator = creator_of(gateway_for, committed.json["transactionId"])
    assert creator == x509.load_pem_x509_certificate(key["certificate"].encode())


def test_a_forged_signature_is_refused_before_any_peer_sees_it_and_the_real_one_still_works(producer):
    client, holder, key = producer
    story = Story()
    prepared = client.post(
        "/api/v1/offline/transactions",
        {"keyId": key["keyId"], "transaction": "RegisterProductClass", "parameters": {"product": story.product()}},
    ).json
    path = f"/api/v1/offline/transactions/{prepared['id']}"
    forged = client.post(f"{path}/proposal-signature", {"signature": BrowserKeyHolder().sign_b64(prepared["message"])})
    assert forged.status_code == 400 and forged.json["code"] == "INVALID_SIGNATURE"
    assert forged.json["detail"] == "the signature of the proposal does not verify with this browser's key"
    assert client.get(path).json["stage"] == "proposal"
    endorsed = client.post(f"{path}/proposal-signature", {"signature": holder.sign_b64(prepared["message"])})
    assert endorsed.status_code == 200 and endorsed.json["stage"] == "transaction"
    replay = client.post(f"{path}/proposal-signature", {"signature": holder.sign_b64(prepared["message"])})
    assert replay.status_code == 409 and "not waiting for its proposal signature" in replay.json["detail"]
    assert client.get(f"/api/v1/products/{story.gtin}").status_code == 404  # endorsed is not written
    done = client.post(f"{path}/transaction-signature", {"signature": holder.sign_b64(endorsed.json["message"])})
    assert done.status_code == 200 and done.json["stage"] == "committed"


def test_the_chaincode_refusal_ends_the_transaction_with_its_message(api):
    client = api("Retailer", "operator", fresh=True)
    holder = BrowserKeyHolder()
    key = certify(client, holder)
    story = Story()
    refused = sign_offline(client, holder, key["keyId"], "RegisterProductClass", {"product": story.product()})
    assert refused.status_code == 403 and refused.json["code"] == "FORBIDDEN"
    assert "ProducerMSP" in refused.json["detail"]
    pending = [p for p in _pending_rows(client) if p["stage"] == "failed"]
    assert pending and client.get(f"/api/v1/offline/transactions/{pending[-1]['id']}").json["error"]["code"] == \
        "FORBIDDEN"  # fmt: skip


def test_only_the_owner_sees_a_pending_transaction_and_it_expires(producer, api):
    client, holder, key = producer
    prepared = client.post(
        "/api/v1/offline/transactions",
        {"keyId": key["keyId"], "transaction": "CaptureEvents", "parameters": {"events": []}},
    ).json
    path = f"/api/v1/offline/transactions/{prepared['id']}"
    stranger = api("Producer", "operator", fresh=True)
    assert stranger.get(path).status_code == 404
    signed = stranger.post(f"{path}/proposal-signature", {"signature": holder.sign_b64(prepared["message"])})
    assert signed.status_code == 404
    with client.app.app_context():
        get_db().execute(
            "UPDATE offline_transaction SET expires_at = ? WHERE id = ?", (time.time() - 1, prepared["id"])
        )
    late = client.post(f"{path}/proposal-signature", {"signature": holder.sign_b64(prepared["message"])})
    assert late.status_code == 409 and late.json["code"] == "EXPIRED"


def test_only_the_transactions_the_domain_layer_names_can_be_prepared(producer):
    client, _, key = producer
    refused = client.post(
        "/api/v1/offline/transactions", {"keyId": key["keyId"], "transaction": "Recall", "parameters": {}}
    )
    assert refused.status_code == 422 and "transaction" in refused.json["errors"]
    unknown_key = client.post(
        "/api/v1/offline/transactions",
        {"keyId": "0" * 64, "transaction": "CaptureEvents", "parameters": {"events": []}},
    )
    assert unknown_key.status_code == 404
    bad = client.post(
        "/api/v1/offline/transactions",
        {"keyId": key["keyId"], "transaction": "CaptureEvents", "parameters": {"events": "not a list"}},
    )
    assert bad.status_code == 400 and "'events'" in bad.json["detail"]


def _pending_rows(client) -> list[dict]:
    with client.app.app_context():
        rows = get_db().execute("SELECT id, stage FROM offline_transaction WHERE user_id = ? ORDER BY created_at",
                                (client.user.id,)).fetchall()  # fmt: skip
    return [dict(r) for r in rows]


def test_shipment_writes_signed_in_the_browser_are_endorsed_by_the_shipments_organisations(api):
    from tests.app.shipping import new_shipment, pdf, sign, upload

    shipment = new_shipment(api)
    carrier = api("Logistics", "operator", fresh=True)
    holder = BrowserKeyHolder()
    key = certify(carrier, holder)
    picked = sign_offline(carrier, holder, key["keyId"], "RecordMilestone", {
        "shipment": shipment["id"],
        "milestone": {"type": "picked_up", "location": {"name": "Farm gate", "geo": {"lat": 52.1, "lon": 5.1}},
                      "readings": [{"type": "temperature", "value": 4.5}]},
    })  # fmt: skip
    assert picked.status_code == 200, picked.json
    assert picked.json["result"]["status"] == "picked_up"
    assert picked.json["result"]["milestone"]["enrollmentId"] == carrier.user.enrollment_id

    note = upload(api("Producer"), shipment["id"], pdf(shipment["id"])).json
    assert sign(api("Producer"), note).status_code == 201
    payload = carrier.get(f"/api/v1/documents/{note['id']}/versions/1/signing-payload",
                          query_string={"statement": '{"remarks": "sealed"}'}).json["payload"]  # fmt: skip
    forged = base64.b64encode(BrowserKeyHolder().sign(payload.encode())).decode()  # not the creator's key
    refused = sign_offline(carrier, holder, key["keyId"], "SignDocument", {
        "document": note["id"], "version": 1, "signature": forged, "statement": {"remarks": "sealed"}})  # fmt: skip
    assert refused.status_code == 400 and refused.json["code"] == "INVALID_SIGNATURE", refused.json
    signature = base64.b64encode(holder.sign(payload.encode())).decode()
    signed = sign_offline(carrier, holder, key["keyId"], "SignDocument", {
        "document": note["id"], "version": 1, "signature": signature, "statement": {"remarks": "sealed"}})  # fmt: skip
    assert signed.status_code == 200, signed.json
    recorded = signed.json["result"]["signatures"][-1]
    assert recorded["party"] == "carrier" and recorded["certificate"] == key["certificate"]


def test_the_portal_signing_calls_need_the_pages_csrf_token_and_a_writer(fabric_network, gateway_instance, new_user):
    from app import create_app

    app = create_app({"ORG": "Producer", "NETWORK_HOME": str(fabric_network.home), "TESTING": True,
                      "INSTANCE_PATH": str(gateway_instance)})  # fmt: skip
    try:
        holder = BrowserKeyHolder()
        body = {"publicKey": holder.spki_b64}
        for role, expected in (("operator", 200), ("auditor", 403)):
            user, _ = new_user("Producer", role)
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(user.id)
                session["_fresh"] = True
            headers = {"Accept": "application/json"}
            refused = client.post("/portal/signing/keys/request-info", json=body, headers=headers)
            assert refused.status_code == 400 and "CSRF" in refused.json["detail"]
            page = client.get("/portal/keys").get_data(as_text=True)
            token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
            answered = client.post("/portal/signing/keys/request-info", json=body,
                                   headers={**headers, "X-CSRFToken": token})  # fmt: skip
            assert answered.status_code == expected, answered.json
    finally:
        app.extensions["gateways"].close()
