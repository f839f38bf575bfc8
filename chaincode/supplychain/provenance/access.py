"""Who may write what: every permission rule of the provenance contract, in one place.

- Only Producer members commission (create items, lots or transformation outputs).
- Only the custodian's organisation records events about an object, except receiving it
  after it was shipped. A shipment whose destinationList names members is received only by
  one of them.
- The Regulator writes nothing but recalls; a lot's producer may recall it too.
- An identity whose certificate carries ``role=auditor`` reads but never writes; ``role=verifier``
  (a gateway's public scanner) reads and records verification scans, nothing else. Any other member
  identity but the Regulator's may record scans too.

Members appear in EPCIS events as parties ``urn:supplychain:org:<MSP ID>`` (for example
``urn:supplychain:org:RetailerMSP``), the source or destination of type ``owning_party`` or
``possessing_party`` (CBV 2.0, any spelling: ``possessing_party``,
``https://ref.gs1.org/cbv/SDT-possessing_party`` or ``urn:epcglobal:cbv:sdt:possessing_party``).
A shipping event whose destinationList names one or more members, of either type, may be
received by any of them, and by no other member; a shipment sent through a carrier names the
carrier for that leg. Other party identifiers (PGLNs) and ``location`` destinations are kept as
data: they do not name a member, so they restrict nobody. The custodian that shipped an object
still holds it and may record events about it, receiving it back included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography import x509
from fabric_chaincode_python.fabric_contract_api import TransactionContext

from ..errors import Forbidden

PRODUCER_MSP = "ProducerMSP"
REGULATOR_MSP = "RegulatorMSP"
READ_ONLY_ROLES = frozenset({"auditor"})
SCAN_ONLY_ROLES = frozenset({"verifier"})

# Fabric CA writes certificate attributes as JSON ({"attrs": {...}}) in this X.509 extension.
_ATTRS_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")


@dataclass(frozen=True)
class Caller:
    """The submitting identity: its organisation and the attributes the rules look at."""

    msp: str
    role: str | None = None
    enrollment_id: str | None = None

    @property
    def can_write(self) -> bool:
        return self.msp != REGULATOR_MSP and self.role not in READ_ONLY_ROLES | SCAN_ONLY_ROLES


def certificate_attributes(cert: bytes) -> dict:
    """The Fabric CA attributes of a PEM or DER certificate (empty when it carries none)."""
    loaded = x509.load_pem_x509_certificate(cert) if cert.lstrip().startswith(b"-----BEGIN") \
        else x509.load_der_x509_certificate(cert)  # fmt: skip
    try:
        raw = loaded.extensions.get_extension_for_oid(_ATTRS_OID).value.value
    except x509.ExtensionNotFound:
        return {}
    try:
        return json.loads(raw).get("attrs", {})
    except ValueError:
        return {}


def caller(ctx: TransactionContext) -> Caller:
    """The caller of the current transaction."""
    identity = ctx.get_client_identity()
    attrs: dict = {}
    # fabric-chaincode-python 2.5.4 never fills in get_attribute, so the certificate is read here.
    if identity.get_attribute("role") is None:
        try:
            attrs = certificate_attributes(identity.get_x509())
        except Exception:  # an identity without a certificate simply has no attributes
            attrs = {}
    role = identity.get_attribute("role") or attrs.get("role")
    enrollment = identity.get_attribute("hf.EnrollmentID") or attrs.get("hf.EnrollmentID")
    return Caller(identity.get_mspid(), role, enrollment)


def require_writer(who: Caller) -> None:
    """Writes other than recalls: not the Regulator, not a read-only role."""
    if who.msp == REGULATOR_MSP:
        raise Forbidden("the Regulator writes nothing but recalls")
    if who.role in READ_ONLY_ROLES:
        raise Forbidden(f"identities with role={who.role} read but do not write")
    if who.role in SCAN_ONLY_ROLES:
        raise Forbidden(f"identities with role={who.role} record verification scans and nothing else")


def require_scanner(who: Caller) -> None:
    """Recording a verification scan: any member identity but the Regulator's and read-only roles."""
    if who.msp == REGULATOR_MSP:
        raise Forbidden("the Regulator writes nothing but recalls; scans are recorded through another member")
    if who.role in READ_ONLY_ROLES:
        raise Forbidden(f"identities with role={who.role} read but do not write")


def require_producer(who: Caller, what: str) -> None:
    """Creating identities (commissioning, transformation outputs) is for Producer members."""
    if who.msp != PRODUCER_MSP:
        raise Forbidden(f"only {PRODUCER_MSP} members commission; {who.msp} cannot create {what}")


def require_product_owner(who: Caller, product: dict) -> None:
    """Items of a product class are commissioned only by the class's producer."""
    if product["producer"] != who.msp:
        raise Forbidden(f"GTIN {product['gtin']} belongs to {product['producer']}; {who.msp} cannot commission it")


def require_custodian(who: Caller, record: dict, receiving: bool) -> None:
    """The custodian records events; another organisation may only receive what was shipped (to it)."""
    if record["custodian"] == who.msp:
        return
    if not receiving:
        raise Forbidden(f"{record['id']} is held by {record['custodian']}; only its custodian records events about it")
    if not record.get("inTransit"):
        raise Forbidden(f"{record['id']} was not shipped by {record['custodian']}; {who.msp} cannot receive it")
    if record.get("shippedTo") and who.msp not in record["shippedTo"]:
        raise Forbidden(f"{record['id']} was shipped to {', '.join(record['shippedTo'])}; {who.msp} cannot receive it")


def require_can_recall(who: Caller, lot: dict) -> None:
    """A recall is ordered by the Regulator or by the lot's producer."""
    if who.role in READ_ONLY_ROLES | SCAN_ONLY_ROLES:
        raise Forbidden(f"identities with role={who.role} do not recall")
    if who.msp not in (REGULATOR_MSP, lot["producer"]):
        raise Forbidden(f"only {lot['producer']} (the lot's producer) or {REGULATOR_MSP} recall {lot['id']}")
