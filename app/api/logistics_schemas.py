"""Request shapes of the logistics API (marshmallow, through APIFlask), checked before any ledger call.

Only shapes are checked here; the logistics contract checks every rule (parties, custody, signing order, ...).
"""

from __future__ import annotations

import json

from apiflask import Schema, fields, validators
from marshmallow import ValidationError, validates_schema

from .schemas import MAX_PAGE_SIZE

MEMBERS = ("ProducerMSP", "RetailerMSP", "LogisticsMSP")
KINDS = ("consignment_note", "bill_of_lading", "delivery_note", "proof_of_delivery", "damage_report")
PARTIES = ("shipper", "carrier", "consignee")
MILESTONES = ("picked_up", "departed", "arrived", "delivered", "exception")
ID = validators.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="1 to 64 letters, digits, '_' or '-'")


class Geo(Schema):
    lat = fields.Float(required=True, validate=validators.Range(-90, 90))
    lon = fields.Float(required=True, validate=validators.Range(-180, 180))


class Place(Schema):
    name = fields.String(required=True, validate=validators.Length(1, 200))
    geo = fields.Nested(Geo)


class TemperatureRange(Schema):
    min = fields.Float(required=True)
    max = fields.Float(required=True)
    unit = fields.String(load_default="CEL", validate=validators.OneOf(["CEL"]))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["min"] > data["max"]:
            raise ValidationError("min is above max", "min")


class ShipmentHandling(Schema):
    temperature = fields.Nested(TemperatureRange)


class NewShipment(Schema):
    id = fields.String(required=True, validate=ID, metadata={"example": "SHP-2026-0001"})
    shipper = fields.String(required=True, validate=validators.OneOf(MEMBERS))
    carriers = fields.List(fields.String(validate=validators.OneOf(MEMBERS)), required=True,
                           validate=validators.Length(1, 5))  # fmt: skip
    consignee = fields.String(required=True, validate=validators.OneOf(MEMBERS))
    origin = fields.Nested(Place, required=True)
    destination = fields.Nested(Place, required=True)
    units = fields.List(fields.String(validate=validators.Length(1, 300)), required=True,
                        validate=validators.Length(1, 200),
                        metadata={"description": "SSCCs and other provenance object IDs the shipper holds"})  # fmt: skip
    handling = fields.Nested(ShipmentHandling)


class Reading(Schema):
    type = fields.String(required=True, validate=validators.OneOf(["temperature", "humidity"]))
    value = fields.Float(required=True)
    unit = fields.String(validate=validators.OneOf(["CEL", "FAR", "PCT"]))
    time = fields.String(validate=validators.Length(1, 64), metadata={"description": "ISO 8601 with offset"})
    deviceId = fields.String(validate=validators.Length(1, 200))


class Milestone(Schema):
    type = fields.String(required=True, validate=validators.OneOf(MILESTONES))
    location = fields.Nested(Place, required=True)
    note = fields.String(validate=validators.Length(0, 2000))
    readings = fields.List(fields.Nested(Reading), validate=validators.Length(0, 500))


class DocumentUpload(Schema):
    file = fields.File(required=True, metadata={"description": "the document's bytes"})
    kind = fields.String(required=True, validate=validators.OneOf(KINDS))
    sha256 = fields.String(validate=validators.Regexp(r"^[0-9A-Fa-f]{64}$", error="64 hexadecimal digits"),
                           metadata={"description": "SHA-256 the client computed; refused if the bytes differ"})
    contentType = fields.String(metadata={"description": "overrides the file part's Content-Type"})
    roles = fields.String(metadata={"description": 'JSON: the role each party\'s signer must have, e.g. '
                                                   '{"carrier": "operator"}'})  # fmt: skip

    @validates_schema
    def _roles(self, data, **kwargs):
        if "roles" in data:
            try:
                roles = json.loads(data["roles"])
            except ValueError:
                raise ValidationError("not JSON", "roles") from None
            if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
                raise ValidationError("a JSON object of party -> role", "roles")


class Received(Schema):
    id = fields.String(required=True, validate=validators.Length(1, 300))
    quantity = fields.Integer(required=True, validate=validators.Range(min=0))


class Statement(Schema):
    """What the signer states with the signature; the proof of delivery's consignee adds what was received."""

    remarks = fields.String(validate=validators.Length(0, 2000))
    received = fields.List(fields.Nested(Received))
    condition = fields.String(validate=validators.OneOf(["good", "damaged", "partial"]))


class SignRequest(Schema):
    statement = fields.Nested(Statement, load_default=dict)
    party = fields.String(validate=validators.OneOf(PARTIES),
                          metadata={"description": "the party signing; default: the one the version waits for"})
    signature = fields.String(metadata={"description": "base64 ECDSA P-256/SHA-256 signature (DER or r||s) over "
                                        "the signing payload made elsewhere; omit to sign with your server-held key"})
    certificate = fields.String(metadata={"description": "PEM certificate of the key that made `signature`, when it "
                                          "is not your enrolled one (it must be of your organisation)"})  # fmt: skip


class PayloadQuery(Schema):
    party = fields.String(validate=validators.OneOf(PARTIES),
                          metadata={"description": "default: the party the version waits for"})
    statement = fields.String(load_default="{}", metadata={"description": "the statement as JSON text"})

    @validates_schema
    def _statement(self, data, **kwargs):
        try:
            statement = json.loads(data["statement"])
        except ValueError:
            raise ValidationError("not JSON", "statement") from None
        errors = Statement().validate(statement) if isinstance(statement, dict) else {"_schema": ["not an object"]}
        if errors:
            raise ValidationError(errors, "statement")


class LogisticsPage(Schema):
    perPage = fields.Integer(load_default=50, validate=validators.Range(1, MAX_PAGE_SIZE))
    nextPageToken = fields.String(load_default="")
