"""Document signatures on the real network: each signing rule, each rejection, and nothing changed by a rejection."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from chaincode.supplychain.logistics.signatures import N
from tests.logistics.actors import anchor_json, shipment_json
from tests.logistics.conftest import packed_case

pytestmark = pytest.mark.fabric

ENDORSERS = ["LogisticsMSP", "ProducerMSP"]


@pytest.fixture(scope="module")
def shipment(actor):
    """A shipment from the Producer to the Retailer through Logistics, of a case nobody else ships."""
    producer = actor("Producer")
    return producer.submit("CreateShipment", shipment_json([packed_case(producer).case]))


def anchor(actor, shipment: dict, kind: str, by: str = "Producer", **fields) -> dict:
    return actor(by).submit("AnchorDocument", anchor_json(shipment["id"], kind, **fields), endorsers=ENDORSERS)


def refused_unchanged(who, document_id: str, signature: str, statement: dict | None = None, certificate: str = "",
                      version: str = "") -> str:  # fmt: skip
    """Submit a signature the chaincode must refuse; check the document did not change on any peer; the message."""
    before = who.read("GetDocument", document_id, "")
    message = who.refused("SignDocument", document_id, version, signature, json.dumps(statement or {}), certificate,
                          endorsers=ENDORSERS)  # fmt: skip
    assert who.read("GetDocument", document_id, "") == before
    return message


def pem(certificate: x509.Certificate | bytes) -> str:
    if isinstance(certificate, bytes):
        return certificate.decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_a_signature_is_recorded_with_the_signers_certificate_in_low_s_der(actor, shipment):
    note = anchor(actor, shipment, "consignment_note")
    assert (note["version"], note["status"], note["next"], note["signatures"]) == (1, "awaiting_signatures", 0, [])
    assert [(s["party"], s["msp"]) for s in note["requiredSigners"]] == [
        ("shipper", "ProducerMSP"), ("carrier", "LogisticsMSP"), ("consignee", "RetailerMSP")]  # fmt: skip
    producer = actor("Producer")
    assert note["id"] in {d["id"] for d in producer.read("Inbox", "200", "")["documents"]}
    signed = producer.sign_document(note["id"], "shipper", ENDORSERS, {"remarks": "2 pallets, 4 °C"}, p1363=True)
    assert (signed["status"], signed["next"]) == ("awaiting_signatures", 1)
    record = signed["signatures"][0]
    assert (record["party"], record["msp"], record["enrollmentId"], record["statement"]) == (
        "shipper", "ProducerMSP", "User1", {"remarks": "2 pallets, 4 °C"})  # fmt: skip
    assert record["certificate"] == producer.certificate.decode()
    der = base64.b64decode(record["signature"])
    assert decode_dss_signature(der)[1] <= N // 2
    certificate = x509.load_pem_x509_certificate(record["certificate"].encode())
    certificate.public_key().verify(der, record["payload"].encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(record["payload"])["statement"] == {"remarks": "2 pallets, 4 °C"}
    # The document moves from the shipper's inbox to the carrier's.
    assert note["id"] not in {d["id"] for d in producer.read("Inbox", "200", "")["documents"]}
    assert note["id"] in {d["id"] for d in actor("Logistics").read("Inbox", "200", "")["documents"]}
    assert actor("Regulator").read("GetDocument", note["id"], "1") == signed


def test_a_forged_signature_is_rejected(actor, shipment):
    note = anchor(actor, shipment, "bill_of_lading")
    producer = actor("Producer")
    payload = producer.payload(note["id"], "shipper")
    by_another_key = actor("Retailer").sign(payload)
    message = refused_unchanged(producer, note["id"], by_another_key)
    assert message.startswith("INVALID_SIGNATURE: the signature does not verify over the signing payload")
    # A genuine signature over other words than those submitted.
    over_other_words = producer.sign(producer.payload(note["id"], "shipper", {"remarks": "seal intact"}))
    message = refused_unchanged(producer, note["id"], over_other_words, {"remarks": "seal broken"})
    assert message.startswith("INVALID_SIGNATURE: the signature does not verify")
    message = refused_unchanged(producer, note["id"], "bm90IGEgc2lnbmF0dXJl")
    assert message.startswith("INVALID_ARGUMENT: the signature is neither DER nor 64-byte P1363")


def test_a_certificate_from_another_organisations_ca_is_rejected(actor, shipment):
    note = anchor(actor, shipment, "delivery_note")
    producer, retailer = actor("Producer"), actor("Retailer")
    payload = producer.payload(note["id"], "shipper")
    message = refused_unchanged(producer, note["id"], retailer.sign(payload), certificate=pem(retailer.certificate))
    assert message.startswith("FORBIDDEN: the signer's certificate was issued by ")
    assert "ca.retailer" in message and "not by ProducerMSP's CA" in message


def test_a_certificate_made_by_a_forger_under_the_ca_name_is_rejected(actor, shipment):
    note = anchor(actor, shipment, "delivery_note")
    producer = actor("Producer")
    genuine = x509.load_pem_x509_certificate(producer.certificate)
    forger_ca, signer = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    forged = (x509.CertificateBuilder().subject_name(genuine.subject).issuer_name(genuine.issuer)
              .public_key(signer.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
              .sign(forger_ca, hashes.SHA256()))  # fmt: skip
    payload = producer.payload(note["id"], "shipper").encode()
    signature = base64.b64encode(signer.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    message = refused_unchanged(producer, note["id"], signature, certificate=pem(forged))
    assert message == ("FORBIDDEN: the signer's certificate names ProducerMSP's CA as its issuer but was not signed "
                       "by that CA's key")  # fmt: skip


def test_a_colleagues_certificate_from_the_same_ca_signs_with_its_own_role(actor, shipment):
    note = anchor(actor, shipment, "bill_of_lading", roles={"shipper": "admin"})
    submitter, admin = actor("Producer", "operator"), actor("Producer", "admin")
    payload = submitter.payload(note["id"], "shipper")
    # The operator's own signature does not have the role the document asks for.
    message = refused_unchanged(submitter, note["id"], submitter.sign(payload))
    assert message == (f"FORBIDDEN: the shipper's signature on {note['id']} must come from an identity with "
                       "role=admin, not role=operator")  # fmt: skip
    # The admin signs (say, in a browser) and the operator submits it with the admin's certificate.
    signed = submitter.submit("SignDocument", note["id"], "", admin.sign(payload), "{}", pem(admin.certificate),
                              endorsers=ENDORSERS)  # fmt: skip
    record = signed["signatures"][0]
    assert (record["role"], record["certificate"]) == ("admin", pem(admin.certificate))
    assert record["enrollmentId"] == x509.load_pem_x509_certificate(admin.certificate).subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value


def test_a_signature_replayed_on_another_document_is_rejected(actor, shipment):
    first, second = anchor(actor, shipment, "damage_report", by="Logistics"), None
    carrier = actor("Logistics")
    signature = carrier.sign(carrier.payload(first["id"], "carrier"))
    carrier.submit("SignDocument", first["id"], "", signature, "{}", "", endorsers=ENDORSERS)
    second = anchor(actor, shipment, "proof_of_delivery", by="Logistics")
    message = refused_unchanged(carrier, second["id"], signature)
    assert message == (f"INVALID_SIGNATURE: replayed signature: it is recorded on {first['id']} version "
                       f"{first['version']} (the carrier LogisticsMSP's); a signature counts for one document "
                       "version only")  # fmt: skip
    # The same signature in P1363 form, or with its high-S twin, is the same signature.
    r, s = decode_dss_signature(base64.b64decode(signature))
    for twin in (r.to_bytes(32, "big") + s.to_bytes(32, "big"), r.to_bytes(32, "big") + (N - s).to_bytes(32, "big")):
        assert refused_unchanged(carrier, second["id"], base64.b64encode(twin).decode()).startswith(
            "INVALID_SIGNATURE: replayed signature")
    # Submitted again on its own document, it is already there.
    assert refused_unchanged(carrier, first["id"], signature) == (
        f"CONFLICT: this signature is already recorded on {first['id']} version {first['version']}")


def test_signing_out_of_order_or_as_an_organisation_that_does_not_sign_is_rejected(actor, shipment):
    note = anchor(actor, shipment, "consignment_note")
    retailer, carrier = actor("Retailer"), actor("Logistics")
    early = retailer.sign(retailer.payload(note["id"], "consignee"))
    assert refused_unchanged(retailer, note["id"], early) == (
        f"CONFLICT: {note['id']} version {note['version']} waits for the shipper ProducerMSP to sign; RetailerMSP "
        "signs in its turn")  # fmt: skip
    delivery = anchor(actor, shipment, "delivery_note")
    actor("Producer").sign_document(delivery["id"], "shipper", ENDORSERS)
    signature = carrier.sign(retailer.payload(delivery["id"], "consignee"))
    assert refused_unchanged(carrier, delivery["id"], signature) == (
        f"FORBIDDEN: LogisticsMSP is not a signer of {delivery['id']} (it waits for the consignee RetailerMSP)")


def test_auditors_and_the_regulator_do_not_sign(actor, shipment):
    note = anchor(actor, shipment, "consignment_note")
    auditor = actor("Producer", "auditor")
    signature = auditor.sign(auditor.payload(note["id"], "shipper"))
    assert refused_unchanged(auditor, note["id"], signature).startswith(
        "FORBIDDEN: identities with role=auditor read but do not write")
    regulator = actor("Regulator")
    assert refused_unchanged(regulator, note["id"], regulator.sign(regulator.payload(note["id"], "shipper"))) == (
        "FORBIDDEN: the Regulator writes nothing but recalls")
    # An operator submitting an auditor's certificate does not sign for the auditor either.
    operator = actor("Producer", "operator")
    assert refused_unchanged(operator, note["id"], signature, certificate=pem(auditor.certificate)) == (
        "FORBIDDEN: identities with role=auditor read but do not sign")


def test_a_new_version_supersedes_the_old_and_needs_every_signature_again(actor, shipment):
    producer, carrier = actor("Producer"), actor("Logistics")
    first = anchor(actor, shipment, "consignment_note")
    producer.sign_document(first["id"], "shipper", ENDORSERS)
    carrier_signature = carrier.sign(carrier.payload(first["id"], "carrier", version=str(first["version"])))
    content = b"corrected consignment note"
    second = anchor(actor, shipment, "consignment_note", content=content)
    assert (second["version"], second["signatures"], second["next"]) == (first["version"] + 1, [], 0)
    old = producer.read("GetDocument", first["id"], str(first["version"]))
    assert (old["status"], len(old["signatures"])) == ("superseded", 1)
    assert refused_unchanged(carrier, first["id"], carrier_signature, version=str(first["version"])) == (
        f"CONFLICT: version {first['version']} of {first['id']} is superseded by version {second['version']}; "
        "sign the current version")  # fmt: skip
    # The old signature on the same party's payload is worth nothing on the new version.
    assert refused_unchanged(carrier, first["id"], carrier_signature).startswith("CONFLICT: ")
    message = producer.refused("AnchorDocument", anchor_json(shipment["id"], "consignment_note", content=content),
                               endorsers=ENDORSERS)  # fmt: skip
    assert message == (f"CONFLICT: version {second['version']} of {first['id']} already anchors this content "
                       f"({second['sha256']})")  # fmt: skip
    versions = [d["version"] for d in producer.read("ListDocuments", shipment["id"])["documents"]
                if d["id"] == first["id"]]  # fmt: skip
    assert versions == list(range(1, second["version"] + 1))
    inbox = {d["id"]: d["version"] for d in producer.read("Inbox", "200", "")["documents"]}
    assert inbox[first["id"]] == second["version"]
    assert producer.sign_document(first["id"], "shipper", ENDORSERS)["next"] == 1


def test_documents_are_read_by_parties_and_the_regulator_only(actor, goods):
    story = goods()
    producer = actor("Producer")
    own = producer.submit("CreateShipment", shipment_json([story.case], carriers=["ProducerMSP"]))
    note = producer.submit("AnchorDocument", anchor_json(own["id"], "delivery_note"), endorsers=own["endorsers"])
    for function, args in (("GetDocument", (note["id"], "")), ("ListDocuments", (own["id"],)),
                           ("SigningPayload", (note["id"], "", "shipper", "{}"))):  # fmt: skip
        assert actor("Logistics").read_refused(function, *args) == (
            f"FORBIDDEN: LogisticsMSP is not a party to shipment {own['id']}")
    assert actor("Regulator").read("GetDocument", note["id"], "")["sha256"] == note["sha256"]
