"""GS1 identifiers: GTIN, LGTIN (GTIN + lot), SGTIN, SSCC and GLN, as EPC URNs or Digital Link paths.

Every identifier has one canonical ``key``: its GS1 Digital Link path (``/01/<gtin>/21/<serial>``,
``/01/<gtin>/10/<lot>``, ``/00/<sscc>``, ``/414/<gln>``). The Digital Link form is used because
turning it into an EPC URN needs the GS1 Company Prefix length, which the digits alone do not give;
both spellings of one object therefore meet on the same ledger key.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ..errors import InvalidArgument

# GS1 AI 10 and 21 allow up to 20 characters of the 82-character set (GS1 General Specifications 7.11).
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
_DIGITS = re.compile(r"^[0-9]+$")

SGTIN, LGTIN, GTIN, SSCC, SGLN = "sgtin", "lgtin", "gtin", "sscc", "sgln"


@dataclass(frozen=True)
class Identifier:
    """A parsed GS1 identifier; ``key`` is its canonical Digital Link path."""

    kind: str
    key: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    gln: str | None = None

    @property
    def lot_key(self) -> str | None:
        """The canonical key of this identifier's lot, when the identifier names one."""
        return f"/01/{self.gtin}/10/{_quote(self.lot)}" if self.gtin and self.lot else None


