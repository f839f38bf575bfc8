"""Documents: kinds, who signs each and in which order, anchors, statements and the next signer.

A document is ``"<shipment>:<kind>"``; every anchor of it is a new version that supersedes the previous
one. The content stays off the ledger (the gateway stores it by its SHA-256); the ledger holds the hash,
the parties required to sign and their signatures.
"""

from __future__ import annotations

import re

from ..errors import Conflict, Forbidden, InvalidArgument
from ..provenance import identifiers as ids
from .shipments import _text, check_id

SHIPPER, CARRIER, CONSIGNEE = "shipper", "carrier", "consignee"
PARTY_NAMES = (SHIPPER, CARRIER, CONSIGNEE)
# Signing order by kind; a carrier entry expands to each carrier of the shipment, in their order.
SIGNING_ORDER = {
    "consignment_note": (SHIPPER, CARRIER, CONSIGNEE),
    "bill_of_lading": (SHIPPER, CARRIER),
    "delivery_note": (SHIPPER, CONSIGNEE),
    "proof_of_delivery": (CARRIER, CONSIGNEE),
    "damage_report": (CARRIER, CONSIGNEE),
}
KINDS = tuple(SIGNING_ORDER)
SIGNER_ROLES = ("admin", "operator")
CONDITIONS = ("good", "damaged", "partial")
AWAITING, SIGNED, SUPERSEDED = "awaiting_signatures", "signed", "superseded"
MAX_REMARKS = 2000
MAX_FILENAME = 255
MAX_SIZE = 1 << 40
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}"
                           r"(\s*;\s*[A-Za-z0-9_.+-]{1,64}=[A-Za-z0-9_.+\"-]{1,64}){0,4}$")  # fmt: skip
ANCHOR_FIELDS = frozenset({"shipment", "kind", "sha256", "contentType", "size", "filename", "roles"})


def document_id(shipment_id: str, kind: str) -> str:
    return f"{shipment_id}:{kind}"


