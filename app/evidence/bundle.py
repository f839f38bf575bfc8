"""Assemble the evidence bundle of one document version, for ``app/evidence/verify.py`` to check offline.

One JSON object (``FORMAT``), bytes in base64::

    format, generatedAt, generatedBy (MSP ID of the gateway that assembled it), channel, chaincode,
    document        {id, version, sha256, contentType, size, filename, content}
    record          the version record as the ledger returns it, with its signatures (signer's certificate,
                    signature, payload, statement, txId, signedAt)
    transactions    [{purpose: "anchor"|"signature", signature: index or null, txId, blockNumber}]
    blocks          {number: raw block} for every cited block
    configBlock     {number, block}: the channel configuration in force for those blocks
    organizations   {"Application"|"Orderer": {MSP ID: {rootCerts, intermediateCerts}}} from that block

A bundle covers one channel configuration: ``EvidenceUnavailable`` if the cited blocks were cut under different
ones (the channel's configuration changed between anchoring and signing).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from . import blocks
from .verify import FORMAT


class EvidenceUnavailable(RuntimeError):
    """The ledger's blocks cannot make a bundle for this version (the message says why)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def build(ledger, record: dict, content: bytes, *, generated_by: str, channel: str, chaincode: str) -> dict:
    """The bundle of ``record`` (a version record) and its ``content``; blocks come from ``ledger``.

    ``ledger`` is a ``LogisticsLedger`` (``block`` and ``block_of_transaction``).
    """
    citations = [("anchor", None, record["txId"])]
    citations += [("signature", i, s["txId"]) for i, s in enumerate(record.get("signatures") or [])]
    raw_blocks: dict[int, bytes] = {}
    transactions = []
    for purpose, index, tx_id in citations:
        raw = ledger.block_of_transaction(tx_id)
        number = blocks.parse_block(raw).header.number
        raw_blocks.setdefault(number, raw)
        transactions.append({"purpose": purpose, "signature": index, "txId": tx_id, "blockNumber": number})
    configurations = {blocks.last_config_index(blocks.parse_block(raw)) for raw in raw_blocks.values()}
    if len(configurations) != 1:
        raise EvidenceUnavailable(f"the cited blocks fall under channel configurations {sorted(configurations)}; "
                                  "a bundle covers one")  # fmt: skip
    config_number = configurations.pop()
    config_raw = raw_blocks.get(config_number) or ledger.block(config_number)
    msps = blocks.channel_msps(blocks.parse_block(config_raw))
    return {
        "format": FORMAT,
        "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "generatedBy": generated_by,
        "channel": channel,
        "chaincode": chaincode,
        "document": {"id": record["id"], "version": record["version"], "sha256": record["sha256"],
                     "contentType": record.get("contentType"), "size": len(content), "filename": record.get("filename"),
                     "content": _b64(content)},
        "record": record,
        "transactions": transactions,
        "blocks": {str(n): _b64(raw) for n, raw in sorted(raw_blocks.items())},
        "configBlock": {"number": config_number, "block": _b64(config_raw)},
        "organizations": {section: {m.msp_id: {"rootCerts": [c.decode() for c in m.root_certs],
                                               "intermediateCerts": [c.decode() for c in m.intermediate_certs]}
                                    for m in by_id.values()} for section, by_id in msps.items()},
    }  # fmt: skip
