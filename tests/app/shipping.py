"""Shipments for the logistics API tests: units the Producer holds, a shipment of them, documents and signing."""

from __future__ import annotations

import hashlib
import time
import uuid

from tests.app.story import Story

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def pdf(text: str = "") -> bytes:
    """A small PDF whose bytes differ with ``text``."""
    return PDF + f"% {text or uuid.uuid4().hex}\n".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def packed_case(api) -> str:
    """A case of three items, commissioned and packed by the Producer (who holds it); its SSCC."""
    story = Story()
    producer = api("Producer")
    assert producer.post("/api/v1/products", story.product()).status_code == 201
    captured = producer.post("/api/v1/capture", Story.document(story.commission(), story.pack()))
    assert captured.status_code == 201, captured.json
    wait_until_seen_by(api("Logistics"), story.case)
    return story.case


def wait_until_seen_by(client, epc: str, seconds: float = 10) -> None:
    """Wait until ``client``'s peer has committed the block that recorded ``epc``.

    A submit returns once the submitter's own peer committed it; another organisation's peer, which endorses the
    next transaction of the shipment, may still be a block behind (any answer but 404 means it has the object).
    """
    deadline = time.monotonic() + seconds
    while client.get(f"/api/v1/objects/{epc}").status_code == 404:
        assert time.monotonic() < deadline, f"{epc} not seen by {client.user.enrollment_id}'s peer"
        time.sleep(0.1)


def shipment_spec(unit: str, carriers=("LogisticsMSP",), consignee: str = "RetailerMSP") -> dict:
    return {"id": f"SHP-{uuid.uuid4().hex[:12]}", "shipper": "ProducerMSP", "carriers": list(carriers),
            "consignee": consignee, "origin": {"name": "Hillside Farm", "geo": {"lat": 52.1, "lon": 5.1}},
            "destination": {"name": "GreenGrocer DC", "geo": {"lat": 52.37, "lon": 4.9}}, "units": [unit],
            "handling": {"temperature": {"min": 1, "max": 8, "unit": "CEL"}}}  # fmt: skip


def new_shipment(api, **kw) -> dict:
    """A shipment of a fresh case from the Producer; its record."""
    created = api("Producer").post("/api/v1/shipments", shipment_spec(packed_case(api), **kw))
    assert created.status_code == 201, created.json
    return created.json


def multipart(fields: dict, data: bytes, filename: str, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields`` and one ``file`` part, and its content type.

    Built here rather than by Werkzeug's test client, which spools a large body to a temporary file it never
    closes (a ResourceWarning, an error under this project's warning filter).
    """
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items())  # fmt: skip
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client, shipment_id: str, data: bytes, kind: str = "consignment_note", content_type="application/pdf",
           key: str | None = None, **fields):  # fmt: skip
    """POST a document as multipart (``fields`` are more form fields); the response."""
    body, form_type = multipart({"kind": kind, **fields}, data, f"{kind}.pdf", content_type)
    return client.post(f"/api/v1/shipments/{shipment_id}/documents", data=body, content_type=form_type, key=key)


def sign(client, record: dict, statement: dict | None = None, **fields):
    """Sign ``record``'s version through the API (server-held key unless ``signature`` is given)."""
    body = {"statement": statement or {}, **fields}
    return client.post(f"/api/v1/documents/{record['id']}/versions/{record['version']}/signatures", body)


def milestone(client, shipment_id: str, kind: str, **fields):
    body = {"type": kind, "location": {"name": f"{kind} point", "geo": {"lat": 52.2, "lon": 5.0}}, **fields}
    return client.post(f"/api/v1/shipments/{shipment_id}/milestones", body)
