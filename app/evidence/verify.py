"""Check a document's evidence bundle offline: ``python -m app.evidence.verify bundle.json [--trust ca.pem ...]``.

Needs no network and imports only the standard library, ``cryptography`` and ``fabric_protos``. Prints one verdict
per check and exits 0 if every check passed, 1 if any failed, 2 if the bundle cannot be read. The checks:

- **channel configuration**: the bundle's configuration block is intact (data hash), signed by the orderers when it
  is not the genesis block, in force for every cited block, and names the organisations' CAs the bundle lists.
- **document content**: the bytes hash to the SHA-256 the ledger anchored, and have its size.
- **signature i**: the signature verifies over its payload with the signer's certificate, is low-S DER, and the
  payload names this document, version, kind, shipment, hash and the signer's party and organisation.
- **certificate of signature i**: chains to its organisation's CA in the channel configuration (and to a
  ``--trust`` anchor when given) and was valid when the signature was recorded.
- **block n**: its data hash matches its header and its orderer signatures verify with certificates of the
  channel's ordering organisations.
- **anchor transaction** / **signature transaction i**: the cited transaction is in the cited block, marked VALID
  in the block's transaction filter, signed by its creator, endorsed by peers whose signatures verify, and carries
  the anchored hash (or the recorded signature, by the recorded signer) for this document and version, in its
  arguments and in the result the peers endorsed.

Without ``--trust`` the organisations' CAs are those of the bundle's own configuration block, so the bundle is
checked for consistency only; give the CA certificates obtained independently (each organisation's published root)
to anchor it. The VALID flag is the committing peer's record (blocks carry it unsigned); the verified endorsements
are what stand behind it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding

from . import blocks

FORMAT = "supplychain/evidence-bundle/v1"
SIGNATURE_CONTEXT = "supplychain/document-signature/v1"
CONTRACT = "logistics"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class BundleError(ValueError):
    """The bundle cannot be read at all (not JSON, a required member missing or of the wrong type)."""


@dataclass
class Check:
    """One verdict: a name, passed or not, and what was found."""

    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def fail(self, problem: str) -> None:
        self.problems.append(problem)

    def require(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.problems.append(problem)
        return condition


@dataclass
class Report:
    """Every check made on one bundle."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str) -> Check:
        self.checks.append(Check(name))
        return self.checks[-1]

    def text(self) -> str:
        """The verdicts as printed: ``PASS``/``FAIL`` per check, then the reasons, then the overall verdict."""
        lines = []
        for c in self.checks:
            lines.append(f"{'PASS' if c.passed else 'FAIL'}  {c.name}")
            lines += [f"      - {p}" for p in c.problems] + [f"      . {n}" for n in c.notes]
        failed = sum(not c.passed for c in self.checks)
        lines.append(f"verdict: {'GENUINE' if self.passed else 'NOT VERIFIED'} "
                     f"({len(self.checks) - failed} checks passed, {failed} failed)")  # fmt: skip
        return "\n".join(lines)


def _b64(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise BundleError(f"{what} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{what} is not valid base64") from None


def _member(obj, key: str, kind: type | tuple, where: str):
    if not isinstance(obj, dict) or not isinstance(obj.get(key), kind):
        raise BundleError(f"{where}.{key} is missing or not a {getattr(kind, '__name__', kind)}")
    return obj[key]


def _time(text) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _certificate(pem) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else str(pem).encode())
    except ValueError:
        return None


def _verifies(certificate: x509.Certificate, signature: bytes, message: bytes) -> bool:
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _canonical_signature(signature: bytes) -> tuple[int, int] | None:
    """(r, low s) of a DER or 64-byte P1363 P-256 signature, to compare signatures across encodings."""
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        if len(signature) != 64:
            return None
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    return r, min(s, _P256_ORDER - s)


