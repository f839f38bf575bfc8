"""Commit status from one shared filtered-block stream per channel instead of one CommitStatus call per transaction.

The official clients ask ``CommitStatus`` for every transaction. Here that unary call is a large share of the client's
CPU per submit (about 0.5 ms warm, 2 ms when it waits for its block). So a Gateway with a signer reads
``DeliverFiltered`` once per channel on a background thread, and each block's validation codes resolve the
transactions waiting in it, as the Fabric Node SDK 2.2 learned commits from block events. ``CommitStatus`` stays the
fallback, so correctness never depends on the stream:

- No gap: a channel's watcher starts only after a ``CommitStatus`` answer put a transaction in block ``b0``, and it
  reads from ``b0 + 1``. A transaction is registered before its Submit is sent, and only if the watcher exists then.
  Block ``b0`` was committed before that Submit, so the transaction lands in a later block, which the stream
  delivers. Transactions submitted before the watcher existed ask ``CommitStatus``.
- A stream that fails or ends is reopened at the last block seen + 1 after a short backoff.
- A waiter asks ``CommitStatus`` when the stream has been broken for ``BROKEN_GRACE`` seconds, when its deadline is
  near (``CommitStatus`` keeps a quarter of the timeout, at most ``FALLBACK_RESERVE``), when the gateway closes, and
  for DUPLICATE_TXID (``CommitStatus`` reports the first commit of that ID).

Gateways without a signer, ``Gateway.new_commit`` and ``Gateway.new_signed_commit`` only use ``CommitStatus``.
Internal to the package.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

import grpc
from fabric_protos.peer import events_pb2, transaction_pb2

from .client import GatewayClient
from .commit import Status
from .errors import GatewayError
from .events import CloseableIterator, open_filtered_blocks
from .eventsbuilder import seek_envelope
from .signingidentity import SigningIdentity

_log = logging.getLogger(__name__)

BROKEN_GRACE = 3.0
"""Seconds a broken stream may take to recover before its waiters ask CommitStatus."""
FALLBACK_RESERVE = 2.0
"""Seconds of a waiter's commit-status timeout kept for its CommitStatus fallback (a quarter of shorter timeouts)."""
RECONNECT_DELAYS = (0.2, 5.0)
"""First and longest wait before reopening a failed stream; it doubles on each failure without a block."""
_POLL = 1.0  # how often a waiter looks at the stream's health

_VALID = transaction_pb2.VALID
_DUPLICATE_TXID = transaction_pb2.DUPLICATE_TXID