def parse_document_id(value) -> tuple[str, str]:
    """``(shipment id, kind)`` of a document id ``"<shipment>:<kind>"``."""
    if not isinstance(value, str) or value.count(":") != 1:
        raise InvalidArgument(f"document id must be \"<shipment>:<kind>\", got {value!r}")
    shipment_id, kind = value.split(":")
    check_id(shipment_id)
    if kind not in KINDS:
        raise InvalidArgument(f"document kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return shipment_id, kind


def parse_version(value, allow_latest: bool = True) -> int | None:
    """A version argument: a positive integer, or "" for the latest (None)."""
    if value in ("", None) and allow_latest:
        return None
    if isinstance(value, str) and value.isdigit() and 0 < int(value) < 10**6:
        return int(value)
    raise InvalidArgument(f"version must be a positive integer{' or empty for the latest' if allow_latest else ''}, "
                          f"got {value!r}")  # fmt: skip


def parse_anchor(doc: dict) -> dict:
    """An AnchorDocument argument, validated (the shipment itself is checked by the contract)."""
    unknown = sorted(set(doc) - ANCHOR_FIELDS)
    if unknown:
        raise InvalidArgument(f"unknown document field {unknown[0]!r}")
    if doc.get("kind") not in KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(doc.get("sha256"), str) or not _SHA256.match(doc["sha256"]):
        raise InvalidArgument("sha256 must be 64 lowercase hexadecimal characters")
    if not isinstance(doc.get("contentType"), str) or not _CONTENT_TYPE.match(doc["contentType"]):
        raise InvalidArgument("contentType must be a media type such as application/pdf")
    size = doc.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_SIZE:
        raise InvalidArgument(f"size must be an integer from 1 to {MAX_SIZE}")
    filename = _text(doc.get("filename"), "filename", MAX_FILENAME, required=False)
    if filename is not None and any(c in filename for c in "/\\\n\t"):
        raise InvalidArgument("filename must be a bare file name (no path separators or line breaks)")
    roles = doc.get("roles") or {}
    if not isinstance(roles, dict) or any(p not in PARTY_NAMES or r not in SIGNER_ROLES for p, r in roles.items()):
        raise InvalidArgument(f"roles maps parties ({', '.join(PARTY_NAMES)}) to a signer role "
                              f"({', '.join(SIGNER_ROLES)})")  # fmt: skip
    order = SIGNING_ORDER[doc["kind"]]
    extra = sorted(p for p in roles if p not in order)
    if extra:
        raise InvalidArgument(f"a {doc['kind']} is not signed by the {extra[0]}")
    return {"shipment": check_id(doc.get("shipment")), "kind": doc["kind"], "sha256": doc["sha256"],
            "contentType": doc["contentType"], "size": size, "filename": filename, "roles": roles}  # fmt: skip


def required_signers(kind: str, shipment: dict, roles: dict) -> list[dict]:
    """The signers of a document of ``kind`` on ``shipment``, in signing order."""
    found = []
    for party in SIGNING_ORDER[kind]:
        msps = shipment["carriers"] if party == CARRIER else [shipment[party]]
        found += [{"party": party, "msp": msp, "role": roles.get(party)} for msp in msps]
    return found


def next_index(record: dict) -> int | None:
    """The index into requiredSigners of the next signer, None once all have signed."""
    count = len(record["signatures"])
    return count if count < len(record["requiredSigners"]) else None


def resolve_party(record: dict, party: str) -> dict:
    """The required-signer entry ``party`` names: a party name or an MSP ID, the first not yet signed."""
    signed = len(record["signatures"])
    entries = list(enumerate(record["requiredSigners"]))
    matching = [(i, e) for i, e in entries if party in (e["party"], e["msp"])]
    if not matching:
        names = ", ".join(f"{e['party']} {e['msp']}" for e in record["requiredSigners"])
        raise InvalidArgument(f"{party!r} does not sign {record['id']} (its signers: {names})")
    pending = [e for i, e in matching if i >= signed]
    return (pending or [matching[0][1]])[0]


def parse_statement(text_doc: dict, kind: str, party: str, shipment: dict) -> dict:
    """A signer's statement: ``{}`` or ``{"remarks"}``; the consignee of a proof of delivery adds what it received."""
    allowed = {"remarks"}
    pod_consignee = kind == "proof_of_delivery" and party == CONSIGNEE
    if pod_consignee:
        allowed |= {"received", "condition"}
    unknown = sorted(set(text_doc) - allowed)
    if unknown:
        raise InvalidArgument(f"statement field {unknown[0]!r} is not allowed here (allowed: {', '.join(sorted(allowed))})")
    statement = {}
    if "remarks" in text_doc:
        statement["remarks"] = _text(text_doc["remarks"], "statement.remarks", MAX_REMARKS)
    if pod_consignee:
        if text_doc.get("condition") not in CONDITIONS:
            raise InvalidArgument(f"the consignee's proof of delivery states the condition: {', '.join(CONDITIONS)}")
        received = text_doc.get("received")
        if not isinstance(received, list) or not received:
            raise InvalidArgument("the consignee's proof of delivery lists what it received: "
                                  "[{\"id\": unit, \"quantity\": int >= 0}, ...]")  # fmt: skip
        units = dict(zip(shipment["unitKeys"], shipment["units"]))
        seen = set()
        for entry in received:
            if not isinstance(entry, dict) or set(entry) != {"id", "quantity"}:
                raise InvalidArgument("each received entry is {\"id\": unit, \"quantity\": int >= 0}")
            quantity = entry["quantity"]
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidArgument("received quantities are integers >= 0")
            key = ids.parse(entry["id"], (ids.SSCC, ids.SGTIN), "received id").key
            if key not in units:
                raise InvalidArgument(f"{entry['id']} is not a unit of shipment {shipment['id']}")
            if key in seen:
                raise InvalidArgument(f"{entry['id']} is listed twice in received")
            seen.add(key)
        statement["received"] = received
        statement["condition"] = text_doc["condition"]
    return statement


def check_next_signer(record: dict, msp: str, role: str | None) -> dict:
    """The required-signer entry ``msp`` may sign now; CONFLICT out of order, FORBIDDEN for anyone else."""
    if record["status"] == SUPERSEDED:
        raise Conflict(f"version {record['version']} of {record['id']} is superseded; sign the current version")
    index = next_index(record)
    if index is None:
        raise Conflict(f"version {record['version']} of {record['id']} is already signed by every party")
    entry = record["requiredSigners"][index]
    if entry["msp"] != msp:
        if any(e["msp"] == msp for e in record["requiredSigners"]):
            raise Conflict(f"{record['id']} version {record['version']} waits for the {entry['party']} "
                           f"{entry['msp']} to sign; {msp} signs in its turn")  # fmt: skip
        raise Forbidden(f"{msp} is not a signer of {record['id']} (it waits for the {entry['party']} {entry['msp']})")
    if entry["role"] and role != entry["role"]:
        raise Forbidden(f"the {entry['party']}'s signature on {record['id']} must come from an identity with "
                        f"role={entry['role']}, not role={role}")  # fmt: skip
    return entry
