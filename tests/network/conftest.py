"""Helpers for driving the network with Fabric's official ``peer`` CLI."""

from __future__ import annotations

import json
import time

import pytest

from network import Network
from network.channel import peer_cli, peer_height
from network.identities import DEFAULT_CLIENT
from network.topology import Node


class PeerCLI:
    """The official ``peer`` CLI against the test network, as an organisation's client."""

    def __init__(self, net: Network):
        self.net = net
        self.cc = net.topology.chaincode

    def peer(self, org: str) -> Node:
        return self.net.topology.org(org).peers[0]

    def invoke(self, org: str, fn: str, *args: str, endorsers: list[str] | None = None, orderer: Node | None = None):
        """Submit as ``org``'s default client, endorsed by ``endorsers``' peers; waits for commit."""
        layout = self.net.layout
        orderer = orderer or self.net.topology.orderers[0]
        targets = []
        for name in endorsers or [org]:
            p = self.peer(name)
            targets += ["--peerAddresses", p.address, "--tlsRootCertFiles", str(layout.ca_cert(p.org))]
        return peer_cli(
            self.net.binaries, layout, self.peer(org), "chaincode", "invoke",
            "-o", orderer.address, "--tls", "--cafile", str(layout.ca_cert(orderer.org)),
            "-C", self.cc.channel, "-n", self.cc.name, "-c", json.dumps({"Args": [fn, *args]}),
            *targets, "--waitForEvent", "--waitForEventTimeout", "60s",
            identity=DEFAULT_CLIENT, timeout=120,
        )  # fmt: skip

    def query(self, org: str, fn: str, *args: str, peer: Node | None = None):
        return peer_cli(
            self.net.binaries, self.net.layout, peer or self.peer(org), "chaincode", "query",
            "-C", self.cc.channel, "-n", self.cc.name, "-c", json.dumps({"Args": [fn, *args]}),
            identity=DEFAULT_CLIENT,
        )  # fmt: skip

    def heights(self) -> dict[str, int]:
        return {p.name: peer_height(self.net.binaries, self.net.layout, p, self.cc.channel)
                for p in self.net.topology.peers}  # fmt: skip

    def wait_for_equal_heights(self, timeout: float = 20.0) -> dict[str, int]:
        """Peers commit the same block a few milliseconds apart: wait until they agree."""
        deadline = time.monotonic() + timeout
        while True:
            heights = self.heights()
            if len(set(heights.values())) == 1 or time.monotonic() > deadline:
                return heights
            time.sleep(0.2)


@pytest.fixture(scope="session")
def cli(fabric_network) -> PeerCLI:
    return PeerCLI(fabric_network)