def check_digit(data: str) -> str:
    """The GS1 mod-10 check digit for ``data`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return str((10 - total % 10) % 10)


def _checked(value: str, length: int, name: str) -> str:
    if len(value) != length or not _DIGITS.match(value):
        raise InvalidArgument(f"{name} must be {length} digits, got {value!r}")
    if check_digit(value[:-1]) != value[-1]:
        raise InvalidArgument(f"{name} {value} has a wrong check digit (expected {check_digit(value[:-1])})")
    return value


def parse_gtin(value: str) -> str:
    """A GTIN-8/12/13/14, validated and padded to GTIN-14."""
    if not isinstance(value, str) or len(value) not in (8, 12, 13, 14) or not _DIGITS.match(value):
        raise InvalidArgument(f"GTIN must be 8, 12, 13 or 14 digits, got {value!r}")
    return _checked(value.zfill(14), 14, "GTIN")


def parse_gln(value: str) -> str:
    """A 13-digit GLN with a valid check digit."""
    return _checked(value, 13, "GLN")


def parse_sscc(value: str) -> str:
    """An 18-digit SSCC with a valid check digit."""
    return _checked(value, 18, "SSCC")


def _text(value: str, name: str) -> str:
    decoded = urllib.parse.unquote(value)
    if not _CSET82.match(decoded):
        raise InvalidArgument(f"{name} must be 1 to 20 characters of the GS1 AI encodable set, got {value!r}")
    return decoded


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _company_split(company: str, reference: str, total: int, what: str) -> None:
    if not _DIGITS.match(company) or not 6 <= len(company) <= 12:
        raise InvalidArgument(f"{what}: GS1 Company Prefix must be 6 to 12 digits, got {company!r}")
    if not _DIGITS.match(reference or "0") or len(company) + len(reference) != total:
        raise InvalidArgument(f"{what}: company prefix and reference must have {total} digits together")


def _gtin_from_urn(company: str, item_ref: str, what: str) -> str:
    _company_split(company, item_ref, 13, what)
    body = item_ref[:1] + company + item_ref[1:]
    return body + check_digit(body)


def sgtin(gtin: str, serial: str) -> Identifier:
    """A serialised trade item."""
    return Identifier(SGTIN, f"/01/{gtin}/21/{_quote(serial)}", gtin=gtin, serial=serial)


def lgtin(gtin: str, lot: str) -> Identifier:
    """A batch/lot of a trade item."""
    return Identifier(LGTIN, f"/01/{gtin}/10/{_quote(lot)}", gtin=gtin, lot=lot)


def _parse_urn(value: str) -> Identifier:
    scheme, _, body = value.rpartition(":")
    parts = body.split(".")
    if scheme == "urn:epc:id:sgtin":
        if len(parts) != 3:
            raise InvalidArgument(f"SGTIN URN must be urn:epc:id:sgtin:<company>.<indicator+item>.<serial>: {value!r}")
        return sgtin(_gtin_from_urn(parts[0], parts[1], "SGTIN URN"), _text(parts[2], "serial"))
    if scheme == "urn:epc:class:lgtin":
        if len(parts) != 3:
            raise InvalidArgument(f"LGTIN URN must be urn:epc:class:lgtin:<company>.<indicator+item>.<lot>: {value!r}")
        return lgtin(_gtin_from_urn(parts[0], parts[1], "LGTIN URN"), _text(parts[2], "lot"))
    if scheme == "urn:epc:idpat:sgtin":
        if len(parts) != 3 or parts[2] != "*":
            raise InvalidArgument(f"GTIN class pattern must be urn:epc:idpat:sgtin:<company>.<item>.*: {value!r}")
        gtin = _gtin_from_urn(parts[0], parts[1], "GTIN pattern")
        return Identifier(GTIN, f"/01/{gtin}", gtin=gtin)
    if scheme == "urn:epc:id:sscc":
        if len(parts) != 2:
            raise InvalidArgument(f"SSCC URN must be urn:epc:id:sscc:<company>.<extension+serial>: {value!r}")
        _company_split(parts[0], parts[1], 17, "SSCC URN")
        body = parts[1][:1] + parts[0] + parts[1][1:]
        return Identifier(SSCC, f"/00/{body + check_digit(body)}", sscc=body + check_digit(body))
    if scheme == "urn:epc:id:sgln":
        if len(parts) != 3:
            raise InvalidArgument(f"SGLN URN must be urn:epc:id:sgln:<company>.<location>.<extension>: {value!r}")
        _company_split(parts[0], parts[1], 12, "SGLN URN")
        gln = parts[0] + parts[1] + check_digit(parts[0] + parts[1])
        ext = _text(parts[2], "GLN extension")
        key = f"/414/{gln}" if ext == "0" else f"/414/{gln}/254/{_quote(ext)}"
        return Identifier(SGLN, key, gln=gln)
    raise InvalidArgument(f"unsupported EPC URN scheme {scheme!r} (sgtin, lgtin, idpat:sgtin, sscc, sgln)")


def _parse_digital_link(value: str) -> Identifier:
    path = urllib.parse.urlsplit(value).path if value.startswith("https://") else value
    segments = path.strip("/").split("/")
    if len(segments) % 2:
        raise InvalidArgument(f"Digital Link path must be pairs of /<AI>/<value>: {value!r}")
    pairs = dict(zip(segments[::2], segments[1::2]))
    if len(pairs) != len(segments) // 2:
        raise InvalidArgument(f"Digital Link path repeats an application identifier: {value!r}")
    allowed = {("01",), ("01", "10"), ("01", "21"), ("01", "10", "21"), ("00",), ("414",), ("414", "254")}
    if tuple(segments[::2]) not in allowed:
        raise InvalidArgument(f"unsupported Digital Link path {value!r} (/01/../10/../21/.., /00/.., /414/..)")
    if "00" in pairs:
        sscc = parse_sscc(pairs["00"])
        return Identifier(SSCC, f"/00/{sscc}", sscc=sscc)
    if "414" in pairs:
        gln = parse_gln(pairs["414"])
        ext = _text(pairs["254"], "GLN extension") if "254" in pairs else None
        return Identifier(SGLN, f"/414/{gln}" + (f"/254/{_quote(ext)}" if ext else ""), gln=gln)
    gtin = parse_gtin(pairs["01"])
    lot = _text(pairs["10"], "lot") if "10" in pairs else None
    if "21" in pairs:
        item = sgtin(gtin, _text(pairs["21"], "serial"))
        # A lot in the path qualifies the item; the serial alone identifies it.
        return Identifier(SGTIN, item.key, gtin=gtin, lot=lot, serial=item.serial)
    return lgtin(gtin, lot) if lot else Identifier(GTIN, f"/01/{gtin}", gtin=gtin)


def parse(value: str, kinds: tuple[str, ...] | None = None, field: str = "identifier") -> Identifier:
    """Parse an EPC URN, a Digital Link path or a Digital Link URI; restrict to ``kinds`` if given."""
    if not isinstance(value, str) or not value or len(value) > 256:
        raise InvalidArgument(f"{field} must be a non-empty string of at most 256 characters")
    if value.startswith("urn:"):
        ident = _parse_urn(value)
    elif value.startswith("/") or value.startswith("https://"):
        ident = _parse_digital_link(value)
    else:
        raise InvalidArgument(f"{field} {value!r} is neither an EPC URN nor a GS1 Digital Link path")
    if kinds and ident.kind not in kinds:
        raise InvalidArgument(f"{field} {value!r} is a {ident.kind}, expected {' or '.join(kinds)}")
    return ident
