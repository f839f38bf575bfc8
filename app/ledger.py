"""The domain layer between the web and the ledger: views call these methods, never the Gateway client.

``ProvenanceLedger`` and ``LogisticsLedger`` turn the provenance and logistics contracts' transactions into Python
calls taking and returning plain data, and every failure into one ``LedgerError`` with a stable code and an HTTP
status:

=====================  ======  ===========================================================
code                   status  when
=====================  ======  ===========================================================
INVALID_ARGUMENT       400     the chaincode refused the input
INVALID_SIGNATURE      400     a document signature is forged, or replayed from another document or version
FORBIDDEN              403     the caller's organisation or role may not do this
NOT_FOUND              404     no such product, object or event
CONFLICT               409     already exists, or an MVCC conflict persisted after retries
LIMIT_EXCEEDED         413     more than the chaincode accepts in one transaction
INVALID_TRANSACTION    502     the transaction committed as invalid for another reason
LEDGER_ERROR           502     the peers refused the request for another reason
LEDGER_UNAVAILABLE     503     the peer, the other endorsers or the orderers could not be reached in time
=====================  ======  ===========================================================

Submits that commit as MVCC_READ_CONFLICT are endorsed again, up to ``retries`` times: the conflicting
transaction changed what this one read, so a fresh endorsement sees the new state.
A submit to named endorsers (a shipment's) that fails to reach them at endorsement is endorsed again up to twice,
a second and then two apart: nothing was ordered yet, and a peer's view of the other organisations' peers fills in
within seconds of a start. An endorsement whose peers returned different results (``ProposalResponsePayloads do
not match``: one peer had not yet committed a block another had) is endorsed again the same way, 0.25 s and then
0.5 s later.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field

import grpc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fabric_protos.gateway import gateway_pb2

from .errors import CodedError
from .fabric import CommitError, Contract, EndorseError, Gateway, GatewayError, normalize_der_signature

_STATUS = {"INVALID_ARGUMENT": 400, "INVALID_SIGNATURE": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409, "LIMIT_EXCEEDED": 413}
_MVCC = "MVCC_READ_CONFLICT"
_ENDORSER_RETRIES = 2
CONTRACT = "logistics"


@dataclass
class LedgerError(CodedError):
    """A ledger call failed; ``code`` and ``status`` as in the module's table."""

    status: int
    transaction_id: str | None = None
    details: list = field(default_factory=list)


def _from_gateway_error(err: GatewayError) -> LedgerError:
    tx = getattr(err, "transaction_id", None)
    details = [{"mspId": d.msp_id, "address": d.address, "message": d.message} for d in err.details]
    text = err.chaincode_message
    if text:
        code, _, message = text.partition(": ")
        if code in _STATUS:
            return LedgerError(code, message, _STATUS[code], tx, details)
        return LedgerError("LEDGER_ERROR", text, 502, tx, details)
    if err.connection_error:
        return LedgerError("LEDGER_UNAVAILABLE", f"the ledger could not be reached in time ({err.code.name})", 503,
                           tx, details)  # fmt: skip
    if err.code == grpc.StatusCode.PERMISSION_DENIED:
        return LedgerError("FORBIDDEN", err.details[0].message if err.details else str(err), 403, tx, details)
    return LedgerError("LEDGER_ERROR", str(err), 502, tx, details)


