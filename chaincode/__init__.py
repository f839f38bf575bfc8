"""The consortium's smart contracts, run as chaincode services (deployed on their own)."""
