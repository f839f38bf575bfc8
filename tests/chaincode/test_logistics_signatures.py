"""Pieces of the logistics contract that need no peer: signing payloads, signature encodings, certificate
checks and the key-level endorsement policy bytes. tests/logistics runs the contract on the real network."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID
from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2

from chaincode.supplychain import stubext
from chaincode.supplychain.errors import (
    Conflict,
    Forbidden,
    InvalidArgument,
    InvalidSignature,
)
from chaincode.supplychain.logistics import documents as docs
from chaincode.supplychain.logistics import shipments as ships
from chaincode.supplychain.logistics import signatures as sigs

NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)
RECORD = {"id": "SHP-1:consignment_note", "version": 2, "shipment": "SHP-1", "kind": "consignment_note",
          "sha256": "ab" * 32}  # fmt: skip


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Producer")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificate(subject: x509.Name, key, issuer: x509.Name, issuer_key, ca: bool = False,
                 days: tuple[int, int] = (-30, 365)) -> x509.Certificate:  # fmt: skip
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=days[0]))
               .not_valid_after(NOW + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))  # fmt: skip
    return builder.sign(issuer_key, hashes.SHA256())


class CA:
    """A CA with a P-256 key, issuing client certificates the way Fabric CA does."""

    def __init__(self, cn: str = "ca.producer.supplychain.example", key=None):
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.name = _name(cn)
        self.cert = _certificate(self.name, self.key, self.name, self.key, ca=True)

    def issue(self, cn: str, ou: str = "client", **kw) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        return _certificate(_name(cn, ou), key, self.name, self.key, **kw), key


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def p1363(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_the_payload_is_canonical_json_with_every_field_the_signer_commits_to():
    payload = sigs.signing_payload(RECORD, "shipper", "ProducerMSP", {"remarks": "Zürich, 2 palettes"})
    assert payload == ('{"context":"supplychain/document-signature/v1","document":"SHP-1:consignment_note",'
                       '"kind":"consignment_note","msp":"ProducerMSP","party":"shipper","sha256":"' + "ab" * 32 +
                       '","shipment":"SHP-1","statement":{"remarks":"Zürich, 2 palettes"},"version":2}')  # fmt: skip
    # Any client rebuilds the same bytes from the fields, whatever order it wrote them in.
    fields = json.loads(payload)
    again = json.dumps(dict(reversed(list(fields.items()))), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again.encode() == payload.encode("utf-8")


def test_der_and_p1363_of_one_signature_normalise_to_the_same_low_s_der():
    key = ec.generate_private_key(ec.SECP256R1())
    for _ in range(8):  # about half of all signatures have a high S
        der = key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        low, high = min(s, sigs.N - s), max(s, sigs.N - s)
        expected = encode_dss_signature(r, low)
        twins = (der, p1363(der), encode_dss_signature(r, high), p1363(encode_dss_signature(r, high)))
        assert {sigs.normalise(b64(t)) for t in twins} == {expected}
        # URL-safe base64 without padding, as some browsers' helpers write it.
        assert sigs.normalise(base64.urlsafe_b64encode(p1363(der)).decode().rstrip("=")) == expected
        key.public_key().verify(expected, b"payload", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("text, message", [
    ("", "1 to 200 characters"),
    ("not base64!", "not base64"),
    (b64(b"\x30\x02\x01\x01"), "neither DER nor 64-byte P1363"),
    (b64(bytes(63)), "neither DER nor 64-byte P1363"),
    (b64(bytes(64)), "between 1 and the P-256 group order"),
    (b64(sigs.N.to_bytes(32, "big") + (1).to_bytes(32, "big")), "between 1 and the P-256 group order"),
])  # fmt: skip
def test_malformed_signatures_are_invalid_arguments(text, message):
    with pytest.raises(InvalidArgument, match=message):
        sigs.normalise(text)


def test_a_der_signature_with_trailing_bytes_is_not_accepted_as_der():
    der = ec.generate_private_key(ec.SECP256R1()).sign(b"x", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidArgument):
        sigs.normalise(b64(der + b"\x00"))


def test_verification_needs_the_certificates_key_and_the_exact_payload():
    ca = CA()
    cert, key = ca.issue("User1")
    payload = sigs.signing_payload(RECORD, "shipper", "ProducerMSP", {})
    good = sigs.normalise(b64(key.sign(payload.encode(), ec.ECDSA(hashes.SHA256()))))
    sigs.verify(cert, payload, good)
    with pytest.raises(InvalidSignature, match="does not verify"):
        sigs.verify(cert, payload.replace('"version":2', '"version":3'), good)
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidSignature, match="does not verify"):
        sigs.verify(cert, payload, sigs.normalise(b64(other.sign(payload.encode(), ec.ECDSA(hashes.SHA256())))))


def test_a_certificate_counts_as_the_organisations_only_if_the_creators_ca_key_signed_it():
    ca = CA()
    creator, _ = ca.issue("operator1")
    admin, _ = ca.issue("admin1", ou="admin")
    sigs.check_issued_alongside(admin, creator, "ProducerMSP")
    # Another organisation's CA: another issuer.
    retailer, _ = CA("ca.retailer.supplychain.example").issue("buyer")
    with pytest.raises(Forbidden, match="issued by .*ca.retailer.*not by ProducerMSP's CA"):
        sigs.check_issued_alongside(retailer, creator, "ProducerMSP")
    # A forger's own CA with the very same name: right issuer name, wrong key.
    forged, _ = CA().issue("admin1", ou="admin")
    with pytest.raises(Forbidden, match="not signed by that CA's key"):
        sigs.check_issued_alongside(forged, creator, "ProducerMSP")


def test_the_ca_key_is_recovered_from_the_creator_certificates_signature():
    ca = CA()
    creator, _ = ca.issue("operator1")
    keys = list(sigs._issuer_keys(creator))
    assert 1 <= len(keys) <= 4
    assert ca.key.public_key().public_numbers() in [k.public_numbers() for k in keys]


def test_validity_is_checked_at_the_transaction_time():
    ca = CA()
    current, _ = ca.issue("now")
    sigs.check_validity(current, NOW)
    expired, _ = ca.issue("old", days=(-400, -1))
    with pytest.raises(Forbidden, match="not at the transaction time"):
        sigs.check_validity(expired, NOW)
    future, _ = ca.issue("soon", days=(1, 30))
    with pytest.raises(Forbidden, match="not at the transaction time"):
        sigs.check_validity(future, NOW)


def test_peers_orderers_and_cas_do_not_sign_documents():
    ca = CA()
    for ou in ("client", "admin"):
        sigs.check_end_entity(ca.issue("someone", ou=ou)[0])
    for ou in ("peer", "orderer"):
        with pytest.raises(Forbidden, match=f"is a {ou} identity"):
            sigs.check_end_entity(ca.issue("node", ou=ou)[0])
    with pytest.raises(Forbidden, match="CA certificate"):
        sigs.check_end_entity(ca.cert)


def test_the_key_level_policy_is_an_and_of_each_organisations_peer_role():
    raw = stubext.all_peers_policy(["ProducerMSP", "LogisticsMSP", "ProducerMSP"])
    envelope = policies_pb2.SignaturePolicyEnvelope.FromString(raw)
    assert envelope.version == 0
    assert envelope.rule.n_out_of.n == 2
    assert [r.signed_by for r in envelope.rule.n_out_of.rules] == [0, 1]
    roles = [msp_principal_pb2.MSPRole.FromString(p.principal) for p in envelope.identities]
    assert [(r.msp_identifier, r.role) for r in roles] == [("LogisticsMSP", msp_principal_pb2.MSPRole.PEER),
                                                           ("ProducerMSP", msp_principal_pb2.MSPRole.PEER)]
    assert all(p.principal_classification == msp_principal_pb2.MSPPrincipal.ROLE for p in envelope.identities)
    assert stubext.policy_organizations(raw) == ["LogisticsMSP", "ProducerMSP"]
    # Every endorser must write the same bytes, whatever order the organisations came in.
    assert raw == stubext.all_peers_policy(["LogisticsMSP", "ProducerMSP"])
    with pytest.raises(ValueError):
        stubext.all_peers_policy([])


def test_endorsers_are_the_shipper_and_carriers_or_the_consignee_as_well_when_alone():
    assert ships.endorsers("ProducerMSP", ["LogisticsMSP"], "RetailerMSP") == ["LogisticsMSP", "ProducerMSP"]
    assert ships.endorsers("ProducerMSP", ["ProducerMSP"], "RetailerMSP") == ["ProducerMSP", "RetailerMSP"]


def test_signing_order_expands_every_carrier_in_order():
    shipment = {"shipper": "ProducerMSP", "carriers": ["LogisticsMSP", "RetailerMSP"], "consignee": "RetailerMSP"}
    signers = docs.required_signers("consignment_note", shipment, {"carrier": "operator"})
    assert [(s["party"], s["msp"], s["role"]) for s in signers] == [
        ("shipper", "ProducerMSP", None), ("carrier", "LogisticsMSP", "operator"),
        ("carrier", "RetailerMSP", "operator"), ("consignee", "RetailerMSP", None)]  # fmt: skip
    assert [s["party"] for s in docs.required_signers("proof_of_delivery", shipment, {})] == [
        "carrier", "carrier", "consignee"]  # fmt: skip


def _anchor(**fields) -> dict:
    return {"shipment": "SHP-1", "kind": "proof_of_delivery", "sha256": "0" * 64, "contentType": "application/pdf",
            "size": 10, **fields}  # fmt: skip


@pytest.mark.parametrize("fields, message", [
    ({"kind": "invoice"}, "kind must be one of"),
    ({"sha256": "A" * 64}, "sha256 must be 64 lowercase hexadecimal"),
    ({"contentType": "pdf"}, "contentType must be a media type"),
    ({"size": 0}, "size must be an integer from 1"),
    ({"size": True}, "size must be an integer from 1"),
    ({"filename": "../etc/passwd"}, "filename must be a bare file name"),
    ({"roles": {"carrier": "auditor"}}, "roles maps parties"),
    ({"roles": {"shipper": "admin"}}, "a proof_of_delivery is not signed by the shipper"),
    ({"shipment": "SHP 1"}, "shipment id must be"),
    ({"hash": "x"}, "unknown document field 'hash'"),
])  # fmt: skip
def test_anchors_are_validated_field_by_field(fields, message):
    with pytest.raises(InvalidArgument, match=message):
        docs.parse_anchor(_anchor(**fields))


def test_an_anchor_keeps_what_the_ledger_records():
    parsed = docs.parse_anchor(_anchor(contentType="application/pdf; charset=binary", roles={"consignee": "operator"}))
    assert (parsed["contentType"], parsed["filename"], parsed["roles"]) == (
        "application/pdf; charset=binary", None, {"consignee": "operator"})  # fmt: skip


SHIPMENT = {"id": "SHP-1", "shipper": "ProducerMSP", "carriers": ["LogisticsMSP"], "consignee": "RetailerMSP",
            "units": ["urn:epc:id:sscc:0614141.1234567890"], "unitKeys": ["/00/106141412345678908"]}  # fmt: skip


def test_only_the_consignee_of_a_proof_of_delivery_states_what_it_received():
    received = {"received": [{"id": "/00/106141412345678908", "quantity": 3}], "condition": "partial"}
    assert docs.parse_statement(received, "proof_of_delivery", "consignee", SHIPMENT) == received
    assert docs.parse_statement({"remarks": "ok"}, "consignment_note", "consignee", SHIPMENT) == {"remarks": "ok"}
    with pytest.raises(InvalidArgument, match=r"statement field 'condition' is not allowed here \(allowed: remarks\)"):
        docs.parse_statement(received, "proof_of_delivery", "carrier", SHIPMENT)
    with pytest.raises(InvalidArgument, match="lists what it received"):
        docs.parse_statement({"condition": "good"}, "proof_of_delivery", "consignee", SHIPMENT)
    with pytest.raises(InvalidArgument, match="listed twice"):
        docs.parse_statement({"received": received["received"] * 2, "condition": "good"}, "proof_of_delivery",
                             "consignee", SHIPMENT)  # fmt: skip
    with pytest.raises(InvalidArgument, match="at most 2000"):
        docs.parse_statement({"remarks": "x" * 2001}, "bill_of_lading", "shipper", SHIPMENT)


def test_the_next_signer_is_named_when_someone_signs_out_of_turn():
    record = {"id": "SHP-1:consignment_note", "version": 1, "status": docs.AWAITING, "signatures": [],
              "requiredSigners": docs.required_signers("consignment_note", SHIPMENT, {"carrier": "operator"})}
    assert docs.check_next_signer(record, "ProducerMSP", None)["party"] == "shipper"
    with pytest.raises(Conflict, match="waits for the shipper ProducerMSP to sign; RetailerMSP signs in its turn"):
        docs.check_next_signer(record, "RetailerMSP", "admin")
    with pytest.raises(Forbidden, match="RegulatorMSP is not a signer"):
        docs.check_next_signer(record, "RegulatorMSP", None)
    record["signatures"].append({})
    with pytest.raises(Forbidden, match="role=operator, not role=admin"):
        docs.check_next_signer(record, "LogisticsMSP", "admin")
    assert docs.resolve_party(record, "carrier")["msp"] == "LogisticsMSP"
    assert docs.resolve_party(record, "ProducerMSP")["party"] == "shipper"
    record["signatures"] += [{}, {}]
    with pytest.raises(Conflict, match="already signed by every party"):
        docs.check_next_signer(record, "RetailerMSP", None)


def test_milestones_and_readings_are_validated():
    now = "2026-06-01T12:00:00.000Z"
    parsed = ships.parse_milestone({"type": "departed", "location": {"name": "Dock", "geo": {"lat": 1, "lon": 2}},
                                    "readings": [{"type": "humidity", "value": 80}]}, now)  # fmt: skip
    assert parsed["readings"] == [{"type": "humidity", "value": 80, "unit": "PCT", "time": now}]
    assert ships.excursion({"type": "temperature", "value": 50, "unit": "FAR"},
                           {"temperature": {"min": 1, "max": 8, "unit": "CEL"}}) == "temperature 10.0 CEL outside 1..8"
    for bad, message in (({"type": "departed", "location": {"name": "x", "geo": {"lat": 91, "lon": 0}}}, "lat"),
                         ({"type": "departed", "location": {"name": "x"}, "readings": [{"type": "co2", "value": 1}]},
                          "temperature or humidity"),
                         ({"type": "departed", "location": {"name": "x"}, "readings": [
                             {"type": "humidity", "value": 1, "unit": "CEL"}]}, "unit must be one of PCT")):  # fmt: skip
        with pytest.raises(InvalidArgument, match=message):
            ships.parse_milestone(bad, now)
