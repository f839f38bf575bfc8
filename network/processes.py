"""Start, find, health-check and stop the network's native processes.

Each node runs detached in its own session, logs to its own file and is found again
through a pid file that also records its executable, so a recycled pid is never
mistaken for a node.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psutil


# Nodes this process started, so it can reap them: a node outlives the command that
# started it, but within one process (the tests) an exited child must not linger.
_children: dict[int, subprocess.Popen] = {}


class NodeError(RuntimeError):
    """A node could not be started or did not become healthy; the message says why."""


def exit_status(pid_file: Path) -> str:
    """How the node recorded in ``pid_file`` ended, if this process started it."""
    try:
        child = _children.get(json.loads(pid_file.read_text())["pid"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        child = None
    if child is None or child.returncode is None:
        return "exited"
    if child.returncode < 0:
        return f"was killed by {signal.Signals(-child.returncode).name}"
    return f"exited with status {child.returncode}"


def log_tail(log: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text[-lines:])


def start(name: str, argv: Sequence[str], env: dict[str, str], log: Path, pid_file: Path, cwd: Path) -> int:
    """Start one node in the background and record its pid; returns the pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {name}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    pid_file.write_text(json.dumps({"pid": proc.pid, "exe": str(argv[0]), "argv": list(argv[1:])}))
    return proc.pid


def running_pid(pid_file: Path) -> int | None:
    """The pid of the node recorded in ``pid_file`` if that node is still running."""
    try:
        record = json.loads(pid_file.read_text())
        child = _children.get(record["pid"])
        if child is not None:
            # Our own child: ask it directly. Its command line is not yet the node's in
            # the instant between fork and exec, so the check below would misjudge it.
            return record["pid"] if child.poll() is None else None
        proc = psutil.Process(record["pid"])
        if proc.status() == psutil.STATUS_ZOMBIE:
            proc.wait(0)
            return None
        cmdline = proc.cmdline()
    except (FileNotFoundError, json.JSONDecodeError, KeyError, psutil.Error):
        return None
    if not cmdline or cmdline[0] != record["exe"]:
        return None
    return record["pid"]


def stop(pid_file: Path, timeout: float = 15.0) -> bool:
    """Stop the node gracefully (SIGTERM, then SIGKILL after ``timeout``); True if it was running."""
    pid = running_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    try:
        proc = psutil.Process(pid)
        os.killpg(pid, signal.SIGTERM)
        if not _wait_gone(proc, timeout):
            os.killpg(pid, signal.SIGKILL)
            _wait_gone(proc, 5)
    except (ProcessLookupError, psutil.NoSuchProcess):
        pass
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()
    pid_file.unlink(missing_ok=True)
    return True


def _wait_gone(proc: psutil.Process, timeout: float) -> bool:
    """Wait until ``proc`` has exited; a zombie counts as exited (its parent, not us, reaps it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def port_holder(port: int) -> str | None:
    """Who listens on 127.0.0.1:``port`` (or any address), e.g. ``'python3 (pid 123)'``; None if free."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return "an unknown process"
            try:
                return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return None


def tls_context(ca_file: Path, client_tls: Path | None = None) -> ssl.SSLContext:
    """TLS for operations endpoints; ``client_tls`` (a folder with server.crt/.key) for /metrics."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.check_hostname = False  # node certificates name 127.0.0.1 and the node's host name
    if client_tls is not None:
        ctx.load_cert_chain(client_tls / "server.crt", client_tls / "server.key")
    return ctx


def http_get(url: str, ctx: ssl.SSLContext | None, timeout: float = 3.0) -> tuple[int, str]:
    """GET ``url``; returns (status, body), (0, reason) when nothing answered."""
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as err:
        return 0, str(getattr(err, "reason", err))


def wait_healthy(name: str, url: str, ctx: ssl.SSLContext, pid_file: Path, log: Path, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers 200, failing early with the log tail if the node dies."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if running_pid(pid_file) is None:
            raise NodeError(f"{name} {exit_status(pid_file)} during start-up. Last lines of {log}:\n{log_tail(log)}")
        status, body = http_get(url, ctx)
        if status == 200:
            return
        last = f"HTTP {status}: {body.strip()[:300]}" if status else body
        time.sleep(0.2)
    raise NodeError(f"{name} was not healthy after {timeout:.0f} s ({last}). Last lines of {log}:\n{log_tail(log)}")
