"""The portal's forms (Flask-WTF: validation and CSRF protection)."""

from __future__ import annotations

import json

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FloatField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..users import MIN_PASSWORD, ROLES


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired()])


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(3, 32)])
    password = PasswordField("Password", validators=[DataRequired(), Length(MIN_PASSWORD, 256)])
    role = SelectField("Role", choices=[(r, r) for r in ROLES])


class ProductForm(FlaskForm):
    gtin = StringField("GTIN", validators=[DataRequired(), Regexp(r"^\d{8}$|^\d{12,14}$", message="8, 12, 13 or 14 digits")])
    name = StringField("Name", validators=[DataRequired(), Length(1, 200)])
    temp_min = FloatField("Temperature min (°C)", validators=[Optional(), NumberRange(-90, 100)])
    temp_max = FloatField("Temperature max (°C)", validators=[Optional(), NumberRange(-90, 100)])

    def validate_temp_max(self, field):
        if (self.temp_min.data is None) != (field.data is None):
            raise ValidationError("give both bounds or neither")
        if field.data is not None and self.temp_min.data > field.data:
            raise ValidationError("max is below min")


class EventsForm(FlaskForm):
    document = TextAreaField("EPCIS 2.0 JSON: one event, a list of events, or an EPCISDocument",
                             validators=[DataRequired()])  # fmt: skip

    def events(self) -> list[dict]:
        """The events the text holds, in order."""
        try:
            doc = json.loads(self.document.data)
        except ValueError as err:
            raise ValidationError(f"not valid JSON: {err}") from None
        if isinstance(doc, dict) and doc.get("type") == "EPCISDocument":
            doc = (doc.get("epcisBody") or {}).get("eventList")
        events = doc if isinstance(doc, list) else [doc]
        if not events or not all(isinstance(e, dict) for e in events):
            raise ValidationError("expected an event object, a list of them, or an EPCISDocument")
        return events


class RecallForm(FlaskForm):
    lot = StringField("Lot (LGTIN URN or /01/<gtin>/10/<lot>)", validators=[DataRequired()])
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(3, 500)])


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    code = StringField("EPC URN or Digital Link", validators=[DataRequired()])


MEMBERS = ("ProducerMSP", "RetailerMSP", "LogisticsMSP")
MILESTONES = ("picked_up", "departed", "arrived", "delivered", "exception")
DOCUMENT_KINDS = ("consignment_note", "bill_of_lading", "delivery_note", "proof_of_delivery", "damage_report")


def _place(name: str, lat, lon) -> dict:
    place = {"name": name.strip()}
    if lat is not None:
        place["geo"] = {"lat": lat, "lon": lon}
    return place


def _both_or_neither(first, second, what: str) -> None:
    if (first.data is None) != (second.data is None):
        raise ValidationError(f"give both {what} or neither")


class ShipmentForm(FlaskForm):
    id = StringField("Shipment ID", validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{1,64}$",
                                                                       message="letters, digits, - and _")])  # fmt: skip
    carriers = SelectMultipleField("Carriers", choices=[(m, m) for m in MEMBERS], validators=[DataRequired()])
    consignee = SelectField("Consignee", choices=[(m, m) for m in MEMBERS])
    origin = StringField("Origin", validators=[DataRequired(), Length(1, 200)])
    origin_lat = FloatField("lat", validators=[Optional(), NumberRange(-90, 90)])
    origin_lon = FloatField("lon", validators=[Optional(), NumberRange(-180, 180)])
    destination = StringField("Destination", validators=[DataRequired(), Length(1, 200)])
    destination_lat = FloatField("lat", validators=[Optional(), NumberRange(-90, 90)])
    destination_lon = FloatField("lon", validators=[Optional(), NumberRange(-180, 180)])
    units = TextAreaField("Units (logistic units or items held by you, one per line)", validators=[DataRequired()])
    temp_min = FloatField("Temperature min (°C)", validators=[Optional(), NumberRange(-90, 100)])
    temp_max = FloatField("Temperature max (°C)", validators=[Optional(), NumberRange(-90, 100)])

    def validate_origin_lon(self, field):
        _both_or_neither(self.origin_lat, field, "coordinates of the origin")

    def validate_destination_lon(self, field):
        _both_or_neither(self.destination_lat, field, "coordinates of the destination")

    def validate_temp_max(self, field):
        _both_or_neither(self.temp_min, field, "temperature bounds")
        if field.data is not None and self.temp_min.data > field.data:
            raise ValidationError("max is below min")

    def shipment(self, shipper: str) -> dict:
        """The shipment as the ledger takes it."""
        shipment = {"id": self.id.data.strip(), "shipper": shipper, "carriers": self.carriers.data,
                    "consignee": self.consignee.data,
                    "origin": _place(self.origin.data, self.origin_lat.data, self.origin_lon.data),
                    "destination": _place(self.destination.data, self.destination_lat.data, self.destination_lon.data),
                    "units": [u.strip() for u in self.units.data.splitlines() if u.strip()]}  # fmt: skip
        if self.temp_min.data is not None:
            shipment["handling"] = {"temperature": {"min": self.temp_min.data, "max": self.temp_max.data, "unit": "CEL"}}
        return shipment


class MilestoneForm(FlaskForm):
    type = SelectField("Milestone", choices=[(m, m.replace("_", " ")) for m in MILESTONES])
    location = StringField("Where", validators=[DataRequired(), Length(1, 200)])
    lat = FloatField("lat", validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField("lon", validators=[Optional(), NumberRange(-180, 180)])
    note = StringField("Note", validators=[Optional(), Length(0, 2000)])
    temperatures = TextAreaField("Temperatures (°C), one per line: a value, or an ISO time and a value",
                                 validators=[Optional()])  # fmt: skip

    def validate_lon(self, field):
        _both_or_neither(self.lat, field, "coordinates")

    def validate_temperatures(self, field):
        self.readings()

    def readings(self) -> list[dict]:
        """The temperature lines as readings; ValidationError names a bad line."""
        readings = []
        for number, line in enumerate((self.temperatures.data or "").splitlines(), 1):
            words = line.split()
            if not words:
                continue
            try:
                reading = {"type": "temperature", "value": float(words[-1]), "unit": "CEL"}
            except ValueError:
                raise ValidationError(f"line {number}: {words[-1]!r} is not a number") from None
            if len(words) == 2:
                reading["time"] = words[0]
            elif len(words) > 2:
                raise ValidationError(f"line {number}: expected a value, or a time and a value")
            readings.append(reading)
        return readings

    def milestone(self) -> dict:
        """The milestone as the ledger takes it."""
        milestone = {"type": self.type.data, "location": _place(self.location.data, self.lat.data, self.lon.data)}
        if self.note.data:
            milestone["note"] = self.note.data.strip()
        if readings := self.readings():
            milestone["readings"] = readings
        return milestone


class DocumentForm(FlaskForm):
    kind = SelectField("Kind", choices=[(k, k.replace("_", " ")) for k in DOCUMENT_KINDS])
    file = FileField("File (PDF, PNG, JPEG, JSON or XML)", validators=[FileRequired()])
