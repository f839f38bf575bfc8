"""Portal pages of the logistics documents: shipments (timeline, map, temperatures), documents and their signing,
and the inbox of documents waiting for the organisation's signature.

Signing has two modes on the document page: with the user's account key (the gateway signs the document's signing
payload and the transaction with the user's server-held key), or with this browser's key (``static/signing.js``
signs the payload, the proposal and the transaction; the gateway never holds that key).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import document_files as files
from ..auth import logistics_for
from ..documents import DocumentRejected, inspect
from ..ledger import LedgerError
from . import bp, drawing
from .forms import DocumentForm, MilestoneForm, ShipmentForm
from .guards import flash_form_errors, writer_only

CONDITIONS = ("good", "damaged", "partial")


def _ledger():
    return logistics_for(current_user)


def _msp() -> str:
    return current_app.extensions["organization"].msp_id


def _refused(err: LedgerError, what: str) -> None:
    flash(f"{err.code}: {err.message} ({what})", "error")


@bp.app_template_filter("document_url")
def document_url(record: dict) -> str:
    """The portal page of a document version."""
    return url_for("portal.document", document_id=record["id"], version=record["version"])


@bp.app_template_filter("fingerprint")
def fingerprint(certificate_pem: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate (its DER), as hex: which key signed, at a glance."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


@bp.route("/shipments", methods=["GET", "POST"])
@login_required
def shipments():
    """The shipments the organisation is a party to, and the form to create one (as the shipper)."""
    form = ShipmentForm()
    if form.validate_on_submit():
        if (denied := writer_only(url_for(".shipments"))) is not None:
            return denied
        try:
            created = _ledger().create_shipment(form.shipment(_msp()))
        except LedgerError as err:
            _refused(err, "nothing was created")
        else:
            flash(f"created shipment {created['id']}", "success")
            return redirect(url_for(".shipment", shipment_id=created["id"]))
    page = _ledger().shipments(50, request.args.get("bookmark", ""))
    status = 422 if form.errors or request.method == "POST" else 200
    return render_template("portal/shipments.html", form=form, page=page, msp=_msp()), status


@bp.get("/shipments/<shipment_id>")
@login_required
def shipment(shipment_id: str):
    """A shipment: parties, timeline of milestones, map, temperatures, documents, and the forms its parties use."""
    record = _ledger().shipment(shipment_id)
    series = drawing.shipment_readings(record)
    return render_template(
        "portal/shipment.html", shipment=record, map_svg=drawing.route_map(record), readings=series,
        chart_svg=drawing.readings_chart(series), milestone_form=MilestoneForm(), document_form=DocumentForm(),
        msp=_msp(),
    )  # fmt: skip


@bp.post("/shipments/<shipment_id>/milestones")
@login_required
def record_milestone(shipment_id: str):
    """Record a milestone with the user's account key (a carrier's)."""
    form = MilestoneForm()
    if not form.validate():
        flash_form_errors(form)
    elif (denied := writer_only(url_for(".shipment", shipment_id=shipment_id))) is not None:
        return denied
    else:
        try:
            _ledger().record_milestone(shipment_id, form.milestone())
        except LedgerError as err:
            _refused(err, "nothing was recorded")
        else:
            flash(f"recorded {form.type.data.replace('_', ' ')} at {form.location.data}", "success")
    return redirect(url_for(".shipment", shipment_id=shipment_id))


@bp.post("/shipments/<shipment_id>/documents")
@login_required
def upload_document(shipment_id: str):
    """Upload a document: checked, anchored on the ledger as its kind's next version, then kept by its hash."""
    form = DocumentForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for(".shipment", shipment_id=shipment_id))
    if (denied := writer_only(url_for(".shipment", shipment_id=shipment_id))) is not None:
        return denied
    config, file = current_app.config, form.file.data
    try:
        checked = inspect(file.read(), file.mimetype, None, max_bytes=config["DOCUMENT_MAX_BYTES"],
                          allowed_types=config["DOCUMENT_CONTENT_TYPES"])  # fmt: skip
        document = {"shipment": shipment_id, "kind": form.kind.data, "sha256": checked.sha256,
                    "contentType": checked.content_type, "size": checked.size}  # fmt: skip
        if file.filename:
            document["filename"] = file.filename[-200:]
        with files.store().staged(checked.data) as staged:
            record = _ledger().anchor_document(document)
            staged.commit()
    except DocumentRejected as err:
        flash(f"{err.code}: {err.message} (nothing was stored)", "error")
    except LedgerError as err:
        _refused(err, "nothing was anchored")
    else:
        flash(f"anchored {record['kind'].replace('_', ' ')} version {record['version']}", "success")
        return redirect(document_url(record))
    return redirect(url_for(".shipment", shipment_id=shipment_id))


