"""Request and response shapes of the API (marshmallow, through APIFlask): validated before any ledger call.

The chaincode validates EPCIS events field by field; here only the envelope is checked, so that a malformed
request gets a 422 naming the field without a round trip to the peers.
"""

from __future__ import annotations

from apiflask import Schema, fields, validators
from marshmallow import ValidationError, validates, validates_schema

from ..users import MIN_PASSWORD, ROLES

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent", "AssociationEvent")
MAX_EVENTS_PER_DOCUMENT = 200  # the chaincode's MAX_EVENTS_PER_CAPTURE: one document is one transaction
MAX_PAGE_SIZE = 200


class Credentials(Schema):
    username = fields.String(required=True, validate=validators.Length(1, 64))
    password = fields.String(required=True, validate=validators.Length(1, 256), load_only=True)


class Token(Schema):
    token = fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`"})
    expiresAt = fields.Float(metadata={"description": "Expiry, seconds since the epoch"})


class NewUser(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True, validate=validators.Length(MIN_PASSWORD, 256))
    role = fields.String(required=True, validate=validators.OneOf(ROLES))


class UserOut(Schema):
    username = fields.String()
    role = fields.String()
    enrollmentId = fields.String(attribute="enrollment_id")


class Range(Schema):
    min = fields.Float(required=True)
    max = fields.Float(required=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["min"] > data["max"]:
            raise ValidationError("min is above max", "min")


class Handling(Schema):
    temperature = fields.Nested(Range, metadata={"description": "degrees Celsius"})
    humidity = fields.Nested(Range, metadata={"description": "percent relative humidity"})


class ProductClass(Schema):
    gtin = fields.String(required=True, validate=validators.Regexp(r"^\d{8}$|^\d{12,14}$", error="GTIN-8/12/13/14"))
    name = fields.String(required=True, validate=validators.Length(1, 200))
    handling = fields.Nested(Handling, load_default=dict)


def _event_errors(events: list) -> None:
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValidationError(f"event {i} must be a JSON object")
        if event.get("type") not in EVENT_TYPES:
            raise ValidationError(f"event {i}: type must be one of {', '.join(EVENT_TYPES)}")
        if not isinstance(event.get("eventTime"), str):
            raise ValidationError(f"event {i}: eventTime is required (ISO 8601 with offset)")


class EPCISBody(Schema):
    eventList = fields.List(fields.Dict(), required=True,
                            validate=validators.Length(1, MAX_EVENTS_PER_DOCUMENT))  # fmt: skip

    @validates("eventList")
    def _events(self, value, **kwargs):
        _event_errors(value)


class EPCISDocument(Schema):
    """An EPCIS 2.0 document (JSON or JSON-LD); unknown top-level members such as ``sender`` are kept."""

    class Meta:
        unknown = "include"

    context = fields.Raw(data_key="@context")
    type = fields.String(required=True, validate=validators.Equal("EPCISDocument"))
    schemaVersion = fields.String(required=True, validate=validators.OneOf(["2.0"]))
    creationDate = fields.DateTime(required=True)
    epcisBody = fields.Nested(EPCISBody, required=True)


class EPCISEvent(Schema):
    """One EPCIS 2.0 event; its fields are checked by the chaincode."""

    class Meta:
        unknown = "include"

    type = fields.String(required=True, validate=validators.OneOf(EVENT_TYPES))
    eventTime = fields.String(required=True)


class Captured(Schema):
    eventKey = fields.String(metadata={"description": "eventID, or the CBV 2.0 event hash ID"})
    hashId = fields.String()
    type = fields.String()
    bizStep = fields.String(allow_none=True)
    objects = fields.List(fields.String())


class CaptureResult(Schema):
    captured = fields.List(fields.Nested(Captured))


class EventQuery(Schema):
    EQ_eventID = fields.String(metadata={"description": "an eventID or event hash ID"})
    MATCH_anyEPC = fields.String(metadata={"description": "events about this EPC URN or Digital Link"})
    perPage = fields.Integer(load_default=50, validate=validators.Range(1, MAX_PAGE_SIZE))
    nextPageToken = fields.String(load_default="")

    @validates_schema
    def _one_of(self, data, **kwargs):
        if bool(data.get("EQ_eventID")) == bool(data.get("MATCH_anyEPC")):
            raise ValidationError("give exactly one of EQ_eventID and MATCH_anyEPC", "EQ_eventID")


class Page(Schema):
    perPage = fields.Integer(load_default=100, validate=validators.Range(1, MAX_PAGE_SIZE))
    nextPageToken = fields.String(load_default="")


class Recall(Schema):
    lot = fields.String(required=True, metadata={"description": "LGTIN URN or Digital Link /01/<gtin>/10/<lot>"})
    reason = fields.String(required=True, validate=validators.Length(3, 500))