class _ContractLedger:
    """Evaluate and submit with the module's error mapping and MVCC retries."""

    def __init__(self, contract: Contract, retries: int = 3):
        self._contract, self._retries = contract, retries

    def _evaluate(self, name: str, *args: str):
        try:
            return json.loads(self._contract.evaluate(name, arguments=args))
        except GatewayError as err:
            raise _from_gateway_error(err) from None

    def _submit(self, name: str, *args: str, endorsers: list[str] | None = None):
        attempt = unreachable = 0
        while True:
            try:
                return json.loads(self._contract.submit(name, arguments=args, endorsing_organizations=endorsers))
            except EndorseError as err:
                # Named endorsers the gateway peer cannot reach yet (its view of the other organisations' peers
                # fills in within seconds of a start): nothing was ordered, so endorsing again is safe.
                if endorsers and err.connection_error and unreachable < _ENDORSER_RETRIES:
                    unreachable += 1
                    time.sleep(unreachable)
                    continue
                # Endorsers a block apart (one has not committed the block another organisation just wrote)
                # simulate different results; once they agree the endorsement matches. Nothing was ordered.
                if _payloads_differ(err) and unreachable < _ENDORSER_RETRIES:
                    unreachable += 1
                    time.sleep(0.25 * unreachable)
                    continue
                raise _from_gateway_error(err) from None
            except GatewayError as err:
                raise _from_gateway_error(err) from None
            except CommitError as err:
                if err.code_name != _MVCC:
                    raise LedgerError("INVALID_TRANSACTION", f"committed as invalid: {err.code_name}", 502,
                                      err.transaction_id) from None  # fmt: skip
                if attempt == self._retries:
                    raise LedgerError("CONFLICT", f"{_MVCC} persisted after {self._retries} retries: other "
                                      "transactions keep changing the same records", 409, err.transaction_id) from None
                attempt += 1


def _payloads_differ(err: EndorseError) -> bool:
    return any("ProposalResponsePayloads do not match" in d.message for d in err.details)


class ProvenanceLedger(_ContractLedger):
    """The provenance contract as seen by one signed-in user."""

    def who_am_i(self) -> dict:
        """The caller as the chaincode sees it: MSP ID, role attribute, enrolment ID, may write."""
        return self._evaluate("WhoAmI")

    def register_product(self, product: dict) -> dict:
        """Register a product class (GTIN master data)."""
        return self._submit("RegisterProductClass", json.dumps(product))

    def product(self, gtin: str) -> dict:
        """A product class by GTIN."""
        return self._evaluate("GetProductClass", gtin)

    def capture(self, events: list[dict]) -> list[dict]:
        """Capture EPCIS events in one transaction, all or none; one result per event, in order."""
        return self._submit("CaptureEvents", json.dumps(events))["captured"]

    def event(self, event_id: str) -> dict:
        """A captured event by eventID or CBV hash ID."""
        return self._evaluate("GetEvent", event_id)

    def object(self, epc: str) -> dict:
        """The current state of an item, logistic unit or lot."""
        return self._evaluate("GetObject", epc)

    def history(self, epc: str, page_size: int, bookmark: str = "") -> dict:
        """One page of the events about ``epc``."""
        return self._evaluate("ItemHistory", epc, str(page_size), bookmark)

    def trace_upstream(self, epc: str) -> dict:
        """Lineage back to the origins."""
        return self._evaluate("TraceUpstream", epc)

    def trace_downstream(self, lot: str) -> dict:
        """Everything made from a lot and where it is."""
        return self._evaluate("TraceDownstream", lot)

    def readings(self, epc: str, page_size: int, bookmark: str = "") -> dict:
        """One page of sensor readings with excursions flagged."""
        return self._evaluate("Readings", epc, str(page_size), bookmark)

    def verify(self, code: str) -> dict:
        """The consumer check of an EPC URN or Digital Link."""
        return self._evaluate("Verify", code)

    def record_scan(self, code: str, place: str) -> dict:
        """Record a verification scan of ``code`` at ``place``; the verification, clone suspicion included."""
        return self._submit("RecordScan", code, place)

    def recall(self, lot: str, reason: str) -> dict:
        """Recall a lot and everything made from it."""
        return self._submit("Recall", lot, reason)


def endorsers_of(shipment: dict) -> list[str]:
    """The organisations that must endorse every write of ``shipment``, as the logistics contract computes them.

    The shipper and the carriers, plus the consignee while that makes fewer than two (the chaincode's own policy
    needs two of the commercial members); sorted.
    """
    parties = {shipment["shipper"], *shipment["carriers"]}
    if len(parties) < 2:
        parties.add(shipment["consignee"])
    return sorted(parties)


def shipment_of(document_id: str) -> str:
    """The shipment ID in a document ID (``"<shipment>:<kind>"``)."""
    return document_id.rpartition(":")[0] or document_id


