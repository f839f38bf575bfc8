"""A Fabric channel as seen through the gateway: contracts and event streams.

Owns ``Network``. Mirrors Go ``pkg/client/network.go`` and Node ``node/src/network.ts``.
"""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.peer import events_pb2

from .checkpoint import Checkpoint
from .client import GatewayClient
from .contract import Contract
from .events import (
    BlockAndPrivateDataEventsRequest,
    BlockEventsRequest,
    ChaincodeEvent,
    ChaincodeEventsRequest,
    CloseableIterator,
    FilteredBlockEventsRequest,
)
from .eventsbuilder import chaincode_events_request, seek_envelope
from .signingidentity import SigningIdentity

__all__ = ["Network"]


class Network:
    """One channel. Event methods start at ``checkpoint`` if it holds a position, else at ``start_block``, else at
    the next block committed. Streams do not reconnect: after an error, open a new one from a checkpoint.
    """

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        name: str,
        tls_certificate_hash: bytes | None = None,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._name = name
        self._tls_certificate_hash = tls_certificate_hash

    @property
    def name(self) -> str:
        """Channel name."""
        return self._name

    def get_contract(self, chaincode_name: str, contract_name: str | None = None) -> Contract:
        """Return the contract ``contract_name`` (or the default contract) of chaincode ``chaincode_name``."""
        return Contract(self._client, self._signing_identity, self._name, chaincode_name, contract_name)

    def get_chaincode_events(
        self,
        chaincode_name: str,
        *,
        start_block: int | None = None,
        checkpoint: Checkpoint | None = None,
        timeout: float | None = None,
    ) -> CloseableIterator[ChaincodeEvent]:
        """Stream events emitted by valid transactions of ``chaincode_name``; close the iterator to stop.

        With a checkpoint, events up to and including its transaction are skipped.
        """
        request = self.new_chaincode_events_request(chaincode_name, start_block=start_block, checkpoint=checkpoint)
        return request.get_events(timeout=timeout)

    def new_chaincode_events_request(
        self, chaincode_name: str, *, start_block: int | None = None, checkpoint: Checkpoint | None = None
    ) -> ChaincodeEventsRequest:
        """Build a chaincode events request to sign offline (``bytes()``/``digest()``) or open with ``get_events()``."""
        signed_request = chaincode_events_request(
            self._name, chaincode_name, self._signing_identity.creator, start_block, checkpoint
        )
        return ChaincodeEventsRequest(self._client, self._signing_identity, signed_request)

    def get_block_events(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None, timeout: float | None = None
    ) -> CloseableIterator[common_pb2.Block]:
        """Stream full blocks (invalid transactions included)."""
        return self.new_block_events_request(start_block=start_block, checkpoint=checkpoint).get_events(timeout=timeout)

    def new_block_events_request(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None
    ) -> BlockEventsRequest:
        """Build a block events request; its timestamp must reach the peer within 15 minutes."""
        return BlockEventsRequest(self._client, self._signing_identity, self._seek(start_block, checkpoint))

    def get_filtered_block_events(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None, timeout: float | None = None
    ) -> CloseableIterator[events_pb2.FilteredBlock]:
        """Stream filtered blocks: transaction IDs, validation codes and chaincode events without payloads."""
        return self.new_filtered_block_events_request(start_block=start_block, checkpoint=checkpoint).get_events(
            timeout=timeout
        )

    def new_filtered_block_events_request(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None
    ) -> FilteredBlockEventsRequest:
        """Build a filtered block events request; its timestamp must reach the peer within 15 minutes."""
        return FilteredBlockEventsRequest(self._client, self._signing_identity, self._seek(start_block, checkpoint))

    def get_block_and_private_data_events(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None, timeout: float | None = None
    ) -> CloseableIterator[events_pb2.BlockAndPrivateData]:
        """Stream blocks with the private data of collections this identity's organisation may read."""
        return self.new_block_and_private_data_events_request(
            start_block=start_block, checkpoint=checkpoint
        ).get_events(timeout=timeout)

    def new_block_and_private_data_events_request(
        self, *, start_block: int | None = None, checkpoint: Checkpoint | None = None
    ) -> BlockAndPrivateDataEventsRequest:
        """Build a block and private data events request; its timestamp must reach the peer within 15 minutes."""
        return BlockAndPrivateDataEventsRequest(
            self._client, self._signing_identity, self._seek(start_block, checkpoint)
        )

    def _seek(self, start_block: int | None, checkpoint: Checkpoint | None) -> common_pb2.Envelope:
        return seek_envelope(
            self._name, self._signing_identity.creator, start_block, checkpoint, self._tls_certificate_hash
        )
