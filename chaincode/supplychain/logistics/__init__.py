"""Logistics: shipments, milestones moving custody in provenance, and documents signed by the parties."""