class Trust:
    """The organisations' CAs by configuration section and MSP ID, and the optional independent anchors."""

    def __init__(self, msps: dict[str, dict[str, blocks.MSP]], anchors: list[x509.Certificate]):
        self.msps = msps
        self.anchors = {a.public_bytes(Encoding.DER) for a in anchors}

    def chain(self, certificate: x509.Certificate, section: str, msp_id: str, at: datetime | None) -> list[str]:
        """Problems with ``certificate`` as a member of ``msp_id`` (in ``section`` of the configuration); [] if none."""
        msp = self.msps.get(section, {}).get(msp_id)
        if msp is None:
            return [f"{msp_id} is not an organisation of the channel's {section} configuration"]
        roots = [c for c in map(_certificate, msp.root_certs) if c]
        intermediates = [c for c in map(_certificate, msp.intermediate_certs) if c]
        problems = []
        if at is not None and not (certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc):
            problems.append(f"certificate {certificate.subject.rfc4514_string()} was not valid at {at.isoformat()}")
        current = certificate
        for _ in range(6):
            if any(current.public_bytes(Encoding.DER) == r.public_bytes(Encoding.DER) for r in roots):
                break
            issuer = next((c for c in intermediates + roots if _issued(current, c)), None)
            if issuer is None:
                unissued = f"certificate {certificate.subject.rfc4514_string()} was not issued by a CA of {msp_id}"
                return [*problems, f"{unissued} in the channel configuration"]
            current = issuer
        else:
            return [*problems, f"the chain of {certificate.subject.rfc4514_string()} is too long"]
        if self.anchors and current.public_bytes(Encoding.DER) not in self.anchors:
            problems.append(f"{msp_id}'s CA {current.subject.rfc4514_string()} is not one of the --trust anchors")
        return problems


def _issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _signed_by_member(signed: blocks.Signed, trust: Trust, section: str, at: datetime | None, who: str) -> list[str]:
    certificate = _certificate(signed.certificate)
    if certificate is None:
        return [f"{who}: the certificate is not a PEM X.509 certificate"]
    problems = [f"{who}: {p}" for p in trust.chain(certificate, section, signed.msp_id, at)]
    if not _verifies(certificate, signed.signature, signed.message):
        problems.append(f"{who}: the signature does not verify with {signed.msp_id}'s certificate")
    return problems