class LogisticsLedger(_ContractLedger):
    """The logistics contract (shipments, documents, signatures) and the channel's blocks, as one signed-in user.

    Every write of a shipment or of its documents is endorsed by exactly the shipment's ``endorsers`` (the peers
    its key-level endorsement policy requires), read from the ledger first. Records are the contract's JSON as dicts
    (see ``chaincode/supplychain/logistics``); errors are ``LedgerError`` as in the module's table.
    """

    def __init__(self, gateway: Gateway, channel: str, chaincode: str, retries: int = 3):
        network = gateway.get_network(channel)
        super().__init__(network.get_contract(chaincode, CONTRACT), retries)
        self._gateway, self._blocks, self._channel = gateway, network.get_contract("qscc"), channel

    def create_shipment(self, shipment: dict) -> dict:
        """Create a shipment (the caller's organisation is its shipper); returns the shipment record."""
        return self._submit("CreateShipment", json.dumps(shipment), endorsers=endorsers_of(shipment))

    def shipment(self, shipment_id: str) -> dict:
        """A shipment with its milestones and the latest version of each of its documents."""
        return self._evaluate("GetShipment", shipment_id)

    def shipments(self, page_size: int, bookmark: str = "") -> dict:
        """One page of the shipments the caller's organisation is a party to (all, for the Regulator)."""
        return self._evaluate("ListShipments", str(page_size), bookmark)

    def endorsers(self, shipment_id: str) -> list[str]:
        """The organisations whose peers must endorse writes of this shipment."""
        return self.shipment(shipment_id)["endorsers"]

    def record_milestone(self, shipment_id: str, milestone: dict) -> dict:
        """Record a milestone (a carrier's); returns what the contract returns for it."""
        return self._submit("RecordMilestone", shipment_id, json.dumps(milestone),
                            endorsers=self.endorsers(shipment_id))  # fmt: skip

    def anchor_document(self, document: dict) -> dict:
        """Anchor a document's SHA-256 as the next version of ``<shipment>:<kind>``; returns the version record."""
        return self._submit("AnchorDocument", json.dumps(document), endorsers=self.endorsers(document["shipment"]))

    def document(self, document_id: str, version: int | None = None) -> dict:
        """A version record with its signatures (the latest version when ``version`` is None)."""
        return self._evaluate("GetDocument", document_id, "" if version is None else str(version))

    def documents(self, shipment_id: str):
        """Every version of every document of a shipment."""
        return self._evaluate("ListDocuments", shipment_id)

    def inbox(self, page_size: int, bookmark: str = "") -> dict:
        """One page of the documents waiting for the caller's organisation to sign."""
        return self._evaluate("Inbox", str(page_size), bookmark)

    def signing_payload(self, document_id: str, version: int, party: str, statement: dict) -> dict:
        """``{"payload": text, "sha256": hex}``: what ``party`` signs (the UTF-8 bytes of ``payload``)."""
        return self._evaluate("SigningPayload", document_id, str(version), party, json.dumps(statement))

    def sign_document(self, document_id: str, version: int, signature_b64: str, statement: dict,
                      certificate_pem: str = "") -> dict:  # fmt: skip
        """Record a signature made elsewhere over the signing payload.

        ``signature_b64``: base64 DER or P1363 ECDSA P-256/SHA-256. ``certificate_pem``: the signer's certificate
        when it is not the submitting identity (it must be of the submitter's organisation), else empty.
        """
        return self._submit("SignDocument", document_id, str(version), signature_b64, json.dumps(statement),
                            certificate_pem, endorsers=self.endorsers(shipment_of(document_id)))  # fmt: skip

    def sign_with_key(self, document_id: str, version: int, key: ec.EllipticCurvePrivateKey, statement: dict,
                      party: str | None = None) -> dict:  # fmt: skip
        """Sign as the submitting identity with its own private ``key`` (server-held signing), and record it.

        ``party`` defaults to the party the version waits for. The key signs the payload the ledger gives for this
        document, version, party and statement, and never leaves this call.
        """
        if party is None:
            record = self.document(document_id, version)
            if record.get("next") is None:
                raise LedgerError("CONFLICT", f"{document_id} version {version} waits for no signature "
                                  f"({record.get('status')})", 409)  # fmt: skip
            party = record["requiredSigners"][record["next"]]["party"]
        payload = self.signing_payload(document_id, version, party, statement)["payload"]
        signature = normalize_der_signature(key.sign(payload.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
        return self.sign_document(document_id, version, base64.b64encode(signature).decode(), statement)

    def signed_document_request(self, document_id: str, version: int, key: ec.EllipticCurvePrivateKey) -> bytes:
        """``GetDocument(document_id, version)`` as a proposal signed with ``key`` (this identity's), not sent.

        Another organisation's gateway evaluates it (``evaluate_signed_request``) to learn from its own peer that
        this identity's organisation may read the document. Serialised ``gateway.ProposedTransaction``.
        """
        proposal = self._contract.new_proposal("GetDocument", arguments=[document_id, str(version)])
        signature = normalize_der_signature(key.sign(proposal.digest(), ec.ECDSA(Prehashed(hashes.SHA256()))))
        proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
        proposed.proposal.signature = signature
        return proposed.SerializeToString()

    def evaluate_signed_request(self, proposed_transaction: bytes) -> dict:
        """Evaluate a proposal another identity signed (``signed_document_request``) on this gateway's peer.

        The peer checks the signature, the signer's certificate against the channel's MSPs and the contract's access
        rules for the signer's organisation; errors are ``LedgerError``s (FORBIDDEN when that organisation may not
        read). The caller checks first that the proposal asks what it should.
        """
        try:
            return json.loads(self._gateway.new_proposal(proposed_transaction).evaluate())
        except GatewayError as err:
            raise _from_gateway_error(err) from None

    def block(self, number: int) -> bytes:
        """The serialised block ``number`` of the channel (``qscc GetBlockByNumber``)."""
        return self._system("GetBlockByNumber", str(number))

    def block_of_transaction(self, tx_id: str) -> bytes:
        """The serialised block that holds transaction ``tx_id`` (``qscc GetBlockByTxID``)."""
        return self._system("GetBlockByTxID", tx_id)

    def _system(self, name: str, argument: str) -> bytes:
        try:
            return self._blocks.evaluate(name, arguments=[self._channel, argument])
        except GatewayError as err:
            if "no such" in (err.chaincode_message or "") or "not found" in (err.chaincode_message or ""):
                raise LedgerError("NOT_FOUND", f"no block for {argument} on {self._channel}", 404) from None
            raise _from_gateway_error(err) from None


@dataclass(frozen=True)
class Invocation:
    """One transaction to be signed by a key the gateway does not hold: where it goes and what it carries."""

    contract: str
    name: str
    arguments: tuple[str, ...]
    endorsing_organizations: tuple[str, ...] | None = None


def _parameter(params: dict, name: str, kind: type | tuple[type, ...]):
    value = params.get(name)
    if not isinstance(value, kind):
        raise LedgerError("INVALID_ARGUMENT", f"parameter {name!r} is missing or not of the right type", 400)
    return value


def _register_product(params: dict, _logistics) -> Invocation:
    return Invocation("provenance", "RegisterProductClass", (json.dumps(_parameter(params, "product", dict)),))


def _capture_events(params: dict, _logistics) -> Invocation:
    return Invocation("provenance", "CaptureEvents", (json.dumps(_parameter(params, "events", list)),))


def _record_milestone(params: dict, logistics) -> Invocation:
    shipment = _parameter(params, "shipment", str)
    return Invocation(CONTRACT, "RecordMilestone", (shipment, json.dumps(_parameter(params, "milestone", dict))),
                      tuple(logistics().endorsers(shipment)))  # fmt: skip


def _sign_document(params: dict, logistics) -> Invocation:
    """The creator signs: the browser key that signed the payload is the transaction's creator, so no certificate."""
    document, version = _parameter(params, "document", str), _parameter(params, "version", int)
    arguments = (document, str(version), _parameter(params, "signature", str),
                 json.dumps(_parameter(params, "statement", dict)), "")  # fmt: skip
    return Invocation(CONTRACT, "SignDocument", arguments, tuple(logistics().endorsers(shipment_of(document))))


OFFLINE_TRANSACTIONS = {"RegisterProductClass": _register_product, "CaptureEvents": _capture_events,
                        "RecordMilestone": _record_milestone, "SignDocument": _sign_document}  # fmt: skip
"""The transactions a browser-held key may sign, by function name: each builds its ``Invocation`` from the request's
parameters; shipment writes read the shipment first (as the signed-in user, through ``logistics()``) for the
organisations its key-level endorsement policy names.

===================== =================================================================
transaction           parameters
===================== =================================================================
RegisterProductClass  ``product``
CaptureEvents         ``events``
RecordMilestone       ``shipment``, ``milestone``
SignDocument          ``document``, ``version``, ``signature`` (base64, of the document's signing payload),
                      ``statement``
===================== ================================================================="""


class OfflineTransactions:
    """Transactions whose creator's key is held elsewhere (a browser): the gateway builds, endorses and submits,
    the key holder signs the proposal and the transaction (and, for SignDocument, the document's payload first).

    ``unsigned`` is a Gateway of the key's certificate connected without a signer and with hash ``none``, so the
    "digest" to sign is the whole message (WebCrypto hashes it itself). ``service`` is the organisation's own
    service identity: it submits the signed transaction and waits for its commit. ``logistics()`` gives the signed-in
    user's ``LogisticsLedger`` for the reads some invocations need. No MVCC retries here: a retry needs new signatures.
    """

    def __init__(self, unsigned: Gateway, service: Gateway, channel: str, chaincode: str, logistics=None):
        self._unsigned, self._service = unsigned, service
        self._channel, self._chaincode, self._logistics = channel, chaincode, logistics

    def invocation(self, name: str, params: dict) -> Invocation:
        """The invocation of ``name`` with ``params``; INVALID_ARGUMENT for a transaction not signable offline."""
        build = OFFLINE_TRANSACTIONS.get(name)
        if build is None:
            raise LedgerError("INVALID_ARGUMENT", f"{name} cannot be signed in the browser; these can: "
                              f"{', '.join(sorted(OFFLINE_TRANSACTIONS))}", 400)  # fmt: skip
        return build(params, self._logistics)

    def propose(self, invocation: Invocation) -> tuple[str, bytes, bytes]:
        """Build the proposal: its transaction ID, its bytes to keep, and the message the key holder signs."""
        contract = self._unsigned.get_network(self._channel).get_contract(self._chaincode, invocation.contract)
        proposal = contract.new_proposal(invocation.name, arguments=invocation.arguments,
                                         endorsing_organizations=invocation.endorsing_organizations)  # fmt: skip
        return proposal.transaction_id, proposal.bytes(), proposal.digest()

    def endorse(self, proposal_bytes: bytes, signature: bytes) -> tuple[bytes, bytes]:
        """Endorse the signed proposal: the prepared transaction's bytes to keep and the message to sign next."""
        for unreachable in range(_ENDORSER_RETRIES + 1):
            try:
                transaction = self._unsigned.new_signed_proposal(proposal_bytes, signature).endorse()
                return transaction.bytes(), transaction.digest()
            except EndorseError as err:
                # As in _submit: endorsers not reachable yet; the same signed proposal can be sent again.
                if not err.connection_error or unreachable == _ENDORSER_RETRIES:
                    raise _from_gateway_error(err) from None
                time.sleep(unreachable + 1)
            except GatewayError as err:
                raise _from_gateway_error(err) from None
        raise AssertionError("unreachable")

    def submit(self, transaction_bytes: bytes, signature: bytes) -> tuple[dict, int]:
        """Submit the signed transaction and wait for its commit: the transaction's result and its block number."""
        try:
            submitted = self._service.new_signed_transaction(transaction_bytes, signature).submit()
            status = submitted.get_status()
        except GatewayError as err:
            raise _from_gateway_error(err) from None
        if status.code_name == _MVCC:
            raise LedgerError("CONFLICT", f"{_MVCC}: another transaction changed the same records first; nothing "
                              "was written, sign again", 409, status.transaction_id)  # fmt: skip
        if not status.successful:
            raise LedgerError("INVALID_TRANSACTION", f"committed as invalid: {status.code_name}", 502,
                              status.transaction_id)  # fmt: skip
        return json.loads(submitted.result or b"null"), status.block_number

    def close(self) -> None:
        """Close the unsigned Gateway (the service Gateway is shared and stays open)."""
        self._unsigned.close()

    def __enter__(self) -> OfflineTransactions:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
