"""Chaincode event names of the provenance contract, shared by the chaincode and the indexer.

Fabric keeps one chaincode event per transaction, so each transaction emits exactly one of these.
"""

PRODUCT_CLASS_REGISTERED = "ProductClassRegistered"
EPCIS_EVENT_CAPTURED = "EpcisEventCaptured"
# One event for a whole document captured by CaptureEvents: {"captured": [...]} in document order.
EPCIS_EVENTS_CAPTURED = "EpcisEventsCaptured"
EPCIS_ERROR_DECLARED = "EpcisErrorDeclared"
LOT_RECALLED = "LotRecalled"
ITEM_SCANNED = "ItemScanned"

ALL = (PRODUCT_CLASS_REGISTERED, EPCIS_EVENT_CAPTURED, EPCIS_EVENTS_CAPTURED, EPCIS_ERROR_DECLARED, LOT_RECALLED,
       ITEM_SCANNED)
