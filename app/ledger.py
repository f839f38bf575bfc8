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

from .fabric import CommitError, Contract, GatewayError

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

    def record_scan(self, code: str, place: str) -> dict:
        """Record a verification scan of ``code`` at ``place``; the verification, clone suspicion included."""
        return self._submit("RecordScan", code, place)

    def recall(self, lot: str, reason: str) -> dict:
        """Recall a lot and everything made from it."""
        return self._submit("Recall", lot, reason)
