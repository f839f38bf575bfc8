"""The gRPC side of a Gateway: stubs, default deadlines and the mapping of gRPC failures to typed errors.

Internal to the package apart from ``Timeouts``. One ``GatewayClient`` per Gateway; its stubs share the channel the
application passed in. Mirrors Go ``pkg/client/client.go`` and Node ``node/src/client.ts``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import events_pb2, events_pb2_grpc

from .errors import CommitStatusError, EndorseError, GatewayError, SubmitError, rpc_error_status

if TYPE_CHECKING:
    from .commitwatcher import CommitWatchers

__all__ = ["Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Default deadlines in seconds for each kind of call; ``None`` means no deadline.

    The unary defaults are the fabric-samples convention. CommitStatus waits for the block, so it always needs one;
    ``commit_status`` bounds ``get_status()`` also when the commit watcher's block stream answers. Event streams run
    until closed, so they have none unless set here (the commit watcher reopens its stream at that deadline).
    """

    evaluate: float | None = 5.0
    endorse: float | None = 15.0
    submit: float | None = 5.0
    commit_status: float | None = 60.0
    chaincode_events: float | None = None
    block_events: float | None = None


class _Closeable(Protocol):
    def close(self) -> None: ...


# Stubs are built once per channel and shared by every Gateway on it, so that per-request Gateways (one per user
# for offline signing) cost next to nothing. Stubs do not reference the channel object, so entries go with it.
_stubs: weakref.WeakKeyDictionary[grpc.Channel, tuple[Any, Any, Any]] = weakref.WeakKeyDictionary()
_stubs_lock = threading.Lock()


def _stubs_for(channel: grpc.Channel) -> tuple[Any, Any, Any]:
    with _stubs_lock:
        stubs = _stubs.get(channel)
        if stubs is None:
            # DeliverFiltered called as unary-stream: one seek envelope, then the request side closes. The peer's
            # deliver loop only reads the next request after the seek ends (never, for an open-ended seek), so the
            # blocks keep coming; on a channel with SingleThreadedUnaryStream (see new_grpc_channel) they are read
            # on the consuming thread, without a hop through gRPC's channel spin thread.
            filtered_blocks = channel.unary_stream(
                "/protos.Deliver/DeliverFiltered",
                request_serializer=common_pb2.Envelope.SerializeToString,
                response_deserializer=events_pb2.DeliverResponse.FromString,
            )
            stubs = _stubs[channel] = (
                gateway_pb2_grpc.GatewayStub(channel),
                events_pb2_grpc.DeliverStub(channel),
                filtered_blocks,
            )
        return stubs


class GatewayClient:
    """Calls the ``gateway.Gateway`` and ``protos.Deliver`` services and raises the package's errors.

    ``commit_watchers`` is set by ``connect`` when the Gateway has a signer: submitted transactions then learn their
    status from one block stream per channel (see ``commitwatcher``).
    """

    def __init__(self, channel: grpc.Channel, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.commit_watchers: CommitWatchers | None = None
        self._gateway, self._deliver, self._filtered_blocks = _stubs_for(channel)
        self._streams: weakref.WeakSet[_Closeable] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def evaluate(self, request: gateway_pb2.EvaluateRequest, timeout: float | None) -> gateway_pb2.EvaluateResponse:
        """Evaluate; raises ``GatewayError``."""
        self._check_open()
        try:
            return self._gateway.Evaluate(request, timeout=_pick(timeout, self.timeouts.evaluate))
        except grpc.RpcError as error:
            raise GatewayError.from_rpc_error(error) from error

    def endorse(self, request: gateway_pb2.EndorseRequest, timeout: float | None) -> gateway_pb2.EndorseResponse:
        """Endorse; raises ``EndorseError``."""
        self._check_open()
        try:
            return self._gateway.Endorse(request, timeout=_pick(timeout, self.timeouts.endorse))
        except grpc.RpcError as error:
            raise EndorseError(*rpc_error_status(error), cause=error, transaction_id=request.transaction_id) from error

    def submit(self, request: gateway_pb2.SubmitRequest, timeout: float | None) -> None:
        """Submit to the orderer; raises ``SubmitError``."""
        self._check_open()
        try:
            self._gateway.Submit(request, timeout=_pick(timeout, self.timeouts.submit))
        except grpc.RpcError as error:
            raise SubmitError(*rpc_error_status(error), cause=error, transaction_id=request.transaction_id) from error

    def commit_status(
        self, request: gateway_pb2.SignedCommitStatusRequest, transaction_id: str, timeout: float | None
    ) -> gateway_pb2.CommitStatusResponse:
        """Wait for the commit status; raises ``CommitStatusError``."""
        self._check_open()
        try:
            return self._gateway.CommitStatus(request, timeout=_pick(timeout, self.timeouts.commit_status))
        except grpc.RpcError as error:
            raise CommitStatusError(*rpc_error_status(error), cause=error, transaction_id=transaction_id) from error

    def chaincode_events(
        self, request: gateway_pb2.SignedChaincodeEventsRequest, timeout: float | None
    ) -> Iterator[gateway_pb2.ChaincodeEventsResponse]:
        """Open a ChaincodeEvents server stream; the returned call is also a ``grpc.Call`` (``cancel()``)."""
        self._check_open()
        return self._gateway.ChaincodeEvents(request, timeout=_pick(timeout, self.timeouts.chaincode_events))

    def deliver(self, method: str, requests: Iterator[common_pb2.Envelope], timeout: float | None) -> Any:
        """Open one of the Deliver bidi streams (``Deliver``, ``DeliverFiltered``, ``DeliverWithPrivateData``)."""
        self._check_open()
        return getattr(self._deliver, method)(requests, timeout=_pick(timeout, self.timeouts.block_events))

    def filtered_blocks(self, envelope: common_pb2.Envelope, timeout: float | None) -> Any:
        """Open DeliverFiltered with one signed seek envelope and no further requests (for the commit watcher)."""
        self._check_open()
        return self._filtered_blocks(envelope, timeout=_pick(timeout, self.timeouts.block_events))

    def track(self, stream: _Closeable) -> None:
        """Remember an open event stream so that ``close()`` can end it."""
        with self._lock:
            if not self._closed:
                self._streams.add(stream)
                return
        stream.close()
        raise RuntimeError("the gateway is closed")

    def close(self) -> None:
        """Stop the commit watchers, close every event stream still open; later calls raise ``RuntimeError``.

        The channel stays open.
        """
        if self.commit_watchers is not None:
            self.commit_watchers.close()
        with self._lock:
            self._closed = True
            streams = list(self._streams)
            self._streams.clear()
        for stream in streams:
            stream.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the gateway is closed")


def _pick(timeout: float | None, default: float | None) -> float | None:
    return default if timeout is None else timeout
