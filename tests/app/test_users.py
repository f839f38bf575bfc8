"""Users: enrolled with the organisation's real CA, role in the certificate, keys encrypted at rest, tokens."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization

from app import users
from app.db import get_db
from app.keystore import KeyStore
from chaincode.supplychain.provenance.access import certificate_attributes
from tests.gateways import PASSWORD, unique

pytestmark = pytest.mark.fabric


def test_a_new_user_is_enrolled_with_its_role_in_the_certificate(new_user):
    user, _ = new_user("Logistics", "auditor")
    attrs = certificate_attributes(user.certificate)
    assert attrs["role"] == "auditor" and attrs["hf.EnrollmentID"] == user.enrollment_id


def test_the_chaincode_sees_the_user_not_a_shared_identity(api):
    me = api("Retailer", "operator").get("/api/v1/me").json
    assert me["ledger"]["mspId"] == "RetailerMSP"
    assert me["ledger"]["enrollmentId"] == me["enrollmentId"] and me["ledger"]["role"] == "operator"


def test_the_private_key_is_stored_encrypted_and_bound_to_its_owner(gateway_app, new_user):
    user, _ = new_user("Producer", "operator")
    app = gateway_app("Producer")
    with app.app_context():
        sealed = get_db().execute("SELECT encrypted_key FROM user WHERE id = ?", (user.id,)).fetchone()[0]
        key = user.signing_key()
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    assert der not in sealed and b"PRIVATE KEY" not in sealed
    store = KeyStore(app.config["KEY_ENCRYPTION_KEY"])
    with pytest.raises(InvalidTag):
        store.open(sealed, "someone-else@producer")
    with pytest.raises(InvalidTag):
        KeyStore("another secret").open(sealed, user.enrollment_id)


def test_a_token_is_issued_for_the_right_password_only(gateway_app, new_user):
    user, password = new_user("Producer", "operator")
    client = gateway_app("Producer").test_client()
    wrong = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": "not-the-password"})
    assert wrong.status_code == 401 and wrong.content_type == "application/problem+json"
    right = client.post("/api/v1/auth/tokens", json={"username": user.username, "password": password})
    assert right.status_code == 201
    headers = {"Authorization": f"Bearer {right.json['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/tokens", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_requests_without_a_valid_token_are_refused(gateway_app):
    client = gateway_app("Producer").test_client()
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_an_admin_registers_users_and_others_may_not(api, gateway_app):
    admin, operator = api("Retailer", "admin"), api("Retailer", "operator")
    name = unique("clerk")
    assert operator.post("/api/v1/users", {"username": name, "password": PASSWORD, "role": "operator"}).status_code == 403
    created = admin.post("/api/v1/users", {"username": name, "password": PASSWORD, "role": "operator"})
    assert created.status_code == 201, created.json
    assert created.json["enrollmentId"] == f"{name}@retailer"
    again = admin.post("/api/v1/users", {"username": name, "password": PASSWORD, "role": "operator"})
    assert again.status_code == 422 and "already exists" in again.json["detail"]
    bad_role = admin.post("/api/v1/users", {"username": unique("x"), "password": PASSWORD, "role": "root"})
    assert bad_role.status_code == 422 and "role" in bad_role.json["errors"]
    assert name in [u["username"] for u in admin.get("/api/v1/users").json]


def test_a_service_user_cannot_log_in(gateway_app):
    app = gateway_app("Producer")
    with app.app_context():
        users.service_user("public-verifier", "auditor")
        assert users.authenticate("public-verifier", "!") is None
        assert users.authenticate("public-verifier", "") is None


def test_the_openapi_document_describes_the_api(gateway_app):
    spec = gateway_app("Producer").test_client().get("/api/openapi.json").json
    assert {"/api/v1/capture", "/api/v1/events", "/api/v1/recalls", "/api/v1/users"} <= set(spec["paths"])
    assert gateway_app("Producer").test_client().get("/api/docs").status_code == 200
