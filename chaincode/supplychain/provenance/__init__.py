"""Provenance: GS1 EPCIS 2.0 events on the ledger, the state they imply, and traces over it."""
