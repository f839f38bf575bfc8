"""Session fixtures shared by every test folder: one real Fabric network for the whole run.

The network runs in a temporary folder on its own ports (``TEST_NETWORK_BASE_PORT``,
default 27000), so it never touches a demo network started with ``make up``. A network
that cannot start fails every test that needs it; nothing is skipped.
"""

from __future__ import annotations

import os

import pytest

from network import Network
from tests.gateways import api, gateway_app, gateway_instance, live_gateways, new_user  # noqa: F401  (shared fixtures)


_summary: list[str] = []


@pytest.fixture(scope="session")
def fabric_network(tmp_path_factory) -> Network:
    """A running network (3 Raft orderers, 4 peer organisations, chaincode committed)."""
    home = tmp_path_factory.mktemp("fabric-network")
    base_port = int(os.environ.get("TEST_NETWORK_BASE_PORT", "27000"))
    net = Network.open(home, base_port)
    try:
        started = net.up()
        _summary.append(f"test network up in {started['seconds']} s on base port {base_port}")
        yield net
        heights = {n["name"]: n.get("heights") for n in net.status()["nodes"] if n["kind"] == "peer"}
        _summary.append(f"block heights at the end: {heights}")
    finally:
        net.clean()


def pytest_terminal_summary(terminalreporter):
    """Report how the shared network fared (start-up time, final block heights)."""
    for line in _summary:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def gateway_for(fabric_network):
    """``gateway_for(org, identity="User1", msp_id=None, signer=...)``: a Gateway to ``org``'s first peer.

    ``msp_id`` overrides the identity's organisation (to prove the peer refuses a mismatch);
    ``signer=None`` connects without a signer, for offline signing.
    """
    from app.fabric import X509Identity, connect, load_private_key, new_grpc_channel, new_private_key_signer

    opened = []
    default = object()

    def open_gateway(org: str = "Producer", identity: str = "User1", msp_id: str | None = None, signer=default, **kw):
        organization = fabric_network.topology.org(org)
        peer = organization.peers[0]
        msp = fabric_network.layout.identity(organization, identity) / "msp"
        channel = new_grpc_channel(
            peer.address, fabric_network.layout.ca_cert(organization).read_bytes(), server_name_override=peer.host
        )
        if signer is default:
            signer = new_private_key_signer(load_private_key((msp / "keystore" / "key.pem").read_bytes()))
        cert = (msp / "signcerts" / "cert.pem").read_bytes()
        gateway = connect(X509Identity(msp_id or organization.msp_id, cert), signer, channel=channel, **kw)
        opened.append((gateway, channel))
        return gateway

    yield open_gateway
    for gateway, channel in opened:
        gateway.close()
        channel.close()


@pytest.fixture(scope="session")
def private_key_pem(fabric_network):
    """``private_key_pem(org, identity="User1")``: the PEM private key of an enrolled identity."""

    def read(org: str, identity: str = "User1") -> bytes:
        organization = fabric_network.topology.org(org)
        return (fabric_network.layout.identity(organization, identity) / "msp" / "keystore" / "key.pem").read_bytes()

    return read