class _Waiter:
    """One registered transaction; ``status`` is set once done, and stays ``None`` if CommitStatus must answer.

    Only the watcher thread resolves a waiter, once: it pops it from the watcher's table first. A bare lock, held
    until then, is the cheapest way to park the waiting thread (``threading.Event`` adds a Condition and a lock per
    wait).
    """

    __slots__ = ("transaction_id", "status", "_pending", "__weakref__")

    def __init__(self, transaction_id: str) -> None:
        self.transaction_id = transaction_id
        self.status: Status | None = None
        self._pending = threading.Lock()
        self._pending.acquire()

    @property
    def done(self) -> bool:
        """True once resolved."""
        return not self._pending.locked()

    def resolve(self, status: Status | None) -> None:
        self.status = status
        self._pending.release()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``resolve``; True once resolved."""
        if self._pending.acquire(timeout=timeout):
            self._pending.release()
            return True
        return False


class CommitWatcher:
    """One channel's ``DeliverFiltered`` stream, read by a daemon thread, resolving the registered transactions."""

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        channel_name: str,
        start_block: int,
        tls_certificate_hash: bytes | None,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._channel_name = channel_name
        self._tls_certificate_hash = tls_certificate_hash
        self._next_block = start_block  # only the watcher thread touches it
        # Weak values: a transaction dropped without asking its status must not stay here until its block comes.
        self._waiters: weakref.WeakValueDictionary[str, _Waiter] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stream: CloseableIterator[events_pb2.FilteredBlock] | None = None
        self._broken_since: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"fabric-commit-watcher-{channel_name}", daemon=True)

    @property
    def stopped(self) -> bool:
        """True once stopped; a stopped watcher registers nothing."""
        return self._stopping.is_set()

    def start(self) -> None:
        """Start the thread that opens and reads the stream."""
        self._thread.start()

    def register(self, transaction_id: str) -> _Waiter | None:
        """Expect ``transaction_id``; call before its Submit is sent. ``None`` once stopped.

        While the stream is broken, ``wait`` soon sends the waiter to CommitStatus; registering anyway lets the stream
        answer if it recovers first.
        """
        with self._lock:
            if self._stopping.is_set():
                return None
            waiter = self._waiters[transaction_id] = _Waiter(transaction_id)
            return waiter

    def unregister(self, waiter: _Waiter) -> None:
        """Stop expecting ``waiter``'s transaction (its Submit failed, or CommitStatus will answer)."""
        with self._lock:
            if self._waiters.get(waiter.transaction_id) is waiter:
                del self._waiters[waiter.transaction_id]

    def wait(self, waiter: _Waiter, until: float | None) -> Status | None:
        """Wait for the stream to resolve ``waiter``, at most until ``until`` (``time.monotonic()``; ``None``: no
        limit) or ``BROKEN_GRACE`` after the stream broke. ``None`` means: ask CommitStatus.
        """
        while not waiter.done:
            now = time.monotonic()
            left = _POLL
            if until is not None:
                left = min(left, until - now)
            if self._broken_since is not None:
                left = min(left, BROKEN_GRACE - self._broken_for(now))
            if left <= 0:
                self.unregister(waiter)
                break
            waiter.wait(left)
        return waiter.status

    def stop(self) -> None:
        """Cancel the stream, end the thread and send every waiter to CommitStatus. Idempotent."""
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _broken_for(self, now: float) -> float:
        broken_since = self._broken_since
        return 0.0 if broken_since is None else now - broken_since

    def _run(self) -> None:
        delay = RECONNECT_DELAYS[0]
        try:
            while not self._stopping.is_set():
                try:
                    for block in self._open():
                        self._resolve(block)
                        delay = RECONNECT_DELAYS[0]
                    reason, quiet = "the stream ended", False
                except GatewayError as error:  # DeliverError included: a peer restart or an access change may pass
                    # Timeouts.block_events, if set, also ends this stream now and then.
                    reason, quiet = str(error), error.code == grpc.StatusCode.DEADLINE_EXCEEDED
                if self._stopping.is_set():
                    break
                log = _log.debug if quiet or self._broken_since is not None else _log.warning
                log("commit watcher for %s: %s; reopening at block %d", self._channel_name, reason, self._next_block)
                if self._broken_since is None:
                    self._broken_since = time.monotonic()
                self._stopping.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAYS[1])
        except (RuntimeError, ValueError) as error:  # the gateway or the gRPC channel was closed
            if not self._stopping.is_set():
                _log.info("commit watcher for %s stopped: %s", self._channel_name, error)
        except Exception:  # a failing signer, say: CommitStatus takes over until a later answer restarts a watcher
            _log.warning("commit watcher for %s stopped", self._channel_name, exc_info=True)
        finally:
            self._stopping.set()
            with self._lock:
                waiters = list(self._waiters.values())
                self._waiters.clear()
            for waiter in waiters:
                waiter.resolve(None)

    def _open(self) -> CloseableIterator[events_pb2.FilteredBlock]:
        # Signed afresh each time: the peer checks the seek timestamp against its clock.
        envelope = seek_envelope(
            self._channel_name,
            self._signing_identity.creator,
            self._next_block,
            None,
            self._tls_certificate_hash,
        )
        envelope.signature = self._signing_identity.sign(envelope.payload)
        stream = open_filtered_blocks(self._client, envelope)
        with self._lock:
            self._stream = stream
        if self._stopping.is_set():  # stop() may have run before the stream was stored
            stream.close()
        return stream

    def _resolve(self, block: events_pb2.FilteredBlock) -> None:
        number = block.number
        self._next_block = number + 1
        self._broken_since = None
        if not self._waiters:
            return
        with self._lock:
            found = [
                (waiter, transaction.tx_validation_code)
                for transaction in block.filtered_transactions
                if (waiter := self._waiters.pop(transaction.txid, None)) is not None
            ]
        for waiter, code in found:
            if code == _DUPLICATE_TXID:
                waiter.resolve(None)
            else:
                waiter.resolve(Status(code, code == _VALID, number, waiter.transaction_id))


