"""The logistics contract: shipments, their milestones, and documents signed by the parties' own keys.

Transactions take and return JSON text; every write emits one chaincode event (``names``) and writes
nothing unless every check passed. Shipment and document records carry a key-level endorsement policy:
a peer of each organisation in the shipment's ``endorsers`` must endorse every later write of them.
The shapes of the records are described in ``/work/spec-logistics.md`` and in each transaction below.
"""

from __future__ import annotations

import datetime
import hashlib

from fabric_chaincode_python.fabric_contract_api import Contract, TransactionContext

from .. import stubext
from ..errors import Conflict, Forbidden, InvalidSignature, LimitExceeded, NotFound
from ..provenance import access
from ..provenance.ledger import canonical, parse_object, parse_page_size, tx_time
from . import documents as docs
from . import names
from . import shipments as ships
from . import signatures as sigs
from .custody import Custody, check_units
from .state import (
    DOCUMENT,
    INBOX,
    MILESTONE,
    PARTY,
    SEQUENCE_DIGITS,
    SHIPMENT,
    SIGNATURE,
    UNIT,
    LogisticsLedger,
    version_part,
)

MAX_MILESTONES = 500
MAX_VERSIONS = 20


def _emit(ctx: TransactionContext, name: str, payload: dict) -> str:
    text = canonical(payload)
    ctx.get_stub().set_event(name, text.encode())
    return text


def _tx_datetime(ctx: TransactionContext) -> datetime.datetime:
    ts = ctx.get_stub().get_tx_timestamp()
    return datetime.datetime.fromtimestamp(ts.seconds, datetime.UTC).replace(microsecond=ts.nanos // 1000)


async def _shipment(ledger: LogisticsLedger, shipment_id: str) -> dict:
    shipment = await ledger.get(SHIPMENT, ships.check_id(shipment_id))
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id}")
    return shipment


async def _readable_shipment(ledger: LogisticsLedger, who: access.Caller, shipment_id: str) -> dict:
    shipment = await _shipment(ledger, shipment_id)
    ships.require_reader(who, shipment)
    return shipment


async def _version(ledger: LogisticsLedger, shipment: dict, kind: str, version: int | None) -> dict:
    """A version record (the latest when ``version`` is None); NOT_FOUND if there is none."""
    latest = shipment["documents"].get(kind)
    doc_id = docs.document_id(shipment["id"], kind)
    if latest is None:
        raise NotFound(f"no document {doc_id} has been anchored")
    record = await ledger.get(DOCUMENT, shipment["id"], kind, version_part(version or latest))
    if record is None:
        raise NotFound(f"{doc_id} has no version {version} (the latest is {latest})")
    return record


def _signer(ctx: TransactionContext, who: access.Caller, certificate_pem: str) -> tuple:
    """The signer's certificate, role and enrolment ID: the creator's, or those of ``certificate_pem``."""
    creator = sigs.load_certificate(ctx.get_client_identity().get_x509(), "the submitter's certificate")
    if not certificate_pem:
        return creator, who.role, who.enrollment_id
    certificate = sigs.load_certificate(certificate_pem)
    sigs.check_issued_alongside(certificate, creator, who.msp)
    attrs = access.certificate_attributes(certificate_pem.encode())
    return certificate, attrs.get("role"), attrs.get("hf.EnrollmentID")


