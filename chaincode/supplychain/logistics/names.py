"""Chaincode event names of the logistics contract (one per write transaction)."""

SHIPMENT_CREATED = "ShipmentCreated"
MILESTONE_RECORDED = "MilestoneRecorded"
DOCUMENT_ANCHORED = "DocumentAnchored"
DOCUMENT_SIGNED = "DocumentSigned"

ALL = (SHIPMENT_CREATED, MILESTONE_RECORDED, DOCUMENT_ANCHORED, DOCUMENT_SIGNED)
