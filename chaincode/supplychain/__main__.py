"""``python -m chaincode.supplychain``: run the chaincode service."""

from .main import main

main()
