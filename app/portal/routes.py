"""Portal pages: sign in, products, event capture, an item's lineage and readings, recalls, users, verify."""

from __future__ import annotations

import io

import segno
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.validators import ValidationError

from .. import users
from ..auth import ledger_for
from ..fabric_ca import CAError
from ..ledger import LedgerError
from . import bp, drawing
from .guards import writer_only
from .forms import EventsForm, LoginForm, LookupForm, ProductForm, RecallForm, UserForm


def _code(code: str) -> str:
    return code if code.startswith("urn:") else "/" + code.lstrip("/")


def _writer_only():
    return writer_only(url_for(".home"))


@bp.app_template_filter("item_url")
def item_url(object_id: str) -> str:
    """The portal page of a ledger object."""
    return url_for("portal.item", code=object_id.lstrip("/"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/portal") else url_for(".home"))
        flash("wrong username or password", "error")
    return render_template("portal/login.html", form=form), 200 if request.method == "GET" or form.errors else 401


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for(".login"))


@bp.get("/")
@login_required
def home():
    return render_template("portal/home.html", org=current_app.extensions["organization"], lookup=LookupForm())


@bp.get("/lookup")
@login_required
def lookup():
    form = LookupForm(request.args)
    if not form.validate():
        flash("enter an EPC URN or a Digital Link path", "error")
        return redirect(url_for(".home"))
    code = form.code.data.strip()
    if code.startswith(("https://", "http://")):  # a scanned Digital Link URI: keep its path
        code = code.split("://", 1)[1].partition("/")[2]
    return redirect(url_for(".item", code=code.lstrip("/")))


@bp.route("/products", methods=["GET", "POST"])
@login_required
def products():
    form = ProductForm()
    if form.validate_on_submit():
        if (denied := _writer_only()) is not None:
            return denied
        handling = {}
        if form.temp_min.data is not None:
            handling["temperature"] = {"min": form.temp_min.data, "max": form.temp_max.data}
        try:
            product = ledger_for(current_user).register_product(
                {"gtin": form.gtin.data, "name": form.name.data, "handling": handling})
        except LedgerError as err:
            flash(f"{err.code}: {err.message}", "error")
        else:
            flash(f"registered {product['name']} (GTIN {product['gtin']})", "success")
            return redirect(url_for(".products"))
    return render_template("portal/products.html", form=form), 422 if form.errors else 200


@bp.route("/events", methods=["GET", "POST"])
@login_required
def events():
    form = EventsForm()
    captured = None
    if form.validate_on_submit():
        if (denied := _writer_only()) is not None:
            return denied
        try:
            captured = ledger_for(current_user).capture(form.events())
            flash(f"captured {len(captured)} event(s) in one transaction", "success")
        except LedgerError as err:
            flash(f"{err.code}: {err.message} (nothing was recorded)", "error")
        except ValidationError as err:  # the text is not JSON events
            form.document.errors = [str(err)]
    status = 422 if form.errors else 200
    return render_template("portal/events.html", form=form, captured=captured), status


@bp.get("/items/<path:code>")
@login_required
def item(code: str):
    ledger = ledger_for(current_user)
    code = _code(code)
    record = ledger.object(code)
    upstream = ledger.trace_upstream(code)
    downstream = ledger.trace_downstream(code) if record["kind"] == "lgtin" else None
    readings = ledger.readings(code, 200)
    history = ledger.history(code, 50)
    msp = current_app.extensions["organization"].msp_id
    may_recall = current_user.can_write and msp in (record.get("producer"), "RegulatorMSP")
    return render_template(
        "portal/item.html", record=record, upstream=upstream, downstream=downstream, readings=readings,
        history=history, lineage_svg=drawing.lineage(upstream), downstream_svg=drawing.lineage(downstream)
        if downstream else None, chart_svg=drawing.readings_chart(readings), recall=RecallForm(lot=record["id"]),
        may_recall=may_recall,
    )  # fmt: skip


@bp.get("/items/<path:code>/qr.svg")
@login_required
def qr(code: str):
    """A QR code of the item's GS1 Digital Link URI, which resolves to its public verification page."""
    uri = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + _code(code) if not code.startswith("urn:") \
        else url_for("public.verify", code=code, _external=True)  # fmt: skip
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, title=uri)
    return Response(out.getvalue(), mimetype="image/svg+xml")


@bp.route("/recall", methods=["GET", "POST"])
@login_required
def recall():
    form = RecallForm()
    if form.validate_on_submit():
        if (denied := _writer_only()) is not None:
            return denied
        try:
            result = ledger_for(current_user).recall(form.lot.data.strip(), form.reason.data.strip())
        except LedgerError as err:
            flash(f"{err.code}: {err.message} (nothing was recalled)", "error")
        else:
            flash(f"recalled {result.get('lot', form.lot.data)}: {len(result.get('flagged', []))} object(s) flagged",
                  "success")  # fmt: skip
            return redirect(item_url(result.get("lot", _code(form.lot.data.strip()))))
    return render_template("portal/recall.html", form=form), 422 if form.errors else 200


@bp.route("/users", methods=["GET", "POST"])
@login_required
def user_admin():
    if not current_user.is_admin:
        flash("only the organisation's admins manage users", "error")
        return redirect(url_for(".home"))
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.username.data, form.password.data, form.role.data)
        except (users.UserError, CAError) as err:
            flash(str(err), "error")
        else:
            flash(f"registered {user.username} with the CA as {user.enrollment_id} (role {user.role})", "success")
            return redirect(url_for(".user_admin"))
    return render_template("portal/users.html", form=form, users=users.list_users()), 422 if form.errors else 200


@bp.errorhandler(LedgerError)
def _ledger_error(err: LedgerError):
    return render_template("error.html", status=err.status, title=err.code, detail=err.message,
                           code=err.code), err.status  # fmt: skip