def verify(bundle: dict, anchors: list[x509.Certificate] | None = None) -> Report:
    """Check ``bundle`` (parsed JSON); ``anchors`` are independently obtained CA certificates. Raises BundleError."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"not an evidence bundle: format must be {FORMAT!r}")
    report = Report()
    document = _member(bundle, "document", dict, "bundle")
    record = _member(bundle, "record", dict, "bundle")
    channel = _member(bundle, "channel", str, "bundle")
    chaincode = _member(bundle, "chaincode", str, "bundle")
    citations = _member(bundle, "transactions", list, "bundle")
    raw_blocks = {str(k): _b64(v, f"blocks[{k}]") for k, v in _member(bundle, "blocks", dict, "bundle").items()}
    config = _member(bundle, "configBlock", dict, "bundle")
    signatures = record.get("signatures") or []
    if not isinstance(signatures, list):
        raise BundleError("record.signatures must be a list")

    trust = _check_configuration(report, config, bundle.get("organizations"), anchors or [])
    parsed = _check_blocks(report, raw_blocks, trust, _member(config, "number", int, "configBlock"))
    _check_content(report, document, record)
    for i, sig in enumerate(signatures):
        _check_signature(report, i, sig, record, trust)
    _check_transactions(report, citations, parsed, record, signatures, trust, channel, chaincode)
    return report


def _check_configuration(report: Report, config: dict, listed, anchors: list[x509.Certificate]) -> Trust:
    check = report.check(f"channel configuration (block {config.get('number')})")
    empty = Trust({}, anchors)
    try:
        block = blocks.parse_block(_b64(config.get("block"), "configBlock.block"))
        msps = blocks.channel_msps(block)
    except ValueError as err:
        check.fail(f"the configuration block cannot be read: {err}")
        return empty
    check.require(block.header.number == config.get("number"),
                  f"the configuration block is number {block.header.number}, cited as {config.get('number')}")
    check.require(blocks.data_hash(block) == block.header.data_hash,
                  "the configuration block's data does not hash to its header's data hash")  # fmt: skip
    trust = Trust(msps, anchors)
    signed = blocks.orderer_signatures(block)
    if not signed:
        if block.header.number == 0:
            check.notes.append("the genesis block carries no orderer signature (configtxgen wrote it); its CAs are "
                               "trusted as given" + (" and checked against --trust" if anchors else ""))  # fmt: skip
        else:
            check.fail("the configuration block carries no orderer signature")
    for s in signed:
        check.problems += _signed_by_member(s, trust, "Orderer", None, f"orderer {s.msp_id}")
    expected = {section: {m.msp_id: {"rootCerts": [c.decode() for c in m.root_certs],
                                     "intermediateCerts": [c.decode() for c in m.intermediate_certs]}
                          for m in by_id.values()} for section, by_id in msps.items()}  # fmt: skip
    check.require(listed == expected, "the organisations' CA certificates listed in the bundle differ from those of "
                  "the configuration block")  # fmt: skip
    for section, by_id in msps.items():
        for msp in by_id.values():
            for pem in msp.root_certs:
                root = _certificate(pem)
                if root and anchors and root.public_bytes(Encoding.DER) not in trust.anchors:
                    check.notes.append(f"{msp.msp_id} ({section}): its CA {root.subject.rfc4514_string()} is not "
                                       "among the --trust anchors")  # fmt: skip
    check.notes.append(f"ordering organisations: {', '.join(sorted(msps['Orderer']))}; members: "
                       f"{', '.join(sorted(msps['Application']))}")  # fmt: skip
    return trust


def _check_blocks(report: Report, raw_blocks: dict[str, bytes], trust: Trust, config_number: int) -> dict:
    parsed = {}
    for key in sorted(raw_blocks, key=lambda k: int(k) if k.isdigit() else -1):
        check = report.check(f"block {key}")
        try:
            block = blocks.parse_block(raw_blocks[key])
        except ValueError as err:
            check.fail(str(err))
            continue
        if not check.require(str(block.header.number) == key, f"the block is number {block.header.number}, "
                             f"filed as {key}"):  # fmt: skip
            continue
        check.require(blocks.data_hash(block) == block.header.data_hash,
                      "the block's data does not hash to its header's data hash: its transactions were changed")
        signed = blocks.orderer_signatures(block)
        check.require(bool(signed), "the block carries no orderer signature")
        for s in signed:
            check.problems += _signed_by_member(s, trust, "Orderer", None, f"orderer {s.msp_id}")
        check.require(blocks.last_config_index(block) == config_number, f"the block was cut under configuration "
                      f"block {blocks.last_config_index(block)}, not the bundle's {config_number}")  # fmt: skip
        if check.passed:
            check.notes.append(f"signed by {', '.join(sorted({s.msp_id for s in signed}))}'s orderer")
            parsed[block.header.number] = block
    return parsed


def _check_content(report: Report, document: dict, record: dict) -> None:
    check = report.check("document content")
    try:
        content = _b64(document.get("content"), "document.content")
    except BundleError as err:
        check.fail(str(err))
        return
    digest = hashlib.sha256(content).hexdigest()
    check.require(digest == record.get("sha256"), f"the document's bytes hash to {digest}, the ledger anchored "
                  f"{record.get('sha256')}")  # fmt: skip
    check.require(len(content) == record.get("size"), f"the document has {len(content)} bytes, the ledger anchored "
                  f"{record.get('size')}")  # fmt: skip
    for key in ("id", "version", "sha256"):
        check.require(document.get(key) == record.get(key), f"document.{key} ({document.get(key)!r}) differs from the "
                      f"record's ({record.get(key)!r})")  # fmt: skip
    if check.passed:
        check.notes.append(f"{len(content)} bytes, SHA-256 {digest}")


def _check_signature(report: Report, i: int, sig: dict, record: dict, trust: Trust) -> None:
    who = f"{sig.get('party')} {sig.get('msp')}" if isinstance(sig, dict) else "?"
    check = report.check(f"signature {i} ({who})")
    cert_check = report.check(f"certificate of signature {i} ({who})")
    if not isinstance(sig, dict):
        check.fail("the signature entry is not an object")
        return
    certificate = _certificate(sig.get("certificate", ""))
    if certificate is None:
        check.fail("the certificate is not a PEM X.509 certificate")
        cert_check.fail("the certificate is not a PEM X.509 certificate")
        return
    payload_text = sig.get("payload")
    try:
        payload = json.loads(payload_text)
        signature = base64.b64decode(sig.get("signature", ""), validate=True)
    except (TypeError, ValueError):
        check.fail("the payload is not JSON or the signature is not base64")
        payload, signature = None, b""
    if isinstance(payload, dict):
        expected = {"context": SIGNATURE_CONTEXT, "document": record.get("id"), "version": record.get("version"),
                    "kind": record.get("kind"), "shipment": record.get("shipment"), "sha256": record.get("sha256"),
                    "party": sig.get("party"), "msp": sig.get("msp"), "statement": sig.get("statement")}  # fmt: skip
        for key, value in expected.items():
            check.require(payload.get(key) == value, f"the payload's {key} is {payload.get(key)!r}, expected {value!r}")
        check.require(_canonical_signature(signature) is not None and signature == encode_dss_signature(
            *_canonical_signature(signature)), "the signature is not a low-S DER ECDSA signature")  # fmt: skip
        check.require(_verifies(certificate, signature, payload_text.encode("utf-8")),
                      "the signature does not verify over the payload with the signer's certificate")  # fmt: skip
    elif check.passed:
        check.fail("the payload is not a JSON object")
    if check.passed:
        check.notes.append(f"{certificate.subject.rfc4514_string()} signed {record.get('id')} v{record.get('version')}")
    at = _time(sig.get("signedAt"))
    cert_check.require(at is not None, f"signedAt {sig.get('signedAt')!r} is not an ISO 8601 time")
    cert_check.problems += trust.chain(certificate, "Application", str(sig.get("msp")), at)


def _find(parsed: dict, number, tx_id) -> tuple[blocks.Transaction | None, int | None, str]:
    block = parsed.get(number)
    if block is None:
        return None, None, f"block {number} is not in the bundle or did not verify"
    for tx in blocks.transactions(block):
        if tx.tx_id == tx_id:
            return tx, blocks.validation_codes(block)[tx.index], ""
    return None, None, f"transaction {tx_id} is not in block {number}"


def _check_transactions(report: Report, citations: list, parsed: dict, record: dict, signatures: list, trust: Trust,
                        channel: str, chaincode: str) -> None:  # fmt: skip
    cited = {(c.get("purpose"), c.get("signature")) for c in citations if isinstance(c, dict)}
    if ("anchor", None) not in cited:
        report.check("anchor transaction").fail("the bundle cites no anchor transaction")
    for i in range(len(signatures)):
        if ("signature", i) not in cited:
            report.check(f"signature transaction {i}").fail("the bundle cites no transaction for this signature")
    for citation in citations:
        if not isinstance(citation, dict):
            report.check("transaction").fail("a transaction citation is not an object")
            continue
        anchor = citation.get("purpose") == "anchor"
        index = citation.get("signature")
        name = "anchor transaction" if anchor else f"signature transaction {index}"
        check = report.check(f"{name} ({citation.get('txId')}, block {citation.get('blockNumber')})")
        if not anchor and not (isinstance(index, int) and 0 <= index < len(signatures)):
            check.fail(f"it cites signature {index!r}, which the record does not have")
            continue
        signature = None if anchor else signatures[index]
        recorded_tx = record.get("txId") if anchor else signature.get("txId")
        check.require(citation.get("txId") == recorded_tx, f"it cites transaction {citation.get('txId')}, the record "
                      f"names {recorded_tx}")  # fmt: skip
        tx, code, missing = _find(parsed, citation.get("blockNumber"), citation.get("txId"))
        if tx is None:
            check.fail(missing)
            continue
        check.require(code == blocks.VALID, f"the block's transaction filter marks it {code}, not VALID (0)")
        check.require(tx.channel == channel, f"it was made on channel {tx.channel}, not {channel}")
        check.require(tx.chaincode == chaincode, f"it invoked chaincode {tx.chaincode}, not {chaincode}")
        at = datetime.fromtimestamp(tx.timestamp, UTC)
        check.problems += _signed_by_member(tx.creator, trust, "Application", at, "creator")
        check.require(bool(tx.endorsements), "it carries no endorsement")
        for e in tx.endorsements:
            check.problems += _signed_by_member(e, trust, "Application", at, f"endorser {e.msp_id}")
        if anchor:
            _anchor_values(check, tx, record)
        else:
            _signature_values(check, tx, record, signature)
        if check.passed:
            check.notes.append(f"VALID at {at.isoformat()}, created by {tx.creator.msp_id}, endorsed by "
                               f"{', '.join(e.msp_id for e in tx.endorsements)}")  # fmt: skip


def _json_argument(tx: blocks.Transaction, position: int):
    try:
        return json.loads(tx.arguments[position])
    except (IndexError, ValueError):
        return None


def _anchor_values(check: Check, tx: blocks.Transaction, record: dict) -> None:
    function = tx.arguments[0].decode(errors="replace") if tx.arguments else ""
    if not check.require(function == f"{CONTRACT}:AnchorDocument", f"it calls {function}, not AnchorDocument"):
        return
    anchored = _json_argument(tx, 1)
    if not check.require(isinstance(anchored, dict), "its document argument is not a JSON object"):
        return
    for key in ("shipment", "kind", "sha256", "contentType", "size"):
        check.require(anchored.get(key) == record.get(key), f"it anchored {key} {anchored.get(key)!r}, the record "
                      f"says {record.get(key)!r}")  # fmt: skip
    check.require(tx.creator.msp_id == record.get("anchoredBy"), f"it was submitted by {tx.creator.msp_id}, the "
                  f"record says {record.get('anchoredBy')}")  # fmt: skip
    result = _response(tx)
    for key in ("id", "version", "sha256"):
        check.require(result.get(key) == record.get(key), f"its endorsed result has {key} {result.get(key)!r}, the "
                      f"record says {record.get(key)!r}")  # fmt: skip


def _signature_values(check: Check, tx: blocks.Transaction, record: dict, signature: dict) -> None:
    args = [a.decode("utf-8", errors="replace") for a in tx.arguments]
    if not check.require(args[:1] == [f"{CONTRACT}:SignDocument"] and len(args) >= 6,
                         f"it calls {args[:1]}, not SignDocument with its five arguments"):  # fmt: skip
        return
    check.require(args[1] == record.get("id") and args[2] == str(record.get("version")),
                  f"it signs {args[1]} version {args[2]}, not {record.get('id')} version {record.get('version')}")
    try:
        sent = _lenient_b64(args[3])  # as the contract reads it: standard or URL-safe, padding optional
        kept = base64.b64decode(str(signature.get("signature")), validate=True)
    except ValueError:
        sent, kept = b"", b""
    check.require(_canonical_signature(sent) is not None and _canonical_signature(sent) == _canonical_signature(kept),
                  "the signature it carries differs from the recorded one")  # fmt: skip
    signer_pem = args[5].encode() if args[5].strip() else tx.creator.certificate
    signer, recorded = _certificate(signer_pem), _certificate(str(signature.get("certificate", "")))
    check.require(signer is not None and recorded is not None and signer == recorded,
                  "the signer's certificate it carries differs from the recorded one")  # fmt: skip
    check.require(tx.creator.msp_id == signature.get("msp"), f"it was submitted by {tx.creator.msp_id}, the signer "
                  f"belongs to {signature.get('msp')}")  # fmt: skip
    endorsed = [s for s in _response(tx).get("signatures") or [] if isinstance(s, dict) and s.get("txId") == tx.tx_id]
    check.require(endorsed == [signature], "its endorsed result does not record the signature as the bundle does")


def _lenient_b64(text: str) -> bytes:
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def _response(tx: blocks.Transaction) -> dict:
    try:
        value = json.loads(tx.response_payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _load_anchors(paths: list[str]) -> list[x509.Certificate]:
    anchors = []
    for path in paths:
        with open(path, "rb") as file:
            anchors += x509.load_pem_x509_certificates(file.read())
    return anchors


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m app.evidence.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the evidence bundle (JSON) to check")
    parser.add_argument("--trust", nargs="+", action="extend", default=[], metavar="CA_PEM",
                        help="CA certificates obtained independently; every chain must end at one of them "
                             "(repeat the option or list several files)")
    args = parser.parse_args(argv)
    try:
        with open(args.bundle, "rb") as file:
            bundle = json.load(file)
        report = verify(bundle, _load_anchors(args.trust))
    except (OSError, ValueError) as err:  # BundleError, JSON and PEM errors are ValueErrors
        print(f"cannot check {args.bundle}: {err}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
