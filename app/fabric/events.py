"""Event streams: chaincode events (Gateway.ChaincodeEvents) and block events (protos.Deliver*).

Owns the ``ChaincodeEvent`` value, the closeable iterators over each stream and the request objects that open them
(``bytes()``/``digest()`` for offline signing, ``get_events()`` to start). Streams never reconnect by themselves, as
in the official clients: on an error, open a new request from a checkpoint. Mirrors Go ``pkg/client/{chaincodeevents,
blockevents}.go`` and Node ``node/src/{chaincodeevent,chaincodeeventsrequest,blockeventsrequest}.ts``.
"""

from __future__ import annotations

import builtins
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import events_pb2

from .client import GatewayClient
from .errors import DeliverError, GatewayError
from .signingidentity import SigningIdentity

__all__ = [
    "BlockAndPrivateDataEventsRequest",
    "BlockEventsRequest",
    "ChaincodeEvent",
    "ChaincodeEventsRequest",
    "CloseableIterator",
    "FilteredBlockEventsRequest",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChaincodeEvent:
    """An event emitted by a valid transaction: where it was committed, who emitted it, its name and payload."""

    block_number: int
    transaction_id: str
    chaincode_name: str
    event_name: str
    payload: bytes


class CloseableIterator(Iterator[T]):
    """An iterator over a live stream; ``close()`` (or leaving a ``with`` block) cancels the gRPC call.

    Iteration blocks until the next item arrives. After ``close()``, possibly from another thread, iteration stops
    without an error. A failed stream raises ``GatewayError`` (``DeliverError`` for a Deliver status).
    """

    def __init__(self, call: Any) -> None:
        self._call = call
        self._closed = False

    def close(self) -> None:
        """Cancel the stream. Safe to call more than once and from another thread."""
        self._closed = True
        self._call.cancel()

    def __iter__(self) -> CloseableIterator[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            return self._next()
        except grpc.RpcError as error:
            if self._closed:
                raise StopIteration from None
            self.close()
            raise GatewayError.from_rpc_error(error) from error

    def _next(self) -> T:
        raise NotImplementedError

    def __enter__(self) -> CloseableIterator[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _ChaincodeEvents(CloseableIterator[ChaincodeEvent]):
    def __init__(self, call: Any) -> None:
        super().__init__(call)
        self._pending: deque[ChaincodeEvent] = deque()

    def _next(self) -> ChaincodeEvent:
        while not self._pending:
            response = next(self._call)
            block_number = response.block_number
            self._pending.extend(
                ChaincodeEvent(block_number, event.tx_id, event.chaincode_id, event.event_name, event.payload)
                for event in response.events
            )
        return self._pending.popleft()


class _HeldRequest(Iterator[common_pb2.Envelope]):
    """Request side of a Deliver stream: yields the one envelope, then holds the send side open until released.

    Ending the request stream would half-close the call; the official clients keep it open.
    """

    def __init__(self, envelope: common_pb2.Envelope) -> None:
        self._envelope: common_pb2.Envelope | None = envelope
        self._released = threading.Event()

    def __next__(self) -> common_pb2.Envelope:
        envelope, self._envelope = self._envelope, None
        if envelope is not None:
            return envelope
        self._released.wait()
        raise StopIteration

    def release(self, *_: object) -> None:
        self._released.set()


class _BlockEvents(CloseableIterator[T]):
    def __init__(self, call: Any, field: str, held: _HeldRequest | None) -> None:
        super().__init__(call)
        self._field = field
        if held is not None:
            # gRPC consumes the request iterator on its own thread; release it however the call ends.
            call.add_done_callback(held.release)

    def _next(self) -> T:
        while True:
            response = next(self._call)
            kind = response.WhichOneof("Type")
            if kind == self._field:
                return getattr(response, kind)  # type: ignore[no-any-return]
            if kind == "status":
                self.close()
                if response.status == common_pb2.SUCCESS:
                    raise StopIteration
                raise DeliverError(response.status)


_FilteredBlocks = CloseableIterator[events_pb2.FilteredBlock]


def open_filtered_blocks(client: GatewayClient, envelope: common_pb2.Envelope) -> _FilteredBlocks:
    """Filtered blocks for a signed seek ``envelope``, the request side closed at once (see ``client``).

    Internal, for the commit watcher: cheaper to read than a held-open stream, but unlike the public streams it
    depends on the peer delivering after the client half-closed, which Fabric's deliver service does.
    """
    events: _BlockEvents[events_pb2.FilteredBlock] = _BlockEvents(
        client.filtered_blocks(envelope, None), "filtered_block", None
    )
    client.track(events)
    return events


class ChaincodeEventsRequest:
    """A request for one chaincode's events, ready to be signed and opened."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        signed_request: gateway_pb2.SignedChaincodeEventsRequest,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._signed_request = signed_request

    def get_events(self, *, timeout: float | None = None) -> CloseableIterator[ChaincodeEvent]:
        """Sign if needed and open the stream of events from valid transactions, in block order.

        ``timeout`` overrides ``Timeouts.chaincode_events``. Raises ``GatewayError`` while iterating if the stream
        fails (e.g. PERMISSION_DENIED, or UNAVAILABLE when the peer goes away).
        """
        if not self._signed_request.signature:
            self._signed_request.signature = self._signing_identity.sign(self._signed_request.request)
        events = _ChaincodeEvents(self._client.chaincode_events(self._signed_request, timeout))
        self._client.track(events)
        return events

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._signed_request.signature = signature

    def digest(self) -> builtins.bytes:
        """Digest of the request bytes to sign (the whole message with hash ``none``)."""
        return self._signing_identity.hash(self._signed_request.request)

    def bytes(self) -> builtins.bytes:
        """Serialised ``gateway.SignedChaincodeEventsRequest``."""
        return self._signed_request.SerializeToString()


class _BlockEventsRequestBase(Generic[T]):
    _method: ClassVar[str]
    _field: ClassVar[str]

    def __init__(self, client: GatewayClient, signing_identity: SigningIdentity, envelope: common_pb2.Envelope) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._envelope = envelope

    def get_events(self, *, timeout: float | None = None) -> CloseableIterator[T]:
        """Sign if needed and open the stream. ``timeout`` overrides ``Timeouts.block_events``.

        Iteration raises ``DeliverError`` when the peer ends the stream with a status such as FORBIDDEN or
        BAD_REQUEST (the seek timestamp is checked against the peer clock, so build the request just before use),
        and ``GatewayError`` for gRPC failures.
        """
        if not self._envelope.signature:
            self._envelope.signature = self._signing_identity.sign(self._envelope.payload)
        held = _HeldRequest(self._envelope)
        call = self._client.deliver(self._method, held, timeout)
        events: _BlockEvents[T] = _BlockEvents(call, self._field, held)
        self._client.track(events)
        return events

    def _set_signature(self, signature: builtins.bytes) -> None:
        self._envelope.signature = signature

    def digest(self) -> builtins.bytes:
        """Digest of the envelope payload to sign (the whole payload with hash ``none``)."""
        return self._signing_identity.hash(self._envelope.payload)

    def bytes(self) -> builtins.bytes:
        """Serialised ``common.Envelope`` seek request."""
        return self._envelope.SerializeToString()


class BlockEventsRequest(_BlockEventsRequestBase[common_pb2.Block]):
    """A request for full blocks (``common.Block``, invalid transactions included) via ``Deliver``."""

    _method = "Deliver"
    _field = "block"


class FilteredBlockEventsRequest(_BlockEventsRequestBase[events_pb2.FilteredBlock]):
    """A request for filtered blocks (``FilteredBlock``: tx IDs, validation codes, events without payload)."""

    _method = "DeliverFiltered"
    _field = "filtered_block"


class BlockAndPrivateDataEventsRequest(_BlockEventsRequestBase[events_pb2.BlockAndPrivateData]):
    """A request for blocks with the private data this identity's org may read (``BlockAndPrivateData``)."""

    _method = "DeliverWithPrivateData"
    _field = "block_and_private_data"
