"""Logistics documents off the ledger: upload checks and a content-addressed store of their bytes.

The ledger anchors a document by its SHA-256; the bytes stay with the gateways, filed under that hash in
``DOCUMENTS_PATH`` (by default ``instance/documents/<org>``). A file is written once, atomically (a temporary file
in the same folder, flushed, then hard-linked to its final name, which fails if the name exists) and never
overwritten: the same bytes always land on the same name, and different bytes can never take it. Reads check the
hash again, so a file changed on disk is reported, never served.

``inspect`` checks an upload before anything is stored or anchored, raising ``DocumentRejected``:

=========================  ======  ====================================================================
code                       status  when
=========================  ======  ====================================================================
EMPTY_DOCUMENT             422     no bytes
DOCUMENT_TOO_LARGE         413     more than ``DOCUMENT_MAX_BYTES``
UNSUPPORTED_MEDIA_TYPE     415     the declared content type is not one of ``DOCUMENT_CONTENT_TYPES``
CONTENT_TYPE_MISMATCH      422     the bytes are not what the declared content type says
HASH_MISMATCH              422     the client's SHA-256 differs from the one computed here
=========================  ======  ====================================================================
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import filetype

from .errors import CodedError

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Names a declared type may have besides its registered one.
_ALIASES = {"text/xml": "application/xml", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


class DocumentRejected(CodedError):
    """An upload that is not accepted; nothing was stored or anchored. ``code`` and ``status`` as in the table."""


@dataclass(frozen=True)
class Upload:
    """Bytes that passed ``inspect``: their SHA-256 (lower-case hex), normalised content type and size."""

    data: bytes
    sha256: str
    content_type: str
    size: int


def normalise_type(content_type: str | None) -> str:
    """``Text/XML; charset=utf-8`` -> ``application/xml``: lower case, no parameters, aliases resolved."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show, or None if they show none this module knows.

    Binary formats by their signature (``filetype``); text formats, which have none, by decoding: JSON must parse,
    XML must be UTF-8 text whose first character (after a byte-order mark and white space) is ``<``.
    """
    found = filetype.guess_mime(data)
    if found:
        return normalise_type(found)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return "application/xml"
    try:
        json.loads(text)
    except ValueError:
        return "text/plain"
    return "application/json"


def inspect(data: bytes, declared_type: str | None, claimed_sha256: str | None, *, max_bytes: int,
            allowed_types: Iterable[str]) -> Upload:  # fmt: skip
    """Check an upload; its ``Upload`` or ``DocumentRejected`` naming the first problem (see the module's table).

    ``claimed_sha256`` (optional) is the hash the client computed; hex in either case.
    """
    if not data:
        raise DocumentRejected("EMPTY_DOCUMENT", "the document has no bytes", 422)
    if len(data) > max_bytes:
        raise DocumentRejected("DOCUMENT_TOO_LARGE", f"the document has {len(data)} bytes; at most {max_bytes} "
                               "are accepted", 413)  # fmt: skip
    declared = normalise_type(declared_type)
    allowed = [normalise_type(t) for t in allowed_types]
    if declared not in allowed:
        raise DocumentRejected("UNSUPPORTED_MEDIA_TYPE", f"content type {declared or '(none)'!r} is not accepted; "
                               f"accepted: {', '.join(allowed)}", 415)  # fmt: skip
    sniffed = sniff(data)
    if sniffed != declared:
        raise DocumentRejected("CONTENT_TYPE_MISMATCH", f"the document was declared {declared} but its bytes are "
                               f"{sniffed or 'of no recognised type'}", 422)  # fmt: skip
    digest = hashlib.sha256(data).hexdigest()
    if claimed_sha256 is not None and claimed_sha256.lower() != digest:
        raise DocumentRejected("HASH_MISMATCH", f"the SHA-256 sent ({claimed_sha256}) differs from the SHA-256 of "
                               f"the bytes received ({digest}): the upload was changed or cut", 422)  # fmt: skip
    return Upload(data, digest, declared, len(data))


class DocumentStore:
    """Bytes by SHA-256 under ``root`` (``<root>/<first two hex digits>/<sha256>``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a lower-case hex SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        """Whether the bytes of ``sha256`` are here."""
        return self._path(sha256).is_file()

    def get(self, sha256: str) -> bytes | None:
        """The bytes of ``sha256``, or None if they are not here. Raises ``CorruptDocument`` if the file changed."""
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CorruptDocument(f"the stored file {self._path(sha256)} no longer hashes to its name")
        return data

    def put(self, data: bytes) -> str:
        """Store ``data`` (a no-op if it is already here); returns its SHA-256."""
        with self.staged(data) as staged:
            staged.commit()
        return staged.sha256

    @contextlib.contextmanager
    def staged(self, data: bytes) -> Iterator[Staged]:
        """Write ``data`` to a temporary file now; it takes its name only on ``commit()``, else it is removed.

        For "store only if the ledger anchors it": stage, anchor, commit.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        final = self._path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=final.parent, prefix=".staged-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            staged = Staged(sha256, Path(temporary), final)
            yield staged
        finally:
            os.unlink(temporary)


@dataclass
class Staged:
    """Bytes written to a temporary file, waiting for ``commit()``."""

    sha256: str
    temporary: Path
    final: Path

    def commit(self) -> None:
        """Give the bytes their final name; if that name exists it already holds the same bytes and is kept."""
        try:
            os.link(self.temporary, self.final)  # never replaces an existing name, unlike rename
        except FileExistsError:
            return
        directory = os.open(self.final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class CorruptDocument(RuntimeError):
    """A stored file no longer hashes to its name (changed on disk)."""
