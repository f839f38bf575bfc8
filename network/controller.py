"""Bring a whole network up, check it, and take it down: the steps behind ``python -m network``.

``up`` is idempotent: every step first looks at what already exists (identities, blocks,
joined channels, installed and committed chaincode, running processes) and does only
what is missing. ``down`` stops processes and keeps every file, so the next ``up``
resumes the same ledgers; ``clean`` removes the network's home folder.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import binaries as binaries_mod
from . import chaincode, channel, identities, nodes, processes, profiles
from .layout import Layout, msp_dir
from .topology import DEFAULT_HOME, Node, Topology, ephemeral_ports
from .topology import load as load_topology

Report = Callable[[str], None]


class NetworkError(RuntimeError):
    """A step of bringing the network up failed; the message says what to do."""


@dataclass
class Network:
    """One network: a topology, the binaries it runs, and the home folder it lives in."""

    topology: Topology
    home: Path = DEFAULT_HOME
    report: Report = field(default=lambda _: None)

    @classmethod
    def open(cls, home: Path | None = None, base_port: int | None = None, report: Report | None = None) -> "Network":
        """The network at ``home``; its base port is the one it was created with."""
        home = Path(home or DEFAULT_HOME).resolve()
        state = Layout(home).state_file
        if state.exists():
            recorded = json.loads(state.read_text())["base_port"]
            if base_port is not None and base_port != recorded:
                raise NetworkError(
                    f"the network in {home} was created on base port {recorded}; "
                    f"run `clean` first to recreate it on {base_port}"
                )
            base_port = recorded
        return cls(load_topology(base_port=base_port), home, report or (lambda _: None))

    @property
    def layout(self) -> Layout:
        return Layout(self.home)

    @property
    def binaries(self) -> binaries_mod.Binaries:
        return binaries_mod.locate(self.topology)

    # -- up -----------------------------------------------------------------------------

    def up(self) -> dict:
        """Start everything that is not running and wait until the network is usable."""
        started = time.monotonic()
        self.report("checking Fabric binaries")
        binaries_mod.ensure(self.topology, self.report)
        self.home.mkdir(parents=True, exist_ok=True)
        self.layout.state_file.write_text(json.dumps({"base_port": self.topology.base_port}))
        self._check_ports()
        nodes.write_config(self.binaries, self.layout)

        for org in self.topology.organizations:
            identities.init_ca(self.binaries, self.layout, org)
            self._start(org.ca)
        self.report("enrolling identities with each organisation's CA")
        # Each organisation's CA works on its own, so they enrol side by side.
        with ThreadPoolExecutor(len(self.topology.organizations)) as pool:
            list(pool.map(lambda org: identities.enroll_organization(self.binaries, self.layout, org),
                          self.topology.organizations))  # fmt: skip
        profiles.write_profiles(self.topology, self.layout)

        for ch in self.topology.channels:
            channel.create_genesis_block(self.binaries, self.topology, self.layout, ch)
        for node in self.topology.orderers:
            self._start(node)
        for ch in self.topology.channels:
            for node in self.topology.orderers:
                if channel.join_orderer(self.binaries, self.layout, node, ch.name):
                    self.report(f"{node.name} joined {ch.name}")
            self.report(f"waiting for a Raft leader on {ch.name}")
            channel.wait_for_leader(self.topology, self.layout, ch.name)

        for node in self.topology.peers:
            self._start(node)
        for ch in self.topology.channels:
            for name in ch.organizations:
                for node in self.topology.org(name).peers:
                    if channel.join_peer(self.binaries, self.layout, node, ch.name):
                        self.report(f"{node.name} joined {ch.name}")

        self.report("deploying chaincode")
        deployed = chaincode.deploy(self.topology, self.binaries, self.layout, self.report)
        self.wait_until_usable()
        return {"seconds": round(time.monotonic() - started, 1), "chaincode": deployed}

    def deploy(self) -> dict:
        """Install, approve and commit the chaincode if its source changed; restart its services."""
        result = chaincode.deploy(self.topology, self.binaries, self.layout, self.report)
        self.wait_until_usable()
        return result

    def _start(self, node: Node) -> None:
        pid_file = self.layout.pid(node)
        if processes.running_pid(pid_file) is None:
            self.report(f"starting {node.name}")
            argv, env = nodes.launch_spec(self.topology, self.binaries, self.layout, node)
            processes.start(node.name, argv, env, self.layout.log(node), pid_file, self.layout.data(node))
        processes.wait_healthy(
            node.name, nodes.health_url(node), processes.tls_context(self.layout.ca_cert(node.org)),
            pid_file, self.layout.log(node),
        )  # fmt: skip

    def _check_ports(self) -> None:
        """Fail before starting anything if a port a stopped node needs is taken, or may be."""
        ephemeral = ephemeral_ports()
        ports = [p for node in self.topology.nodes for p in node.ports]
        if ephemeral and any(p in ephemeral for p in ports):
            # Any outgoing connection may hold a port in this range, and a node would then fail to listen.
            raise NetworkError(
                f"ports {min(ports)}-{max(ports)} overlap the kernel's ephemeral port range "
                f"{ephemeral.start}-{ephemeral.stop - 1}: choose a base port below "
                f"{ephemeral.start - (max(ports) - min(ports)) - 1} with --base-port"
            )
        taken = []
        for node in self.topology.nodes:
            if processes.running_pid(self.layout.pid(node)) is not None:
                continue
            for port in node.ports:
                holder = processes.port_holder(port)
                if holder:
                    taken.append(f"port {port} ({node.name}) is in use by {holder}")
        if taken:
            raise NetworkError(
                "cannot start the network: " + "; ".join(taken)
                + ". Stop that process, or choose another base port with --base-port."
            )

    def wait_until_usable(self, timeout: float = 120.0) -> None:
        """Wait until every peer can find endorsers for the chaincode across organisations.

        That needs gossip to have shown each peer the others and their installed chaincode,
        which takes a few seconds after peers start; the Gateway refuses to endorse before.
        """
        cc = self.topology.chaincode
        deadline = time.monotonic() + timeout
        waiting = list(self.topology.peers)
        self.report("waiting for gossip to connect the organisations")
        last = ""
        while waiting and time.monotonic() < deadline:
            ok, last = self._discovers_endorsers(waiting[0], cc.channel, cc.name)
            if ok:
                waiting.pop(0)
            else:
                time.sleep(0.5)
        if waiting:
            raise NetworkError(
                f"{waiting[0].name} found no endorsers for {cc.name} satisfying its policy after {timeout:.0f} s: {last}"
            )

    def _discovers_endorsers(self, peer: Node, channel_name: str, chaincode_name: str) -> tuple[bool, str]:
        user = msp_dir(self.layout.identity(peer.org, identities.DEFAULT_CLIENT))
        proc = subprocess.run(
            [str(self.binaries.path("discover")), "--peerTLSCA", str(self.layout.ca_cert(peer.org)),
             "--userKey", str(user / "keystore" / "key.pem"), "--userCert", str(user / "signcerts" / "cert.pem"),
             "--MSP", peer.org.msp_id, "endorsers", "--channel", channel_name, "--chaincode", chaincode_name,
             "--server", peer.address],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if proc.returncode == 0 and '"Layouts"' in proc.stdout:
            return True, ""
        return False, (proc.stderr or proc.stdout).strip()[-300:]

    # -- down, clean ----------------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop every node (chaincode services first); keep ledgers and identities."""
        stopped = []
        for node in reversed(self.topology.nodes):
            if processes.stop(self.layout.pid(node)):
                stopped.append(node.name)
        return stopped

    def clean(self) -> None:
        """Stop everything and delete the network's home folder: ledgers, keys, logs."""
        self.down()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- status ---------------------------------------------------------------------------

    def status(self) -> dict:
        """Each node's health, block heights per channel, the committed chaincode, profiles."""
        result = {"home": str(self.home), "base_port": self.topology.base_port, "nodes": [], "organizations": {}}
        for node in self.topology.nodes:
            pid = processes.running_pid(self.layout.pid(node))
            entry = {"name": node.name, "kind": node.kind, "org": node.org.name, "address": node.address,
                     "pid": pid, "healthy": False}  # fmt: skip
            if pid is not None:
                entry.update(self._node_status(node))
            result["nodes"].append(entry)
        cc = self.topology.chaincode
        peer = next((n for n in result["nodes"] if n["kind"] == "peer" and n["healthy"]), None)
        definition = None
        if peer:
            definition = chaincode.committed(self.binaries, self.layout, self.topology.node(peer["name"]),
                                             cc.channel, cc.name)  # fmt: skip
        result["chaincode"] = {
            "name": cc.name,
            "channel": cc.channel,
            "committed": None if definition is None else {
                "sequence": definition["sequence"],
                "version": definition["version"],
                "endorsement_policy": cc.endorsement_policy,
            },
            "source_version": chaincode.source_version(self.topology),
        }  # fmt: skip
        for org in self.topology.organizations:
            result["organizations"][org.name] = {
                "msp_id": org.msp_id,
                "connection_profile": str(self.layout.connection_profile(org)),
                "tls_ca_certificate": str(self.layout.ca_cert(org)),
                "channel_msp": str(self.layout.channel_msp(org)),
                "identities": profiles.identities(self.layout, org),
            }
        return result

    def _node_status(self, node: Node) -> dict:
        if node.kind == "chaincode":
            return {"healthy": True, "package_id": chaincode.running_package(self.layout, node.org)}
        ctx = processes.tls_context(self.layout.ca_cert(node.org))
        code, _ = processes.http_get(nodes.health_url(node), ctx)
        entry: dict = {"healthy": code == 200}
        if code != 200:
            return entry
        heights = {}
        for ch in self.topology.channels:
            if node.org.name not in ch.organizations and node.kind == "peer":
                continue
            try:
                if node.kind == "peer":
                    heights[ch.name] = channel.peer_height(self.binaries, self.layout, node, ch.name)
                elif node.kind == "orderer":
                    heights[ch.name] = channel.orderer_channel_info(self.binaries, self.layout, node, ch.name)["height"]
            except channel.ChannelError:
                heights[ch.name] = None
        if node.kind != "ca":
            entry["heights"] = heights
        if node.kind == "orderer":
            entry["raft_leader"] = [
                ch.name for ch in self.topology.channels
                if re.search(r'consensus_etcdraft_is_leader\{channel="%s"\} 1' % re.escape(ch.name),
                             processes.http_get(nodes.metrics_url(node), nodes.metrics_tls(self.layout, node))[1])
            ]  # fmt: skip
        return entry

    def logs(self, node_name: str | None = None, lines: int = 40) -> str:
        """The last lines of one node's log, or of every node's."""
        targets = [self.topology.node(node_name)] if node_name else self.topology.nodes
        return "\n\n".join(f"==> {self.layout.log(n)} <==\n{processes.log_tail(self.layout.log(n), lines)}"
                           for n in targets)  # fmt: skip
