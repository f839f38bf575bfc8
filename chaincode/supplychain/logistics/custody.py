"""Custody of a shipment's units in provenance: the EPCIS events the logistics contract captures itself.

- picked up: shipping by the shipper to the carrier, then receiving by the carrier;
- readings: an observation with sensor reports, by the carrier holding the goods;
- delivered: shipping by the carrier to the consignee;
- the consignee's signature on the proof of delivery: receiving by the consignee.

The events go through provenance's own capture, so its rules hold (only the custodian ships, only the
organisation a shipment was sent to receives it) and ``GetObject``, ``ItemHistory`` and ``Readings`` of
the units, and of everything packed inside them, show the moves and the readings. Each event names the
shipment (``bizTransactionList`` and ``sc:shipment``) and where it happened (``sc:place``, ``sc:geo``);
its eventID is derived from the transaction ID, so every endorser builds the same event.
"""

from __future__ import annotations

from ..errors import Conflict, Forbidden, NotFound
from ..provenance import access
from ..provenance.capture import capture
from ..provenance.events import ORG_PARTY, validate_event
from ..provenance.ledger import OBJECT
from .shipments import EPCIS_READING_TYPE, READING_UNITS
from .state import UNIT, LogisticsLedger

NAMESPACE = "urn:supplychain:logistics:"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sc": NAMESPACE}]
SHIPMENT_URN = "urn:supplychain:shipment:"


async def check_units(ledger: LogisticsLedger, shipment: dict) -> None:
    """Every unit exists in provenance, is held by the shipper, is not moving, and is in no other open shipment."""
    for unit, key in zip(shipment["units"], shipment["unitKeys"]):
        record = await ledger.get(OBJECT, key)
        if record is None:
            raise NotFound(f"unit {unit} was never commissioned in provenance")
        if record["custodian"] != shipment["shipper"]:
            raise Forbidden(f"unit {unit} is held by {record['custodian']}, not by the shipper {shipment['shipper']}")
        if record["inTransit"]:
            raise Conflict(f"unit {unit} is in transit; it must be received before it ships again")
        open_shipment = await ledger.get(UNIT, key)
        if open_shipment is not None:
            raise Conflict(f"unit {unit} is already in shipment {open_shipment['shipment']}")


class Custody:
    """The provenance events of one transaction of a shipment, numbered for their eventIDs."""

    def __init__(self, ledger: LogisticsLedger, shipment: dict, now: str, tx_id: str, place: dict):
        self.ledger, self.shipment, self.now, self.tx_id, self.place = ledger, shipment, now, tx_id, place
        self.captured: list[str] = []

    def _event(self, biz_step: str, disposition: str | None, **fields) -> dict:
        doc = {
            "@context": CONTEXT, "type": "ObjectEvent",
            "eventID": f"{NAMESPACE}{self.tx_id}:{len(self.captured) + 1}",
            "eventTime": self.now, "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
            "epcList": list(self.shipment["units"]), "bizStep": biz_step,
            "bizTransactionList": [{"type": "desadv", "bizTransaction": SHIPMENT_URN + self.shipment["id"]}],
            "sc:shipment": self.shipment["id"], "sc:place": self.place["name"], **fields,
        }  # fmt: skip
        if disposition:
            doc["disposition"] = disposition
        if self.place.get("geo"):
            doc["sc:geo"] = f"geo:{self.place['geo']['lat']},{self.place['geo']['lon']}"
        return doc

    async def _capture(self, msp: str, doc: dict) -> None:
        done = await capture(self.ledger, access.Caller(msp), validate_event(doc), self.now, self.tx_id)
        self.captured.append(done.summary["eventKey"])

    async def ship(self, sender: str, receiver: str) -> None:
        """``sender`` ships the units to ``receiver`` (possessing party)."""
        await self._capture(sender, self._event(
            "shipping", "in_transit",
            sourceList=[{"type": "possessing_party", "source": ORG_PARTY + sender}],
            destinationList=[{"type": "possessing_party", "destination": ORG_PARTY + receiver}],
        ))  # fmt: skip

    async def receive(self, receiver: str) -> None:
        """``receiver`` receives the units shipped to it."""
        await self._capture(receiver, self._event("receiving", "in_progress"))

    async def observe(self, holder: str, readings: list[dict]) -> None:
        """``holder`` reports sensor readings about the units (and what they contain)."""
        elements = []
        for reading in readings:
            metadata = {"time": reading["time"]}
            if reading.get("deviceId"):
                metadata["deviceID"] = reading["deviceId"]
            report = {"type": EPCIS_READING_TYPE[reading["type"]], "value": reading["value"],
                      "uom": READING_UNITS[reading["type"]][reading["unit"]]}  # fmt: skip
            elements.append({"sensorMetadata": metadata, "sensorReport": [report]})
        await self._capture(holder, self._event("sensor_reporting", None, sensorElementList=elements))
