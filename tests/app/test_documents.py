"""The document store and upload checks on their own (no network): content addressing, atomic writes, sniffing."""

from __future__ import annotations

import hashlib
import json

import pytest

from app.documents import CorruptDocument, DocumentRejected, DocumentStore, inspect, normalise_type, sniff
from tests.app.shipping import PNG, pdf

ALLOWED = ["application/pdf", "image/png", "image/jpeg", "application/json", "application/xml"]


def check(data: bytes, declared: str, claimed: str | None = None):
    return inspect(data, declared, claimed, max_bytes=1024, allowed_types=ALLOWED)


def test_the_same_bytes_are_stored_once_under_their_hash_and_never_overwritten(tmp_path):
    store = DocumentStore(tmp_path)
    data = pdf()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert (tmp_path / digest[:2] / digest).read_bytes() == data
    assert store.put(data) == digest and store.get(digest) == data
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [digest]  # no temporary file left behind


def test_staged_bytes_take_their_name_only_when_committed(tmp_path):
    store = DocumentStore(tmp_path)
    data = pdf()
    with store.staged(data):
        pass  # the ledger refused: no commit
    assert not store.has(hashlib.sha256(data).hexdigest())
    with pytest.raises(RuntimeError), store.staged(data) as staged:
        raise RuntimeError("anchoring failed")
    assert not store.has(staged.sha256)
    assert not any(tmp_path.rglob(".staged-*"))


def test_a_stored_file_changed_on_disk_is_reported_not_served(tmp_path):
    store = DocumentStore(tmp_path)
    digest = store.put(pdf())
    (tmp_path / digest[:2] / digest).write_bytes(pdf("changed"))
    with pytest.raises(CorruptDocument):
        store.get(digest)


def test_a_name_that_is_not_a_sha256_is_refused(tmp_path):
    with pytest.raises(ValueError):
        DocumentStore(tmp_path).get("../../etc/passwd")


def test_content_is_sniffed_from_the_bytes():
    assert sniff(pdf()) == "application/pdf" and sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00") == "image/jpeg"
    assert sniff(json.dumps({"ecmr": 1}).encode()) == "application/json"
    assert sniff(b'\xef\xbb\xbf  <?xml version="1.0"?><ecmr/>') == "application/xml"
    assert sniff(b"plain words") == "text/plain" and sniff(b"\x00\x01\x02\xfe") is None
    assert normalise_type("Text/XML; charset=utf-8") == "application/xml"


@pytest.mark.parametrize(("data", "declared", "claimed", "code"), [
    (b"", "application/pdf", None, "EMPTY_DOCUMENT"),
    (b"%PDF" + b"0" * 1024, "application/pdf", None, "DOCUMENT_TOO_LARGE"),
    (pdf(), "text/html", None, "UNSUPPORTED_MEDIA_TYPE"),
    (PNG, "application/pdf", None, "CONTENT_TYPE_MISMATCH"),
    (b"{not json", "application/json", None, "CONTENT_TYPE_MISMATCH"),
    (pdf(), "application/pdf", "0" * 64, "HASH_MISMATCH"),
])  # fmt: skip
def test_each_upload_rule_has_its_code(data, declared, claimed, code):
    with pytest.raises(DocumentRejected) as refused:
        check(data, declared, claimed)
    assert refused.value.code == code


def test_an_upload_that_passes_carries_its_hash_type_and_size():
    data = pdf()
    checked = check(data, "application/pdf; charset=binary", hashlib.sha256(data).hexdigest().upper())
    assert (checked.sha256, checked.content_type, checked.size) == (hashlib.sha256(data).hexdigest(),
                                                                   "application/pdf", len(data))  # fmt: skip
