"""Logistics: shipments, milestones moving custody in provenance, and documents signed by the parties.

Why the signer's CA is not read from ``cscc GetChannelConfig``: Fabric's configuration system chaincode
refuses every call that comes from another chaincode ("Rejecting invoke of CSCC from another chaincode,
original invocation for 'supplychain'", checked on the 2.5.9 peers of this project; ``qscc`` refuses the
same way), so a chaincode cannot read the channel's MSP definitions. ``signatures`` proves the same fact
from what the peer has already checked instead: the submitter's certificate was validated against its
organisation's MSP in the channel configuration, and a signer's certificate is accepted only if the same
CA key signed it.
"""