@bp.get("/inbox")
@login_required
def inbox():
    """Documents whose next signature is this organisation's."""
    page = _ledger().inbox(50, request.args.get("bookmark", ""))
    return render_template("portal/inbox.html", page=page, msp=_msp())


def _my_turn(record: dict, msp: str) -> dict | None:
    """The first required signer of this organisation that has not signed: {index, party, msp, role, next}."""
    signed = {(s["party"], s["msp"]) for s in record.get("signatures") or []}
    for index, signer in enumerate(record.get("requiredSigners") or []):
        if signer["msp"] == msp and (signer["party"], signer["msp"]) not in signed:
            return {**signer, "index": index, "next": record.get("next") == index}
    return None


@bp.get("/documents/<document_id>/versions/<int:version>")
@login_required
def document(document_id: str, version: int):
    """A document version: its content, versions, required signers and signatures, and signing in both modes."""
    ledger = _ledger()
    record = ledger.document(document_id, version)
    shipment = ledger.shipment(record["shipment"])
    listed = ledger.documents(record["shipment"])["documents"]
    versions = sorted((d for d in listed if d["id"] == document_id), key=lambda d: d["version"])
    turn = _my_turn(record, _msp()) if record["status"] == "awaiting_signatures" else None
    return render_template("portal/document.html", document=record, shipment=shipment, versions=versions, turn=turn,
                           conditions=CONDITIONS, msp=_msp())  # fmt: skip


@bp.get("/documents/<document_id>")
@login_required
def latest_document(document_id: str):
    """The latest version of a document."""
    return redirect(document_url(_ledger().document(document_id)))


@bp.get("/documents/<document_id>/versions/<int:version>/content")
@login_required
def document_content(document_id: str, version: int):
    """The document's bytes, checked against the anchored SHA-256 (fetched from the anchoring gateway if needed)."""
    record = _ledger().document(document_id, version)
    return files.content_response(record, files.document_bytes(record))


@bp.get("/documents/<document_id>/versions/<int:version>/evidence")
@login_required
def document_evidence(document_id: str, version: int):
    """The evidence bundle of a version, to check offline with ``python -m app.evidence.verify``."""
    ledger = _ledger()
    record = ledger.document(document_id, version)
    return files.evidence_response(ledger, record)


def statement_from(form) -> dict:
    """The signer's statement from the signing form: remarks; received quantities and condition when asked."""
    statement = {}
    if remarks := (form.get("remarks") or "").strip():
        statement["remarks"] = remarks[:2000]
    if form.get("condition"):
        statement["condition"] = form["condition"]
    received = []
    indexes = sorted(int(k.removeprefix("received-")) for k in form if k.removeprefix("received-").isdigit()
                     and k.startswith("received-"))  # fmt: skip
    for index in indexes:
        unit, quantity = form.get(f"unit-{index}", ""), form[f"received-{index}"].strip()
        if unit and quantity != "":
            received.append({"id": unit, "quantity": int(quantity) if quantity.lstrip("-").isdigit() else quantity})
    if received:
        statement["received"] = received
    return statement


@bp.post("/documents/<document_id>/versions/<int:version>/signatures")
@login_required
def sign_document(document_id: str, version: int):
    """Sign with the user's account key (server-held): the gateway signs the payload and the transaction."""
    back = url_for(".document", document_id=document_id, version=version)
    if (denied := writer_only(back)) is not None:
        return denied
    try:
        _ledger().sign_with_key(document_id, version, current_user.signing_key(), statement_from(request.form),
                                request.form.get("party") or None)  # fmt: skip
    except LedgerError as err:
        _refused(err, "nothing was signed")
    else:
        flash(f"signed {document_id} version {version} with your account key", "success")
    return redirect(back)
