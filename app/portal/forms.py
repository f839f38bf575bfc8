"""The portal's forms (Flask-WTF: validation and CSRF protection)."""

from __future__ import annotations

import json

from flask_wtf import FlaskForm
from wtforms import FloatField, PasswordField, SelectField, StringField, TextAreaField
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
