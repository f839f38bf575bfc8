"""A synchronous Python client for the Hyperledger Fabric Gateway (Fabric 2.5 peers).

Same flow and names as the official Go and Node clients (``hyperledger/fabric-gateway``), in snake_case::

    channel = new_grpc_channel("localhost:7051", tls_ca_pem, server_name_override="peer0.org1.example.com")
    gateway = connect(identity, new_private_key_signer(key), channel=channel)
    contract = gateway.get_network("mychannel").get_contract("basic")
    result = contract.submit_transaction("CreateAsset", "asset1", "blue")

Nothing here imports the rest of the application.
"""

from fabric_protos.peer.transaction_pb2 import TxValidationCode

from .checkpoint import Checkpoint, Checkpointer, FileCheckpointer, InMemoryCheckpointer
from .client import Timeouts
from .commit import Commit, Status, SubmittedTransaction
from .contract import Contract
from .errors import (
    CommitError,
    CommitStatusError,
    DeliverError,
    EndorseError,
    ErrorDetail,
    GatewayError,
    SubmitError,
)
from .events import (
    BlockAndPrivateDataEventsRequest,
    BlockEventsRequest,
    ChaincodeEvent,
    ChaincodeEventsRequest,
    CloseableIterator,
    FilteredBlockEventsRequest,
)
from .gateway import Gateway, connect, new_grpc_channel, tls_certificate_hash
from .identity import Identity, X509Identity, load_certificate, load_private_key, serialize_identity
from .network import Network
from .proposal import Proposal
from .signing import (
    Hash,
    PrivateKeySigner,
    Signer,
    new_private_key_signer,
    none,
    normalize_der_signature,
    p1363_to_der,
    sha256,
)
from .transaction import Transaction
from .transactioncontext import new_transaction_id

__all__ = [
    "BlockAndPrivateDataEventsRequest",
    "BlockEventsRequest",
    "ChaincodeEvent",
    "ChaincodeEventsRequest",
    "Checkpoint",
    "Checkpointer",
    "CloseableIterator",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "Contract",
    "DeliverError",
    "EndorseError",
    "ErrorDetail",
    "FileCheckpointer",
    "FilteredBlockEventsRequest",
    "Gateway",
    "GatewayError",
    "Hash",
    "Identity",
    "InMemoryCheckpointer",
    "Network",
    "PrivateKeySigner",
    "Proposal",
    "Signer",
    "Status",
    "SubmitError",
    "SubmittedTransaction",
    "Timeouts",
    "Transaction",
    "TxValidationCode",
    "X509Identity",
    "connect",
    "load_certificate",
    "load_private_key",
    "new_grpc_channel",
    "new_private_key_signer",
    "new_transaction_id",
    "none",
    "normalize_der_signature",
    "p1363_to_der",
    "serialize_identity",
    "sha256",
    "tls_certificate_hash",
]
