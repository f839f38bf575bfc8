"""Checkpointers: remember how far event processing got, so a new stream resumes there.

State is ``(block_number, transaction_id)``: the block in which the next event is expected and the last processed
transaction within it. ``FileCheckpointer`` stores it as the official JSON shape
``{"blockNumber": n, "transactionId": "..."}``. Mirrors Go ``pkg/client/{inmemorycheckpointer,filecheckpointer}.go``
and Node ``node/src/{checkpointer,inmemorycheckpointer,filecheckpointer}.ts``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .events import ChaincodeEvent

__all__ = ["Checkpoint", "Checkpointer", "FileCheckpointer", "InMemoryCheckpointer"]


@runtime_checkable
class Checkpoint(Protocol):
    """A position to resume events from; ``block_number`` is ``None`` until something was checkpointed."""

    @property
    def block_number(self) -> int | None:
        """Block in which the next event is expected."""
        ...

    @property
    def transaction_id(self) -> str | None:
        """Last processed transaction within that block, if any."""
        ...


class Checkpointer(Checkpoint, Protocol):
    """A ``Checkpoint`` that can be advanced."""

    def checkpoint_block(self, block_number: int) -> None:
        """Record block ``block_number`` as fully processed."""
        ...

    def checkpoint_transaction(self, block_number: int, transaction_id: str) -> None:
        """Record ``transaction_id`` in block ``block_number`` as processed."""
        ...

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None:
        """Record the transaction that emitted ``event`` as processed."""
        ...


class InMemoryCheckpointer:
    """Checkpointer held in memory, for resuming after a stream failure within one process."""

    def __init__(self) -> None:
        self._block_number: int | None = None
        self._transaction_id: str | None = None

    @property
    def block_number(self) -> int | None:
        """Block in which the next event is expected, or ``None``."""
        return self._block_number

    @property
    def transaction_id(self) -> str | None:
        """Last processed transaction within ``block_number``, or ``None``."""
        return self._transaction_id

    def checkpoint_block(self, block_number: int) -> None:
        """Record block ``block_number`` as fully processed: resume at the next block."""
        self.checkpoint_transaction(block_number + 1, None)

    def checkpoint_transaction(self, block_number: int, transaction_id: str | None) -> None:
        """Record ``transaction_id`` in block ``block_number`` as processed."""
        self._block_number = block_number
        self._transaction_id = transaction_id or None

    def checkpoint_chaincode_event(self, event: ChaincodeEvent) -> None:
        """Record the transaction that emitted ``event`` as processed."""
        self.checkpoint_transaction(event.block_number, event.transaction_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(block_number={self._block_number}, transaction_id={self._transaction_id!r})"


class FileCheckpointer(InMemoryCheckpointer):
    """Checkpointer persisted to a JSON file, for resuming after a restart.

    Every checkpoint replaces the file atomically (temporary file, fsync, rename, fsync of the directory), so a crash
    leaves either the old or the new state, never a torn file. Reads a file written by the Go client (number) or the
    Node client (string block number). Thread-safe.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self._path = os.fspath(path)
        self._lock = threading.Lock()
        self._load()

    @property
    def path(self) -> str:
        """The checkpoint file."""
        return self._path

    def checkpoint_transaction(self, block_number: int, transaction_id: str | None) -> None:
        """Record ``transaction_id`` in block ``block_number`` as processed and persist it before returning."""
        with self._lock:
            super().checkpoint_transaction(block_number, transaction_id)
            self._save()

    def _load(self) -> None:
        try:
            with open(self._path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            return
        if not data.strip():
            return
        state = json.loads(data)
        block_number = state.get("blockNumber")
        self._block_number = None if block_number is None else int(block_number)
        self._transaction_id = state.get("transactionId") or None

    def _save(self) -> None:
        state = {"blockNumber": self._block_number, "transactionId": self._transaction_id or ""}
        directory = os.path.dirname(os.path.abspath(self._path))
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".checkpoint-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(state, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # The rename is durable only once the directory entry is on disk; not every platform can open a directory.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
