"""Document bytes between gateways: a gateway that lacks a document's bytes fetches them from the anchoring one.

The bytes stay with the organisation that anchored them, and go only to a party of the shipment or the Regulator.
The asking gateway proves who it is, and that its organisation may read the document, with a **signed
proposal** instead of a shared secret: ``GetDocument(<id>, <version>)`` of the logistics contract, signed by the
asking gateway's own service identity (a user of its organisation's CA) and not sent to any peer. It travels in the
``Fabric-Proposal`` header (base64 of a ``gateway.ProposedTransaction``) of::

    GET <partner>/api/v1/exchange/documents/<id>/versions/<n>/content

The serving gateway answers only if, in this order (else a problem with the code in brackets):

1. the header decodes to a proposal on this channel and chaincode that asks ``GetDocument`` for exactly the
   document and version of the URL (400 ``BAD_EXCHANGE_REQUEST``);
2. its timestamp is within ``EXCHANGE_MAX_AGE_SECONDS`` of now (403 ``EXCHANGE_REQUEST_EXPIRED``);
3. its transaction ID was never presented before (403 ``EXCHANGE_REQUEST_REPLAYED``): a copied header is useless;
4. its own peer evaluates it: the peer checks the signature and the signer's certificate against the channel's
   MSPs (403 ``EXCHANGE_REQUEST_REFUSED`` if it refuses the proposal), and the contract lets only a party of the
   shipment or the Regulator read the document (403 ``FORBIDDEN`` otherwise, as the contract says);
5. it holds bytes that hash to the SHA-256 the ledger returned (404 ``DOCUMENT_BYTES_NOT_HERE``).

The asking gateway checks the bytes against the hash its own ledger read gave before storing or serving them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

import requests
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import chaincode_pb2, proposal_pb2
from google.protobuf.message import DecodeError

from .errors import CodedError
from .ledger import CONTRACT

HEADER = "Fabric-Proposal"
SERVICE_USER = "exchange"
"""The gateway's own identity for signing requests to partners: an auditor (reads only) of its organisation."""


class ExchangeError(CodedError):
    """A refused or failed exchange; ``code``, ``status`` and ``message`` go into the problem document."""


@dataclass(frozen=True)
class ProposalFacts:
    """What a signed proposal asks, as read from its bytes (not yet checked by any peer)."""

    tx_id: str
    channel: str
    chaincode: str
    arguments: list[str]
    msp_id: str
    timestamp: float


def read_proposal(header_value: str) -> tuple[bytes, ProposalFacts]:
    """The ``ProposedTransaction`` bytes in a ``Fabric-Proposal`` header and what they ask; ExchangeError if unreadable."""
    try:
        raw = base64.b64decode(header_value, validate=True)
        proposed = gateway_pb2.ProposedTransaction.FromString(raw)
        proposal = proposal_pb2.Proposal.FromString(proposed.proposal.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        creator = identities_pb2.SerializedIdentity.FromString(
            common_pb2.SignatureHeader.FromString(header.signature_header).creator)  # fmt: skip
        payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
        spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
        arguments = [a.decode("utf-8") for a in spec.input.args]
    except (binascii.Error, ValueError, DecodeError):
        raise ExchangeError("BAD_EXCHANGE_REQUEST", f"the {HEADER} header is not a base64 signed proposal", 400) from None
    if not proposed.proposal.signature:
        raise ExchangeError("BAD_EXCHANGE_REQUEST", "the proposal is not signed", 400)
    stamp = channel_header.timestamp
    facts = ProposalFacts(channel_header.tx_id, channel_header.channel_id, spec.chaincode_id.name, arguments,
                          creator.mspid, stamp.seconds + stamp.nanos / 1e9)  # fmt: skip
    return raw, facts


def check_request(facts: ProposalFacts, document_id: str, version: int, *, channel: str, chaincode: str,
                  now: float, max_age: float) -> None:  # fmt: skip
    """Steps 1 and 2 of the module's list: the proposal asks for this document and is fresh; else ExchangeError."""
    wanted = [f"{CONTRACT}:GetDocument", document_id, str(version)]
    if facts.channel != channel or facts.chaincode != chaincode or facts.arguments != wanted:
        raise ExchangeError("BAD_EXCHANGE_REQUEST", f"the proposal must ask {chaincode} on {channel} for "
                            f"{wanted}; it asks {facts.chaincode} on {facts.channel} for {facts.arguments}", 400)
    if abs(now - facts.timestamp) > max_age:
        raise ExchangeError("EXCHANGE_REQUEST_EXPIRED", f"the proposal was signed {now - facts.timestamp:.0f} s from "
                            f"now; at most {max_age:.0f} s either way are accepted", 403)  # fmt: skip


def remember(db: sqlite3.Connection, tx_id: str, now: float, max_age: float) -> None:
    """Step 3: record ``tx_id`` as used; ExchangeError if it was used before (within the accepted age)."""
    db.execute("DELETE FROM exchange_request WHERE seen_at < ?", (now - 2 * max_age,))
    try:
        db.execute("INSERT INTO exchange_request (tx_id, seen_at) VALUES (?, ?)", (tx_id, now))
    except sqlite3.IntegrityError:
        raise ExchangeError("EXCHANGE_REQUEST_REPLAYED", f"the proposal {tx_id} was already presented; sign a new "
                            "one for each request", 403) from None  # fmt: skip


def fetch(base_url: str, document_id: str, version: int, proposed_transaction: bytes, sha256: str,
          timeout: float) -> bytes:  # fmt: skip
    """GET the bytes from the partner gateway at ``base_url`` and check they hash to ``sha256``.

    Raises ExchangeError: 503 ``PARTNER_UNAVAILABLE`` (not reachable in time), 502 ``PARTNER_REFUSED`` (it answered
    with an error, whose problem detail is passed on) or 502 ``PARTNER_CONTENT_MISMATCH`` (wrong bytes).
    """
    url = f"{base_url.rstrip('/')}/api/v1/exchange/documents/{quote(document_id, safe='')}/versions/{version}/content"
    try:
        response = requests.get(url, headers={HEADER: base64.b64encode(proposed_transaction).decode()},
                                timeout=timeout)  # fmt: skip
    except requests.RequestException as err:
        raise ExchangeError("PARTNER_UNAVAILABLE", f"the anchoring organisation's gateway {base_url} could not be "
                            f"reached: {type(err).__name__}", 503) from None  # fmt: skip
    if response.status_code != 200:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        raise ExchangeError("PARTNER_REFUSED", f"the anchoring organisation's gateway answered {response.status_code}"
                            f" {problem.get('code', '')}: {problem.get('detail', response.reason)}", 502)  # fmt: skip
    digest = hashlib.sha256(response.content).hexdigest()
    if digest != sha256:
        raise ExchangeError("PARTNER_CONTENT_MISMATCH", f"the anchoring organisation's gateway sent bytes hashing to "
                            f"{digest}, not the anchored {sha256}; nothing was stored", 502)  # fmt: skip
    return response.content
