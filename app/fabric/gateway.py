"""Connecting to a Fabric Gateway peer: ``connect``, ``Gateway`` and the gRPC channel helper.

``Gateway`` is the entry point: it binds an identity, an optional signer and a hash to an application-owned gRPC
channel, hands out ``Network``s, and rebuilds proposals, transactions, commits and event requests from bytes for
offline signing. Mirrors Go ``pkg/client/gateway.go`` and Node ``node/src/gateway.ts``.
"""

from __future__ import annotations

import hashlib
from types import TracebackType
from typing import TypeVar

import grpc
import grpc.experimental
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import proposal_pb2
from google.protobuf.message import DecodeError, Message

from .client import GatewayClient, Timeouts
from .commit import Commit
from .commitwatcher import CommitWatchers
from .events import (
    BlockAndPrivateDataEventsRequest,
    BlockEventsRequest,
    ChaincodeEventsRequest,
    FilteredBlockEventsRequest,
)
from .identity import Identity
from .network import Network
from .proposal import Proposal
from .signing import Hash, Signer, sha256
from .signingidentity import SigningIdentity
from .transaction import Transaction

__all__ = ["Gateway", "Timeouts", "connect", "new_grpc_channel", "tls_certificate_hash"]

_M = TypeVar("_M", bound=Message)
_DEFAULT_TIMEOUTS = Timeouts()

MAX_MESSAGE_LENGTH = 100 * 1024 * 1024
"""Peers send blocks up to 100 MiB; grpc-python would refuse anything over 4 MiB with RESOURCE_EXHAUSTED."""

# Peers enforce at least 60 s between client pings (GOAWAY "too_many_pings" below that); stay well above it.
KEEPALIVE_TIME_MS = 120_000
KEEPALIVE_TIMEOUT_MS = 20_000


def new_grpc_channel(
    endpoint: str,
    tls_root_cert_pem: bytes | None,
    *,
    server_name_override: str | None = None,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
) -> grpc.Channel:
    """Open a gRPC channel to a gateway peer at ``endpoint`` (``host:port``), to share between Gateways.

    ``tls_root_cert_pem`` is the peer's **TLS** CA certificate (not its MSP CA); ``None`` opens a plaintext channel.
    ``server_name_override`` is the host name in the peer's TLS certificate when it differs from the dialled host
    (e.g. ``peer0.org1.example.com`` when dialling ``localhost``). ``client_cert_pem``/``client_key_pem`` enable
    mutual TLS. The caller owns the channel and closes it. Server-streaming calls on it (chaincode events, the commit
    watcher's blocks) are read on the consuming thread (gRPC's ``SingleThreadedUnaryStream``).
    """
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_LENGTH),
        ("grpc.max_send_message_length", MAX_MESSAGE_LENGTH),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Server streams (the commit watcher's blocks, chaincode events) are then read on the consuming thread
        # instead of through gRPC's channel spin thread: one thread hand-off less per message.
        (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1),
    ]
    if tls_root_cert_pem is None:
        if server_name_override or client_cert_pem or client_key_pem:
            raise ValueError("TLS options need tls_root_cert_pem")
        return grpc.insecure_channel(endpoint, options=options)
    if (client_cert_pem is None) != (client_key_pem is None):
        raise ValueError("mutual TLS needs both client_cert_pem and client_key_pem")
    if server_name_override:
        options += [
            ("grpc.ssl_target_name_override", server_name_override),
            ("grpc.default_authority", server_name_override),
        ]
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls_root_cert_pem, private_key=client_key_pem, certificate_chain=client_cert_pem
    )
    return grpc.secure_channel(endpoint, credentials, options=options)


def tls_certificate_hash(client_cert_pem: bytes) -> bytes:
    """SHA-256 of the client TLS certificate (DER), for ``connect(tls_client_certificate_hash=...)``.

    Needed for block events only when the peer requires client TLS authentication (``peer.tls.clientAuthRequired``).
    """
    certificate = x509.load_pem_x509_certificate(client_cert_pem)
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()


