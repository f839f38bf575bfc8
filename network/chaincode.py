"""Chaincode as a service: package, install, approve, commit, and run each organisation's service.

Each organisation runs its own chaincode service; its package holds only connection.json
(where that service listens, with the TLS material the peer uses to reach it). The
chaincode version is a hash of the chaincode source, so a changed chaincode gets a new
package and the next sequence, and an unchanged one redeploys nothing.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import socket
import sys
import tarfile
import time
from pathlib import Path

from fabric_protos.common import policies_pb2
from fabric_protos.peer import policy_pb2

from . import processes
from .binaries import Binaries
from .channel import peer_cli
from .layout import Layout
from .topology import PROJECT_ROOT, Node, Organization, Topology


class DeployError(RuntimeError):
    """The chaincode could not be deployed; the message names the organisation and step."""


def source_version(topology: Topology) -> str:
    """A hash of the chaincode's source files: changes whenever the code does."""
    digest = hashlib.sha256()
    root = topology.chaincode.path.parent  # the chaincode/ package, shared modules included
    for f in sorted(root.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _tar(files: dict[str, bytes]) -> bytes:
    """A reproducible .tar.gz: fixed owners and times, so the same input gives the same package ID."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def connection_json(layout: Layout, org: Organization) -> dict:
    tls = layout.chaincode_tls(org)
    return {
        "address": org.chaincode_service.address,
        "dial_timeout": "10s",
        "tls_required": True,
        "client_auth_required": True,
        # The peer presents this certificate to the service; the service trusts only its
        # organisation's CA, so no other member's peer can drive it.
        "client_key": (tls / "server.key").read_text(),
        "client_cert": (tls / "server.crt").read_text(),
        "root_cert": layout.ca_cert(org).read_text(),
    }


def build_package(topology: Topology, layout: Layout, org: Organization, label: str) -> Path:
    """Write ``org``'s CCaaS package (metadata.json + code.tar.gz with connection.json)."""
    code = _tar({"connection.json": json.dumps(connection_json(layout, org), indent=2).encode()})
    package = _tar({"metadata.json": json.dumps({"type": "ccaas", "label": label}).encode(), "code.tar.gz": code})
    path = layout.packages / org.key / f"{label}.tgz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(package)
    return path


def _cli(binaries: Binaries, layout: Layout, peer: Node, *args: str, what: str) -> str:
    proc = peer_cli(binaries, layout, peer, *args)
    if proc.returncode != 0:
        raise DeployError(f"{peer.org.name}: {what} on {peer.name} failed: {proc.stderr.strip()[-1500:]}")
    return proc.stdout


def _json(text: str) -> dict:
    return json.loads(text[text.find("{") :]) if "{" in text else {}


def package_id(binaries: Binaries, layout: Layout, peer: Node, package: Path) -> str:
    out = _cli(binaries, layout, peer, "lifecycle", "chaincode", "calculatepackageid", str(package),
               what="calculatepackageid")  # fmt: skip
    return out.strip()


def installed_ids(binaries: Binaries, layout: Layout, peer: Node) -> set[str]:
    out = _cli(binaries, layout, peer, "lifecycle", "chaincode", "queryinstalled", "-O", "json", what="queryinstalled")
    return {cc["package_id"] for cc in _json(out).get("installed_chaincodes", [])}


def committed(binaries: Binaries, layout: Layout, peer: Node, channel: str, name: str) -> dict | None:
    """The committed definition (sequence, version, validation_parameter...), None if none."""
    proc = peer_cli(binaries, layout, peer, "lifecycle", "chaincode", "querycommitted",
                    "-C", channel, "-n", name, "-O", "json")  # fmt: skip
    if proc.returncode != 0:
        if "not found" in proc.stderr or "does not exist" in proc.stderr or "not defined" in proc.stderr:
            return None
        raise DeployError(f"querycommitted on {peer.name} failed: {proc.stderr.strip()}")
    return _json(proc.stdout)


def committed_policy(definition: dict) -> policies_pb2.SignaturePolicyEnvelope:
    """Decode the endorsement policy from a committed definition's validation parameter."""
    app_policy = policy_pb2.ApplicationPolicy.FromString(base64.b64decode(definition["validation_parameter"]))
    return app_policy.signature_policy


def _orderer_args(layout: Layout, topology: Topology) -> list[str]:
    orderer = topology.orderers[0]
    return ["-o", orderer.address, "--tls", "--cafile", str(layout.ca_cert(orderer.org))]


def _service_record(layout: Layout, org: Organization) -> dict:
    try:
        return json.loads(layout.pid(org.chaincode_service).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def running_package(layout: Layout, org: Organization) -> str | None:
    """The package ID the organisation's running chaincode service serves, if it runs."""
    if processes.running_pid(layout.pid(org.chaincode_service)) is None:
        return None
    return _service_record(layout, org).get("package_id")


def start_service(topology: Topology, layout: Layout, org: Organization, pkg_id: str) -> None:
    """Start (or restart onto a new package) the organisation's chaincode service."""
    node = org.chaincode_service
    if running_package(layout, org) == pkg_id:
        return
    processes.stop(layout.pid(node))
    tls = layout.chaincode_tls(org)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORE_", "CHAINCODE_"))}
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        CHAINCODE_ID=pkg_id,
        CHAINCODE_SERVER_ADDRESS=node.address,
        CHAINCODE_TLS_CERT_FILE=str(tls / "server.crt"),
        CHAINCODE_TLS_KEY_FILE=str(tls / "server.key"),
        CHAINCODE_TLS_CLIENT_CA_FILE=str(layout.ca_cert(org)),
    )
    pid_file = layout.pid(node)
    processes.start(node.name, [sys.executable, "-m", topology.chaincode.module], env, layout.log(node),
                    pid_file, cwd=PROJECT_ROOT)  # fmt: skip
    record = json.loads(pid_file.read_text())
    record["package_id"] = pkg_id
    pid_file.write_text(json.dumps(record))
    wait_listening(layout, node)


def wait_listening(layout: Layout, node: Node, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if processes.running_pid(layout.pid(node)) is None:
            log = layout.log(node)
            status = processes.exit_status(layout.pid(node))
            raise DeployError(f"{node.name} {status} during start-up. Last lines of {log}:\n{processes.log_tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", node.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise DeployError(f"{node.name} is not listening on {node.address} after {timeout:.0f} s")


def _approvals(binaries: Binaries, layout: Layout, peer: Node, definition: list[str]) -> dict[str, bool]:
    """Which organisations have approved exactly this definition (checkcommitreadiness)."""
    out = _cli(binaries, layout, peer, "lifecycle", "chaincode", "checkcommitreadiness", *definition, "-O", "json",
               what="checkcommitreadiness")  # fmt: skip
    return _json(out).get("approvals", {})


def deploy(topology: Topology, binaries: Binaries, layout: Layout, report=lambda _: None) -> dict:
    """Make the committed chaincode match the source, and run every organisation's service.

    Returns ``{"version", "sequence", "changed"}``. Idempotent: an unchanged chaincode that
    is committed and running is left alone.
    """
    cc = topology.chaincode
    channel = next(c for c in topology.channels if c.name == cc.channel)
    orgs = [o for o in (topology.org(n) for n in channel.organizations) if o.peers]
    version = source_version(topology)
    label = f"{cc.name}_{version}"
    first_peer = orgs[0].peers[0]
    current = committed(binaries, layout, first_peer, cc.channel, cc.name)
    up_to_date = current is not None and current.get("version") == version
    sequence = current["sequence"] if up_to_date else (current["sequence"] + 1 if current else 1)

    pkg_ids = {}
    for org in orgs:
        package = build_package(topology, layout, org, label)
        pkg_ids[org.name] = package_id(binaries, layout, org.peers[0], package)
        for peer in org.peers:
            if pkg_ids[org.name] not in installed_ids(binaries, layout, peer):
                report(f"installing {label} on {peer.name}")
                _cli(binaries, layout, peer, "lifecycle", "chaincode", "install", str(package), what="install")
        start_service(topology, layout, org, pkg_ids[org.name])
    if up_to_date:
        return {"version": version, "sequence": sequence, "changed": False}

    common = ["-C", cc.channel, "-n", cc.name, "-v", version, "--sequence", str(sequence),
              "--signature-policy", cc.endorsement_policy]  # fmt: skip
    approved = _approvals(binaries, layout, first_peer, common)
    for org in orgs:
        if approved.get(org.msp_id):
            continue  # approved by an earlier, interrupted deploy: approving again is refused
        report(f"approving {cc.name} sequence {sequence} for {org.name}")
        _cli(binaries, layout, org.peers[0], "lifecycle", "chaincode", "approveformyorg", *_orderer_args(layout, topology),
             *common, "--package-id", pkg_ids[org.name], "--waitForEvent", what="approveformyorg")  # fmt: skip
    missing = sorted(msp for msp, ok in _approvals(binaries, layout, first_peer, common).items() if not ok)
    if missing:
        raise DeployError(f"{cc.name} sequence {sequence} cannot be committed: not approved by {', '.join(missing)}")
    report(f"committing {cc.name} sequence {sequence}")
    targets = []
    for org in orgs:
        targets += ["--peerAddresses", org.peers[0].address, "--tlsRootCertFiles", str(layout.ca_cert(org))]
    _cli(binaries, layout, first_peer, "lifecycle", "chaincode", "commit", *_orderer_args(layout, topology),
         *common, *targets, "--waitForEvent", what="commit")  # fmt: skip
    return {"version": version, "sequence": sequence, "changed": True}
