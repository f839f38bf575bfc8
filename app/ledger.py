"""The domain layer between the web and the ledger: views call these methods, never the Gateway client.

``ProvenanceLedger`` turns the provenance contract's transactions into Python calls taking and returning plain
data, and every failure into one ``LedgerError`` with a stable code and an HTTP status:

=====================  ======  ===========================================================
code                   status  when
=====================  ======  ===========================================================
INVALID_ARGUMENT       400     the chaincode refused the input
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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import grpc

from .fabric import CommitError, Contract, Gateway, GatewayError

_STATUS = {"INVALID_ARGUMENT": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "CONFLICT": 409, "LIMIT_EXCEEDED": 413}
_MVCC = "MVCC_READ_CONFLICT"


@dataclass
class LedgerError(Exception):
    """A ledger call failed; ``code`` and ``status`` as in the module's table."""

    code: str
    message: str
    status: int
    transaction_id: str | None = None
    details: list = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


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


class ProvenanceLedger:
    """The provenance contract as seen by one signed-in user."""

    def __init__(self, contract: Contract, retries: int = 3):
        self._contract, self._retries = contract, retries

    def _evaluate(self, name: str, *args: str) -> dict:
        try:
            return json.loads(self._contract.evaluate(name, arguments=args))
        except GatewayError as err:
            raise _from_gateway_error(err) from None

    def _submit(self, name: str, *args: str) -> dict:
        for attempt in range(self._retries + 1):
            try:
                return json.loads(self._contract.submit(name, arguments=args))
            except GatewayError as err:
                raise _from_gateway_error(err) from None
            except CommitError as err:
                if err.code_name != _MVCC:
                    raise LedgerError("INVALID_TRANSACTION", f"committed as invalid: {err.code_name}", 502,
                                      err.transaction_id) from None  # fmt: skip
                if attempt == self._retries:
                    raise LedgerError("CONFLICT", f"{_MVCC} persisted after {self._retries} retries: other "
                                      "transactions keep changing the same records", 409, err.transaction_id) from None
        raise AssertionError("unreachable")

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

    def recall(self, lot: str, reason: str) -> dict:
        """Recall a lot and everything made from it."""
        return self._submit("Recall", lot, reason)


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


def _register_product(params: dict, _readers) -> Invocation:
    return Invocation("provenance", "RegisterProductClass", (json.dumps(_parameter(params, "product", dict)),))


def _capture_events(params: dict, _readers) -> Invocation:
    return Invocation("provenance", "CaptureEvents", (json.dumps(_parameter(params, "events", list)),))


OFFLINE_TRANSACTIONS = {"RegisterProductClass": _register_product, "CaptureEvents": _capture_events}
"""The transactions a browser-held key may sign, by function name: each builds its ``Invocation`` from the request's
parameters (reading the ledger as the user where the endorsing organisations depend on a record)."""


class OfflineTransactions:
    """Transactions whose creator's key is held elsewhere (a browser): the gateway builds, endorses and submits,
    the key holder signs the proposal and the transaction.

    ``unsigned`` is a Gateway of the key's certificate connected without a signer and with hash ``none``, so the
    "digest" to sign is the whole message (WebCrypto hashes it itself). ``service`` is the organisation's own
    service identity: it submits the signed transaction and waits for its commit. ``readers`` gives the signed-in
    user's domain ledgers for the reads some invocations need. No MVCC retries here: a retry needs new signatures.
    """

    def __init__(self, unsigned: Gateway, service: Gateway, channel: str, chaincode: str, readers=None):
        self._unsigned, self._service = unsigned, service
        self._channel, self._chaincode, self._readers = channel, chaincode, readers

    def invocation(self, name: str, params: dict) -> Invocation:
        """The invocation of ``name`` with ``params``; INVALID_ARGUMENT for a transaction not signable offline."""
        build = OFFLINE_TRANSACTIONS.get(name)
        if build is None:
            raise LedgerError("INVALID_ARGUMENT", f"{name} cannot be signed in the browser; these can: "
                              f"{', '.join(sorted(OFFLINE_TRANSACTIONS))}", 400)  # fmt: skip
        return build(params, self._readers)

    def propose(self, invocation: Invocation) -> tuple[str, bytes, bytes]:
        """Build the proposal: its transaction ID, its bytes to keep, and the message the key holder signs."""
        contract = self._unsigned.get_network(self._channel).get_contract(self._chaincode, invocation.contract)
        proposal = contract.new_proposal(invocation.name, arguments=invocation.arguments,
                                         endorsing_organizations=invocation.endorsing_organizations)  # fmt: skip
        return proposal.transaction_id, proposal.bytes(), proposal.digest()

    def endorse(self, proposal_bytes: bytes, signature: bytes) -> tuple[bytes, bytes]:
        """Endorse the signed proposal: the prepared transaction's bytes to keep and the message to sign next."""
        try:
            transaction = self._unsigned.new_signed_proposal(proposal_bytes, signature).endorse()
        except GatewayError as err:
            raise _from_gateway_error(err) from None
        return transaction.bytes(), transaction.digest()

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