class TransactionWatch:
    """How one submitted transaction gets its status: from its channel's watcher if it was registered before its
    Submit, else from CommitStatus, whose answer starts the channel's watcher if there is none.
    """

    __slots__ = ("_watchers", "_channel_name", "_watcher", "_waiter")

    def __init__(
        self, watchers: CommitWatchers, channel_name: str, watcher: CommitWatcher | None, waiter: _Waiter | None
    ) -> None:
        self._watchers = watchers
        self._channel_name = channel_name
        self._watcher = watcher
        self._waiter = waiter

    def cancel(self) -> None:
        """The Submit failed: nothing to wait for."""
        watcher, waiter = self._watcher, self._waiter
        if watcher is not None and waiter is not None:
            watcher.unregister(waiter)

    def get_status(self, timeout: float | None, commit_status: Callable[[float | None], Status]) -> Status:
        """The status within ``timeout`` seconds (``None``: no limit); ``commit_status(timeout)`` asks CommitStatus."""
        watcher, waiter = self._watcher, self._waiter
        if watcher is not None and waiter is not None:
            start = time.monotonic()
            deadline = None if timeout is None else start + timeout
            until = None if timeout is None else start + timeout - min(FALLBACK_RESERVE, timeout / 4)
            status = watcher.wait(waiter, until)
            if status is not None:
                return status
            self._waiter = None  # from now on CommitStatus answers, as for any other transaction
            return commit_status(None if deadline is None else max(deadline - time.monotonic(), 0.0))
        status = commit_status(timeout)
        self._watchers.start(self._channel_name, status.block_number)
        return status


class CommitWatchers:
    """The commit watchers of one Gateway (so of one signing identity), one per channel name, made on demand."""

    def __init__(
        self, client: GatewayClient, signing_identity: SigningIdentity, tls_certificate_hash: bytes | None
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._tls_certificate_hash = tls_certificate_hash
        self._watchers: dict[str, CommitWatcher] = {}
        self._lock = threading.Lock()
        self._closed = False

    def watch(self, channel_name: str, transaction_id: str) -> TransactionWatch:
        """Call before the Submit of ``transaction_id`` is sent: registers it if the channel's watcher runs."""
        with self._lock:
            watcher = self._watchers.get(channel_name)
        waiter = watcher.register(transaction_id) if watcher is not None else None
        return TransactionWatch(self, channel_name, watcher if waiter is not None else None, waiter)

    def start(self, channel_name: str, block_number: int) -> None:
        """CommitStatus put a transaction in ``block_number``: watch the channel from the next block if not yet."""
        with self._lock:
            watcher = self._watchers.get(channel_name)
            if self._closed or (watcher is not None and not watcher.stopped):
                return
            watcher = CommitWatcher(
                self._client, self._signing_identity, channel_name, block_number + 1, self._tls_certificate_hash
            )
            self._watchers[channel_name] = watcher
            watcher.start()

    def close(self) -> None:
        """Stop every watcher; none starts afterwards."""
        with self._lock:
            self._closed = True
            watchers = list(self._watchers.values())
        for watcher in watchers:
            watcher.stop()
