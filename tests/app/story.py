"""A small egg supply chain with identifiers unique to one test, as EPCIS documents for the API."""

from __future__ import annotations

import json
import random

from chaincode.supplychain.provenance.identifiers import check_digit
from tests.chaincode import epcis

COMPANY = epcis.COMPANY


class Story:
    """A fresh GTIN and lot: product class, commissioning, packing, shipping, receiving, readings."""

    def __init__(self):
        self.item_ref = "9" + "".join(random.choice("0123456789") for _ in range(5))
        body = self.item_ref[0] + COMPANY + self.item_ref[1:]  # indicator digit, company prefix, item reference
        self.gtin = body + check_digit(body)
        self.lot = f"L{random.randrange(10**6)}"
        self.items = [epcis.sgtin(f"{self.lot}-{n}", self.item_ref) for n in range(3)]
        self.case = epcis.sscc(str(random.randrange(10**9)).zfill(9) + "1")
        self.lot_urn = epcis.lgtin(self.lot, self.item_ref)

    def product(self, low: float = 1, high: float = 8) -> dict:
        return {"gtin": self.gtin, "name": "Free-range eggs, 6", "handling": {"temperature": {"min": low, "max": high}}}

    @staticmethod
    def document(*events: str) -> dict:
        return json.loads(epcis.document(*events))

    def commission(self) -> str:
        return epcis.commission(self.items, lot=self.lot)

    def pack(self) -> str:
        return epcis.pack(self.case, self.items)

    def ship(self) -> str:
        return epcis.ship([self.case])

    def receive(self) -> str:
        return epcis.receive([self.case])

    def temperature(self, value: float, time: str = "2026-01-05T11:00:00+01:00") -> str:
        return epcis.temperature([self.case], value, time)