def connect(
    identity: Identity,
    signer: Signer | None = None,
    *,
    channel: grpc.Channel,
    hash: Hash = sha256,
    timeouts: Timeouts | None = None,
    tls_client_certificate_hash: bytes | None = None,
) -> Gateway:
    """Connect to the gateway peer behind ``channel`` as ``identity``.

    ``signer`` signs the digests ``hash`` produces; without one, every request must be signed offline and passed
    back through the ``Gateway.new_signed_*`` methods. ``timeouts`` default to evaluate 5 s, endorse 15 s, submit
    5 s, commit status 60 s. No network call is made here; the channel is never closed by the Gateway.

    With a signer, the first commit status of a channel comes from CommitStatus; later transactions on that channel
    learn theirs from one filtered-block stream the Gateway opens in the background (``Readers`` may read it, as for
    CommitStatus), falling back to CommitStatus if the stream fails.
    """
    signing_identity = SigningIdentity(identity, signer, hash)
    client = GatewayClient(channel, timeouts or _DEFAULT_TIMEOUTS)
    if signer is not None:
        client.commit_watchers = CommitWatchers(client, signing_identity, tls_client_certificate_hash)
    return Gateway(signing_identity, client, tls_client_certificate_hash)


class Gateway:
    """A connection to a gateway peer as one identity; create it with ``connect``. Thread-safe.

    ``close()`` ends the event streams opened through it and its commit watchers' streams and threads; the gRPC
    channel belongs to the caller and stays open.
    """

    def __init__(
        self, signing_identity: SigningIdentity, client: GatewayClient, tls_certificate_hash: bytes | None
    ) -> None:
        self._signing_identity = signing_identity
        self._client = client
        self._tls_certificate_hash = tls_certificate_hash

    @property
    def identity(self) -> Identity:
        """The identity this gateway acts as."""
        return self._signing_identity.identity

    def get_network(self, channel_name: str) -> Network:
        """Return the ``Network`` for a channel."""
        return Network(self._client, self._signing_identity, channel_name, self._tls_certificate_hash)

    def new_proposal(self, proposal_bytes: bytes) -> Proposal:
        """Rebuild a ``Proposal`` from ``Proposal.bytes()``."""
        proposed = _parse(gateway_pb2.ProposedTransaction, proposal_bytes)
        proposal = _parse(proposal_pb2.Proposal, proposed.proposal.proposal_bytes)
        header = _parse(common_pb2.Header, proposal.header)
        channel_header = _parse(common_pb2.ChannelHeader, header.channel_header)
        return Proposal(self._client, self._signing_identity, channel_header.channel_id, proposed)

    def new_signed_proposal(self, proposal_bytes: bytes, signature: bytes) -> Proposal:
        """Rebuild a ``Proposal`` and attach the signature of its ``digest()`` (low-S DER; see ``p1363_to_der``)."""
        proposal = self.new_proposal(proposal_bytes)
        proposal._set_signature(_signature(signature))
        return proposal

    def new_transaction(self, transaction_bytes: bytes) -> Transaction:
        """Rebuild a ``Transaction`` from ``Transaction.bytes()``."""
        prepared = _parse(gateway_pb2.PreparedTransaction, transaction_bytes)
        try:
            return Transaction(self._client, self._signing_identity, prepared.transaction_id, prepared.envelope)
        except DecodeError as error:
            raise ValueError(f"malformed prepared transaction: {error}") from error

    def new_signed_transaction(self, transaction_bytes: bytes, signature: bytes) -> Transaction:
        """Rebuild a ``Transaction`` and attach the signature of its ``digest()``."""
        transaction = self.new_transaction(transaction_bytes)
        transaction._set_signature(_signature(signature))
        return transaction

    def new_commit(self, commit_bytes: bytes) -> Commit:
        """Rebuild a ``Commit`` from ``Commit.bytes()``."""
        signed_request = _parse(gateway_pb2.SignedCommitStatusRequest, commit_bytes)
        request = _parse(gateway_pb2.CommitStatusRequest, signed_request.request)
        return Commit(self._client, self._signing_identity, request.transaction_id, signed_request)

    def new_signed_commit(self, commit_bytes: bytes, signature: bytes) -> Commit:
        """Rebuild a ``Commit`` and attach the signature of its ``digest()``."""
        commit = self.new_commit(commit_bytes)
        commit._set_signature(_signature(signature))
        return commit

    def new_chaincode_events_request(self, request_bytes: bytes) -> ChaincodeEventsRequest:
        """Rebuild a ``ChaincodeEventsRequest`` from its ``bytes()``."""
        signed_request = _parse(gateway_pb2.SignedChaincodeEventsRequest, request_bytes)
        return ChaincodeEventsRequest(self._client, self._signing_identity, signed_request)

    def new_signed_chaincode_events_request(self, request_bytes: bytes, signature: bytes) -> ChaincodeEventsRequest:
        """Rebuild a ``ChaincodeEventsRequest`` and attach the signature of its ``digest()``."""
        request = self.new_chaincode_events_request(request_bytes)
        request._set_signature(_signature(signature))
        return request

    def new_block_events_request(self, request_bytes: bytes) -> BlockEventsRequest:
        """Rebuild a ``BlockEventsRequest`` from its ``bytes()``."""
        return BlockEventsRequest(self._client, self._signing_identity, _parse(common_pb2.Envelope, request_bytes))

    def new_signed_block_events_request(self, request_bytes: bytes, signature: bytes) -> BlockEventsRequest:
        """Rebuild a ``BlockEventsRequest`` and attach the signature of its ``digest()``."""
        request = self.new_block_events_request(request_bytes)
        request._set_signature(_signature(signature))
        return request

    def new_filtered_block_events_request(self, request_bytes: bytes) -> FilteredBlockEventsRequest:
        """Rebuild a ``FilteredBlockEventsRequest`` from its ``bytes()``."""
        envelope = _parse(common_pb2.Envelope, request_bytes)
        return FilteredBlockEventsRequest(self._client, self._signing_identity, envelope)

    def new_signed_filtered_block_events_request(
        self, request_bytes: bytes, signature: bytes
    ) -> FilteredBlockEventsRequest:
        """Rebuild a ``FilteredBlockEventsRequest`` and attach the signature of its ``digest()``."""
        request = self.new_filtered_block_events_request(request_bytes)
        request._set_signature(_signature(signature))
        return request

    def new_block_and_private_data_events_request(self, request_bytes: bytes) -> BlockAndPrivateDataEventsRequest:
        """Rebuild a ``BlockAndPrivateDataEventsRequest`` from its ``bytes()``."""
        envelope = _parse(common_pb2.Envelope, request_bytes)
        return BlockAndPrivateDataEventsRequest(self._client, self._signing_identity, envelope)

    def new_signed_block_and_private_data_events_request(
        self, request_bytes: bytes, signature: bytes
    ) -> BlockAndPrivateDataEventsRequest:
        """Rebuild a ``BlockAndPrivateDataEventsRequest`` and attach the signature of its ``digest()``."""
        request = self.new_block_and_private_data_events_request(request_bytes)
        request._set_signature(_signature(signature))
        return request

    def close(self) -> None:
        """End the event streams and commit watchers of this gateway and refuse further calls. Idempotent."""
        self._client.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Gateway {self._signing_identity.identity.msp_id}>"


def _parse(message_type: type[_M], data: bytes) -> _M:
    try:
        return message_type.FromString(data)
    except DecodeError as error:
        raise ValueError(f"malformed {message_type.DESCRIPTOR.full_name}: {error}") from error


def _signature(signature: bytes) -> bytes:
    if not signature:
        raise ValueError("signature must not be empty")
    return bytes(signature)
