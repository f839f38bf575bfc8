"""Session fixtures shared by every test folder: one real Fabric network for the whole run.

The network runs in a temporary folder on its own ports (``TEST_NETWORK_BASE_PORT``,
default 27000), so it never touches a demo network started with ``make up``. A network
that cannot start fails every test that needs it; nothing is skipped.
"""

from __future__ import annotations

import os

import pytest

from network import Network


@pytest.fixture(scope="session")
def fabric_network(tmp_path_factory) -> Network:
    """A running network (3 Raft orderers, 4 peer organisations, chaincode committed)."""
    home = tmp_path_factory.mktemp("fabric-network")
    base_port = int(os.environ.get("TEST_NETWORK_BASE_PORT", "27000"))
    net = Network.open(home, base_port)
    try:
        net.up()
        yield net
    finally:
        net.clean()