class LogisticsContract(Contract):
    """Shipments from a shipper through carriers to a consignee, their milestones and signed documents."""

    Name = "logistics"

    def get_evaluate_transactions(self) -> list[str]:
        return ["SigningPayload", "GetDocument", "ListDocuments", "Inbox", "GetShipment", "ListShipments"]

    async def CreateShipment(self, ctx: TransactionContext, shipment_json: str) -> str:
        """Create a shipment (its shipper only); returns the shipment record.

        The record adds ``status`` ("created"), ``endorsers``, ``custodian`` (the shipper), ``createdAt``,
        ``txId``, ``milestones`` and ``exceptions`` (counts), ``documents`` ({kind: latest version}) and
        ``unitKeys`` (the units' canonical provenance keys). Units must exist in provenance, be held by
        the shipper, not be in transit and be in no other open shipment.
        """
        who = access.caller(ctx)
        access.require_writer(who)
        shipment = ships.parse_shipment(parse_object(shipment_json, "shipment"))
        if who.msp != shipment["shipper"]:
            raise Forbidden(f"a shipment is created by its shipper {shipment['shipper']}, not by {who.msp}")
        ledger = LogisticsLedger(ctx)
        if await ledger.exists(SHIPMENT, shipment["id"]):
            raise Conflict(f"shipment {shipment['id']} already exists")
        await check_units(ledger, shipment)
        endorsers = ships.endorsers(shipment["shipper"], shipment["carriers"], shipment["consignee"])
        record = {**shipment, "status": ships.CREATED, "endorsers": endorsers, "custodian": shipment["shipper"],
                  "createdAt": tx_time(ctx), "createdBy": who.enrollment_id, "txId": ctx.get_stub().get_txid(),
                  "milestones": 0, "exceptions": 0, "excursions": 0, "documents": {}}  # fmt: skip
        ledger.put(SHIPMENT, [shipment["id"]], record)
        ledger.protect(SHIPMENT, [shipment["id"]], endorsers)
        for msp in ships.parties(shipment):
            ledger.put(PARTY, [msp, shipment["id"]], {})
        for key in shipment["unitKeys"]:
            ledger.put(UNIT, [key], {"shipment": shipment["id"]})
        await ledger.flush()
        return _emit(ctx, names.SHIPMENT_CREATED, record)

    async def RecordMilestone(self, ctx: TransactionContext, shipment_id: str, milestone_json: str) -> str:
        """Record a milestone (a carrier of the shipment); returns ``{"shipment", "status", "milestone"}``.

        picked_up moves custody from the shipper to the recording carrier; departed, arrived and delivered
        come from the carrier holding the goods; delivered ships them to the consignee. Readings are
        reported in provenance by the carrier holding the goods, with excursions flagged against the
        shipment's ``handling``.
        """
        who = access.caller(ctx)
        access.require_writer(who)
        now, tx_id = tx_time(ctx), ctx.get_stub().get_txid()
        ledger = LogisticsLedger(ctx)
        shipment = await _shipment(ledger, shipment_id)
        ships.require_carrier(who, shipment)
        milestone = ships.parse_milestone(parse_object(milestone_json, "milestone"), now)
        status = ships.next_status(shipment, milestone["type"])
        kind = milestone["type"]
        if kind not in ("picked_up", "exception") and shipment["custodian"] != who.msp:
            raise Forbidden(f"{shipment['custodian']} holds the goods of {shipment['id']}; {who.msp} cannot record "
                            f"{kind}")  # fmt: skip
        holder = who.msp if kind == "picked_up" else shipment["custodian"]
        if milestone["readings"] and holder != who.msp:
            raise Forbidden(f"readings are reported by the carrier holding the goods of {shipment['id']} "
                            f"(now {holder})")  # fmt: skip
        if shipment["milestones"] >= MAX_MILESTONES:
            raise LimitExceeded(f"shipment {shipment['id']} has {MAX_MILESTONES} milestones, the most it may have")
        custody = Custody(ledger, shipment, now, tx_id, milestone["location"])
        if kind == "picked_up":
            await custody.ship(shipment["shipper"], who.msp)
            await custody.receive(who.msp)
            shipment["custodian"] = who.msp
        if milestone["readings"]:
            await custody.observe(who.msp, milestone["readings"])
        if kind == "delivered":
            await custody.ship(who.msp, shipment["consignee"])
        flagged = 0
        for reading in milestone["readings"]:
            reason = ships.excursion(reading, shipment["handling"])
            reading.update(excursion=reason is not None, reason=reason)
            flagged += reason is not None
        sequence = shipment["milestones"] + 1
        milestone.update(sequence=sequence, recordedBy=who.msp, enrollmentId=who.enrollment_id, time=now, txId=tx_id,
                         status=status, events=custody.captured)  # fmt: skip
        shipment.update(status=status, milestones=sequence, exceptions=shipment["exceptions"] + (kind == "exception"),
                        excursions=shipment["excursions"] + flagged)  # fmt: skip
        ledger.put(MILESTONE, [shipment["id"], str(sequence).zfill(SEQUENCE_DIGITS)], milestone)
        ledger.put(SHIPMENT, [shipment["id"]], shipment)
        await ledger.flush()
        return _emit(ctx, names.MILESTONE_RECORDED, {"shipment": shipment["id"], "status": status,
                                                       "milestone": milestone})  # fmt: skip

    async def AnchorDocument(self, ctx: TransactionContext, document_json: str) -> str:
        """Anchor a new version of a shipment's document (a party of the shipment); returns the version record.

        The document id is ``"<shipment>:<kind>"``. A new version supersedes the previous one, which can no
        longer be signed; signatures never carry over. Anchoring the hash the current version already has
        is a CONFLICT.
        """
        who = access.caller(ctx)
        access.require_writer(who)
        anchor = docs.parse_anchor(parse_object(document_json, "document"))
        ledger = LogisticsLedger(ctx)
        shipment = await _shipment(ledger, anchor["shipment"])
        if who.msp not in ships.parties(shipment):
            raise Forbidden(f"{who.msp} is not a party to shipment {shipment['id']}; its parties anchor its documents")
        kind, doc_id = anchor["kind"], docs.document_id(shipment["id"], anchor["kind"])
        latest = shipment["documents"].get(kind, 0)
        if latest >= MAX_VERSIONS:
            raise LimitExceeded(f"{doc_id} has {MAX_VERSIONS} versions, the most a document may have")
        if latest:
            previous = await _version(ledger, shipment, kind, latest)
            if previous["sha256"] == anchor["sha256"]:
                raise Conflict(f"version {latest} of {doc_id} already anchors this content ({anchor['sha256']})")
            waiting = docs.next_index(previous)
            if waiting is not None:
                ledger.delete(INBOX, previous["requiredSigners"][waiting]["msp"], doc_id)
            previous["status"] = docs.SUPERSEDED
            ledger.put(DOCUMENT, [shipment["id"], kind, version_part(latest)], previous)
        record = {
            "id": doc_id, "version": latest + 1, "shipment": shipment["id"], "kind": kind, "sha256": anchor["sha256"],
            "contentType": anchor["contentType"], "size": anchor["size"], "filename": anchor["filename"],
            "anchoredBy": who.msp, "anchoredAt": tx_time(ctx), "txId": ctx.get_stub().get_txid(),
            "requiredSigners": docs.required_signers(kind, shipment, anchor["roles"]), "signatures": [], "next": 0,
            "status": docs.AWAITING,
        }  # fmt: skip
        ledger.put(DOCUMENT, [shipment["id"], kind, version_part(record["version"])], record)
        ledger.protect(DOCUMENT, [shipment["id"], kind, version_part(record["version"])], shipment["endorsers"])
        ledger.put(INBOX, [record["requiredSigners"][0]["msp"], doc_id], {"version": record["version"]})
        shipment["documents"][kind] = record["version"]
        ledger.put(SHIPMENT, [shipment["id"]], shipment)
        await ledger.flush()
        return _emit(ctx, names.DOCUMENT_ANCHORED, record)

    async def SigningPayload(self, ctx: TransactionContext, document_id: str, version: str, party: str,
                             statement_json: str) -> str:  # fmt: skip
        """The text ``party`` signs for a document version: ``{"payload", "sha256"}`` (version "" = latest).

        ``party`` is a party name (shipper, carrier, consignee) or an MSP ID; with several carriers it
        names the first that has not signed yet. ``payload`` is canonical JSON of ``{"context", "shipment",
        "document", "version", "kind", "sha256", "party", "msp", "statement"}``; ``sha256`` is the hex
        SHA-256 of its UTF-8 bytes.
        """
        who = access.caller(ctx)
        shipment_id, kind = docs.parse_document_id(document_id)
        ledger = LogisticsLedger(ctx)
        shipment = await _readable_shipment(ledger, who, shipment_id)
        record = await _version(ledger, shipment, kind, docs.parse_version(version))
        entry = docs.resolve_party(record, party)
        statement = docs.parse_statement(parse_object(statement_json or "{}", "statement"), kind, entry["party"],
                                         shipment)  # fmt: skip
        payload = sigs.signing_payload(record, entry["party"], entry["msp"], statement)
        return canonical({"payload": payload, "sha256": hashlib.sha256(payload.encode()).hexdigest()})

    async def SignDocument(self, ctx: TransactionContext, document_id: str, version: str, signature_b64: str,
                           statement_json: str, certificate_pem: str) -> str:  # fmt: skip
        """Record the next required signature on a document version; returns the version record.

        ``signature_b64`` is base64 of a DER or 64-byte P1363 ECDSA P-256 signature over the UTF-8 bytes of
        SigningPayload's ``payload`` for the next signer with ``statement_json``. ``certificate_pem`` is ""
        when the signer is the submitter, else the signer's certificate, issued by the submitter's
        organisation's CA. Rejections: version superseded or fully signed, out of order (CONFLICT); not a
        signer, wrong role, certificate of another CA or not valid now (FORBIDDEN); signature that does not
        verify, or already recorded on another document or version (INVALID_SIGNATURE). The consignee's
        signature on a proof of delivery needs a delivered shipment and completes it: the consignee
        receives the units in provenance and the shipment is ``received``.
        """
        who = access.caller(ctx)
        access.require_writer(who)
        shipment_id, kind = docs.parse_document_id(document_id)
        wanted = docs.parse_version(version)
        ledger = LogisticsLedger(ctx)
        shipment = await _readable_shipment(ledger, who, shipment_id)
        record = await _version(ledger, shipment, kind, wanted)
        if record["status"] == docs.SUPERSEDED:
            raise Conflict(f"version {record['version']} of {document_id} is superseded by version "
                           f"{shipment['documents'][kind]}; sign the current version")  # fmt: skip
        der = sigs.normalise(signature_b64)
        seen = await ledger.get(SIGNATURE, sigs.replay_key(der))
        if seen is not None:
            if (seen["document"], seen["version"]) == (record["id"], record["version"]):
                raise Conflict(f"this signature is already recorded on {record['id']} version {record['version']}")
            raise InvalidSignature(f"replayed signature: it is recorded on {seen['document']} version "
                                   f"{seen['version']} (the {seen['party']} {seen['msp']}'s); a signature counts "
                                   "for one document version only")  # fmt: skip
        certificate, role, enrollment_id = _signer(ctx, who, certificate_pem)
        sigs.check_end_entity(certificate)
        sigs.check_validity(certificate, _tx_datetime(ctx))
        if role in access.READ_ONLY_ROLES | access.SCAN_ONLY_ROLES:
            raise Forbidden(f"identities with role={role} read but do not sign")
        entry = docs.check_next_signer(record, who.msp, role)
        statement = docs.parse_statement(parse_object(statement_json or "{}", "statement"), kind, entry["party"],
                                         shipment)  # fmt: skip
        payload = sigs.signing_payload(record, entry["party"], entry["msp"], statement)
        sigs.verify(certificate, payload, der)
        receipt = kind == "proof_of_delivery" and entry["party"] == docs.CONSIGNEE
        if receipt and shipment["status"] != ships.DELIVERED:
            raise Conflict(f"shipment {shipment['id']} is {shipment['status']}: the consignee signs the proof of "
                           "delivery once it is delivered")  # fmt: skip
        now, tx_id = tx_time(ctx), ctx.get_stub().get_txid()
        signature = {"party": entry["party"], "msp": entry["msp"], "role": role, "enrollmentId": enrollment_id,
                     "certificate": sigs.pem(certificate), "signature": sigs.b64(der), "payload": payload,
                     "statement": statement, "txId": tx_id, "signedAt": now}  # fmt: skip
        record["signatures"].append(signature)
        record["next"] = docs.next_index(record)
        if record["next"] is None:
            record["status"] = docs.SIGNED
        ledger.put(DOCUMENT, [shipment_id, kind, version_part(record["version"])], record)
        ledger.put(SIGNATURE, [sigs.replay_key(der)], {"document": record["id"], "version": record["version"],
                                                       "party": entry["party"], "msp": entry["msp"], "txId": tx_id})
        ledger.delete(INBOX, who.msp, record["id"])
        if record["next"] is not None:
            ledger.put(INBOX, [record["requiredSigners"][record["next"]]["msp"], record["id"]],
                       {"version": record["version"]})  # fmt: skip
        if receipt:
            custody = Custody(ledger, shipment, now, tx_id, shipment["destination"])
            await custody.receive(who.msp)
            shipment.update(status=ships.RECEIVED, custodian=who.msp, receivedAt=now)
            for key in shipment["unitKeys"]:
                ledger.delete(UNIT, key)
            ledger.put(SHIPMENT, [shipment_id], shipment)
        await ledger.flush()
        return _emit(ctx, names.DOCUMENT_SIGNED, record)

    async def GetDocument(self, ctx: TransactionContext, document_id: str, version: str) -> str:
        """A document version with its signatures (version "" = the latest)."""
        who = access.caller(ctx)
        shipment_id, kind = docs.parse_document_id(document_id)
        ledger = LogisticsLedger(ctx)
        shipment = await _readable_shipment(ledger, who, shipment_id)
        return canonical(await _version(ledger, shipment, kind, docs.parse_version(version)))

    async def ListDocuments(self, ctx: TransactionContext, shipment_id: str) -> str:
        """Every version of every document of a shipment: ``{"shipment", "documents": [...]}`` (kind, then version)."""
        who = access.caller(ctx)
        ledger = LogisticsLedger(ctx)
        shipment = await _readable_shipment(ledger, who, shipment_id)
        entries = await ledger.scan(DOCUMENT, [shipment["id"]], MAX_VERSIONS * len(docs.KINDS))
        return canonical({"shipment": shipment["id"], "documents": [record for _, record in entries]})

    async def Inbox(self, ctx: TransactionContext, page_size: str, bookmark: str) -> str:
        """Current document versions whose next signer is the caller's organisation: ``{"documents", "bookmark"}``."""
        who = access.caller(ctx)
        ledger = LogisticsLedger(ctx)
        entries, next_bookmark = await ledger.page(INBOX, [who.msp], parse_page_size(page_size), bookmark)
        found = []
        for attrs, entry in entries:
            shipment_id, kind = docs.parse_document_id(attrs[0])
            found.append(await ledger.get(DOCUMENT, shipment_id, kind, version_part(entry["version"])))
        return canonical({"documents": found, "bookmark": next_bookmark})

    async def GetShipment(self, ctx: TransactionContext, shipment_id: str) -> str:
        """A shipment with ``milestones`` (the list) and ``documents`` (the latest version of each kind).

        ``endorsementPolicy`` lists the organisations of the key-level policy the ledger holds for the
        shipment (read back from the key's metadata): a peer of each must endorse every write of it.
        """
        who = access.caller(ctx)
        ledger = LogisticsLedger(ctx)
        shipment = await _readable_shipment(ledger, who, shipment_id)
        policy = await stubext.get_validation_parameter(ctx.get_stub(), ledger.key(SHIPMENT, shipment["id"]))
        shipment["endorsementPolicy"] = stubext.policy_organizations(policy) if policy else None
        milestones = await ledger.scan(MILESTONE, [shipment["id"]], MAX_MILESTONES)
        latest = [await _version(ledger, shipment, kind, None) for kind in docs.KINDS if kind in shipment["documents"]]
        return canonical({**shipment, "milestones": [m for _, m in milestones], "documents": latest})

    async def ListShipments(self, ctx: TransactionContext, page_size: str, bookmark: str) -> str:
        """Shipments the caller's organisation is a party to (all for the Regulator): ``{"shipments", "bookmark"}``."""
        who = access.caller(ctx)
        ledger = LogisticsLedger(ctx)
        size = parse_page_size(page_size)
        if who.msp == access.REGULATOR_MSP:
            entries, next_bookmark = await ledger.page(SHIPMENT, [], size, bookmark)
            return canonical({"shipments": [s for _, s in entries], "bookmark": next_bookmark})
        entries, next_bookmark = await ledger.page(PARTY, [who.msp], size, bookmark)
        found = [await ledger.get(SHIPMENT, attrs[0]) for attrs, _ in entries]
        return canonical({"shipments": found, "bookmark": next_bookmark})
