"""World state of the logistics contract: record kinds, and buffered writes that also set key-level policies.

The provenance ledger's buffered writes are reused (one buffer for both contracts' keys, so a milestone's
custody events and the shipment commit together or not at all); key-level endorsement policies are
buffered beside them and written after the values, only when every check has passed.
"""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import TransactionContext

from .. import stubext
from ..provenance.ledger import Ledger

SHIPMENT = "log.shipment"  # shipment id -> shipment record (key-level policy: its endorsers)
PARTY = "log.party"  # (MSP, shipment id) -> {} : the shipments an organisation is a party to
UNIT = "log.unit"  # unit key -> {"shipment"}: a unit is in at most one open shipment
MILESTONE = "log.milestone"  # (shipment id, sequence) -> milestone
DOCUMENT = "log.document"  # (shipment id, kind, version) -> version record (key-level policy: the endorsers)
INBOX = "log.inbox"  # (MSP, document id) -> {"version"}: documents waiting for that organisation's signature
SIGNATURE = "log.signature"  # sha256 of the normalised signature -> where it is recorded (replay index)

VERSION_DIGITS = 6
SEQUENCE_DIGITS = 6


def version_part(version: int) -> str:
    """A version number as a key part that sorts numerically."""
    return str(version).zfill(VERSION_DIGITS)


class LogisticsLedger(Ledger):
    """The provenance ledger's buffered reads and writes, plus buffered key-level endorsement policies."""

    def __init__(self, ctx: TransactionContext):
        super().__init__(ctx)
        self._policies: dict[str, bytes] = {}

    def protect(self, kind: str, parts: list[str], msp_ids: list[str]) -> None:
        """Require a peer of every organisation in ``msp_ids`` to endorse later writes of this key."""
        self._policies[self.key(kind, *parts)] = stubext.all_peers_policy(msp_ids)

    async def flush(self) -> None:
        """Write the buffered values, then the buffered policies (each in key order)."""
        await super().flush()
        for key in sorted(self._policies):
            await stubext.set_validation_parameter(self.stub, key, self._policies[key])
        self._policies.clear()
