"""Small helpers shared by test folders."""

from __future__ import annotations

import time


def eventually(check, timeout: float = 15.0, interval: float = 0.2):
    """Call ``check`` until it returns without raising; re-raise its last failure after ``timeout``.

    A submit returns once the gateway's own peer has committed the block; other organisations'
    peers commit it moments later, so a read from another peer right after a write may be stale.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def wait_for(condition, timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)
