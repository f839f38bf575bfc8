"""The network as declared in topology.yaml: organisations, nodes, ports and file layout.

Port layout: organisation number i owns the block ``base + 100*i``:

    +0  CA listen          +1  CA operations      +2  chaincode service
    +10 + 10*k  orderer k: listen, +1 admin, +2 operations
    +50 + 10*k  peer k:    listen, +1 chaincode listener, +2 operations

so adding a peer or an organisation at the end never moves an existing node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOPOLOGY_FILE = Path(__file__).resolve().parent / "topology.yaml"
DEFAULT_HOME = Path(__file__).resolve().parent / "run"

MAX_ORDERERS_PER_ORG = 4
MAX_PEERS_PER_ORG = 5


class TopologyError(ValueError):
    """topology.yaml does not describe a valid network."""


@dataclass(frozen=True)
class Node:
    """One Fabric process: a CA, an orderer, a peer or a chaincode service."""

    kind: str  # "ca" | "orderer" | "peer" | "chaincode"
    name: str  # unique short name, e.g. "peer0.producer"
    org: "Organization"
    port: int  # main listen port
    operations_port: int | None = None
    admin_port: int | None = None  # orderer channel participation API
    chaincode_port: int | None = None  # peer's chaincode listener

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """The DNS-style name in the node's TLS certificate, for name overrides."""
        return f"{self.name}.{DOMAIN}"

    @property
    def ports(self) -> list[int]:
        return [p for p in (self.port, self.operations_port, self.admin_port, self.chaincode_port) if p]


DOMAIN = "supplychain.example"


@dataclass(frozen=True)
class Organization:
    """A consortium member with its CA, peers, orderers and chaincode service."""

    index: int
    name: str
    msp_id: str
    description: str
    peer_count: int
    orderer_count: int
    base: int

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def ca(self) -> Node:
        return Node("ca", f"ca.{self.key}", self, self.base, operations_port=self.base + 1)

    @property
    def chaincode_service(self) -> Node:
        return Node("chaincode", f"chaincode.{self.key}", self, self.base + 2)

    @property
    def orderers(self) -> list[Node]:
        return [
            Node("orderer", f"orderer{k}.{self.key}", self, p, operations_port=p + 2, admin_port=p + 1)
            for k in range(self.orderer_count)
            for p in [self.base + 10 + 10 * k]
        ]

    @property
    def peers(self) -> list[Node]:
        return [
            Node("peer", f"peer{k}.{self.key}", self, p, operations_port=p + 2, chaincode_port=p + 1)
            for k in range(self.peer_count)
            for p in [self.base + 50 + 10 * k]
        ]


@dataclass(frozen=True)
class Channel:
    name: str
    organizations: tuple[str, ...]


@dataclass(frozen=True)
class Chaincode:
    name: str
    path: Path
    module: str
    channel: str
    endorsement_policy: str


@dataclass(frozen=True)
class Topology:
    """Everything topology.yaml declares, with ports derived from one base port."""

    base_port: int
    organizations: tuple[Organization, ...]
    channels: tuple[Channel, ...]
    chaincode: Chaincode
    batch_timeout: str
    max_message_count: int
    binaries: dict = field(hash=False, compare=False)

    def org(self, name: str) -> Organization:
        for org in self.organizations:
            if org.name.lower() == name.lower() or org.msp_id == name:
                return org
        raise TopologyError(f"no organisation named {name!r}")

    @property
    def orderers(self) -> list[Node]:
        return [n for org in self.organizations for n in org.orderers]

    @property
    def peers(self) -> list[Node]:
        return [n for org in self.organizations for n in org.peers]

    @property
    def cas(self) -> list[Node]:
        return [org.ca for org in self.organizations]

    @property
    def chaincode_services(self) -> list[Node]:
        return [org.chaincode_service for org in self.organizations if org.peer_count]

    @property
    def nodes(self) -> list[Node]:
        """Every process, in start order."""
        return self.cas + self.orderers + self.peers + self.chaincode_services

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise TopologyError(f"no node named {name!r}; nodes: {', '.join(n.name for n in self.nodes)}")


def ephemeral_ports() -> range | None:
    """The kernel's range for outgoing connections' local ports (Linux), None if unknown."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return None
    return range(low, high + 1)


def load(path: Path = TOPOLOGY_FILE, base_port: int | None = None) -> Topology:
    """Read and check topology.yaml; ``base_port`` overrides the file's."""
    raw = yaml.safe_load(path.read_text())
    base = int(base_port if base_port is not None else raw["base_port"])
    orgs_raw = raw["organizations"]
    if not 1024 <= base <= 65535 - 100 * len(orgs_raw):
        raise TopologyError(f"base port {base} leaves no room for {len(orgs_raw)} organisations below 65536")
    orgs = []
    for i, o in enumerate(orgs_raw):
        org = Organization(
            index=i,
            name=o["name"],
            msp_id=o["msp_id"],
            description=o.get("description", ""),
            peer_count=int(o.get("peers", 1)),
            orderer_count=int(o.get("orderers", 0)),
            base=base + 100 * i,
        )
        if not 0 <= org.orderer_count <= MAX_ORDERERS_PER_ORG:
            raise TopologyError(f"{org.name}: orderers must be 0..{MAX_ORDERERS_PER_ORG}")
        if not 0 <= org.peer_count <= MAX_PEERS_PER_ORG:
            raise TopologyError(f"{org.name}: peers must be 0..{MAX_PEERS_PER_ORG}")
        orgs.append(org)
    names = [o.name for o in orgs]
    channels = tuple(Channel(c["name"], tuple(c["organizations"])) for c in raw["channels"])
    for ch in channels:
        unknown = set(ch.organizations) - set(names)
        if unknown:
            raise TopologyError(f"channel {ch.name} names unknown organisations: {sorted(unknown)}")
    if sum(o.orderer_count for o in orgs) < 1:
        raise TopologyError("the network needs at least one orderer")
    cc = raw["chaincode"]
    chaincode = Chaincode(
        name=cc["name"],
        path=PROJECT_ROOT / cc["path"],
        module=cc["module"],
        channel=cc["channel"],
        endorsement_policy=cc["endorsement_policy"],
    )
    if chaincode.channel not in {c.name for c in channels}:
        raise TopologyError(f"chaincode channel {chaincode.channel!r} is not declared")
    ordering = raw.get("ordering", {})
    return Topology(
        base_port=base,
        organizations=tuple(orgs),
        channels=channels,
        chaincode=chaincode,
        batch_timeout=str(ordering.get("batch_timeout", "2s")),
        max_message_count=int(ordering.get("max_message_count", 500)),
        binaries=raw["binaries"],
    )
