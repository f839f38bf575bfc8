"""Supply-chain chaincode: contracts and the service that runs them."""
