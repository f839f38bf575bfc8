"""How each node is launched: Fabric's stock core.yaml/orderer.yaml plus per-node overrides.

Per-node settings are environment variables (as Fabric's own test networks do), so one
pair of config files serves every node and each node's differences read top to bottom here.
"""

from __future__ import annotations

import os
import shutil

import yaml

from .binaries import Binaries
from .identities import ADMIN, ca_server_argv
from .layout import Layout, msp_dir, tls_dir
from .processes import tls_context
from .topology import PROJECT_ROOT, Node, Topology

CCAAS_BUILDER = PROJECT_ROOT / "network" / "ccaas_builder"
LOG_SPEC = "info:gossip.discovery,gossip.election,gossip.state=warning"


def write_config(binaries: Binaries, layout: Layout) -> None:
    """Copy Fabric's stock core.yaml and orderer.yaml and point the peer at our CCaaS builder."""
    layout.config.mkdir(parents=True, exist_ok=True)
    core = yaml.safe_load((binaries.sampleconfig / "core.yaml").read_text())
    core["chaincode"]["externalBuilders"] = [
        {"name": "ccaas_builder", "path": str(CCAAS_BUILDER), "propagateEnvironment": ["HOME"]}
    ]
    # No Docker engine here: chaincode runs only as external services.
    core["vm"]["endpoint"] = ""
    (layout.config / "core.yaml").write_text(yaml.safe_dump(core, sort_keys=False))
    shutil.copy(binaries.sampleconfig / "orderer.yaml", layout.config / "orderer.yaml")


def _base_env(layout: Layout) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORE_", "ORDERER_", "FABRIC_"))}
    env["FABRIC_CFG_PATH"] = str(layout.config)
    env["FABRIC_LOGGING_SPEC"] = LOG_SPEC
    return env


def launch_spec(topology: Topology, binaries: Binaries, layout: Layout, node: Node) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that start ``node``."""
    if node.kind == "ca":
        return ca_server_argv(binaries, layout, node.org), _base_env(layout)
    if node.kind == "orderer":
        return [str(binaries.path("orderer"))], orderer_env(topology, layout, node)
    if node.kind == "peer":
        return [str(binaries.path("peer")), "node", "start"], peer_env(layout, node)
    raise ValueError(f"{node.name}: chaincode services are launched by network.chaincode")


def orderer_env(topology: Topology, layout: Layout, node: Node) -> dict[str, str]:
    ident = layout.node_identity(node)
    tls = tls_dir(ident)
    data = layout.data(node)
    # Each orderer's channel participation API trusts only its own organisation's CA:
    # no member can join or remove another member's orderer from a channel.
    own_ca = layout.ca_cert(node.org)
    return {
        **_base_env(layout),
        "ORDERER_GENERAL_LISTENADDRESS": "127.0.0.1",
        "ORDERER_GENERAL_LISTENPORT": str(node.port),
        "ORDERER_GENERAL_LOCALMSPID": node.org.msp_id,
        "ORDERER_GENERAL_LOCALMSPDIR": str(msp_dir(ident)),
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": str(tls / "server.crt"),
        "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": str(tls / "server.key"),
        "ORDERER_GENERAL_CLUSTER_ROOTCAS": f"[{','.join(str(layout.ca_cert(o.org)) for o in topology.orderers)}]",
        "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
        "ORDERER_ADMIN_LISTENADDRESS": f"127.0.0.1:{node.admin_port}",
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_ADMIN_TLS_PRIVATEKEY": str(tls / "server.key"),
        "ORDERER_ADMIN_TLS_ROOTCAS": f"[{tls / 'ca.crt'}]",
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": f"[{own_ca}]",
        "ORDERER_OPERATIONS_LISTENADDRESS": f"127.0.0.1:{node.operations_port}",
        "ORDERER_OPERATIONS_TLS_ENABLED": "true",
        "ORDERER_OPERATIONS_TLS_CERTIFICATE": str(tls / "server.crt"),
        "ORDERER_OPERATIONS_TLS_PRIVATEKEY": str(tls / "server.key"),
        # /metrics answers only clients with a certificate from the node's own organisation.
        "ORDERER_OPERATIONS_TLS_CLIENTROOTCAS": f"[{own_ca}]",
        "ORDERER_METRICS_PROVIDER": "prometheus",
        "ORDERER_FILELEDGER_LOCATION": str(data / "ledger"),
        "ORDERER_CONSENSUS_WALDIR": str(data / "etcdraft" / "wal"),
        "ORDERER_CONSENSUS_SNAPDIR": str(data / "etcdraft" / "snapshot"),
    }


def peer_env(layout: Layout, node: Node) -> dict[str, str]:
    ident = layout.node_identity(node)
    tls = tls_dir(ident)
    data = layout.data(node)
    # Peers of one organisation find each other through its first peer.
    bootstrap = node.org.peers[0].address
    return {
        **_base_env(layout),
        "CORE_PEER_ID": node.name,
        "CORE_PEER_ADDRESS": node.address,
        "CORE_PEER_LISTENADDRESS": node.address,
        "CORE_PEER_CHAINCODEADDRESS": f"127.0.0.1:{node.chaincode_port}",
        "CORE_PEER_CHAINCODELISTENADDRESS": f"127.0.0.1:{node.chaincode_port}",
        "CORE_PEER_GOSSIP_BOOTSTRAP": bootstrap,
        # Without an external endpoint a peer is invisible to other organisations, and
        # the Gateway cannot find endorsers across organisations.
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": node.address,
        # A peer that found another organisation's anchor peer not yet listening retries after
        # reconnectInterval: 25 s by default, which is how long a fresh network would wait
        # before endorsements could cross organisations. Five seconds suits one host.
        "CORE_PEER_GOSSIP_RECONNECTINTERVAL": "5s",
        "CORE_PEER_LOCALMSPID": node.org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(msp_dir(ident)),
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": str(tls / "server.crt"),
        "CORE_PEER_TLS_KEY_FILE": str(tls / "server.key"),
        "CORE_PEER_TLS_ROOTCERT_FILE": str(tls / "ca.crt"),
        "CORE_PEER_FILESYSTEMPATH": str(data / "ledger"),
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": str(data / "snapshots"),
        "CORE_PEER_GATEWAY_ENABLED": "true",
        "CORE_PEER_DISCOVERY_ENABLED": "true",
        "CORE_OPERATIONS_LISTENADDRESS": f"127.0.0.1:{node.operations_port}",
        "CORE_OPERATIONS_TLS_ENABLED": "true",
        "CORE_OPERATIONS_TLS_CERT_FILE": str(tls / "server.crt"),
        "CORE_OPERATIONS_TLS_KEY_FILE": str(tls / "server.key"),
        "CORE_OPERATIONS_TLS_CLIENTROOTCAS_FILES": str(layout.ca_cert(node.org)),
        "CORE_METRICS_PROVIDER": "prometheus",
    }


def cli_env(layout: Layout, peer: Node, identity: str = ADMIN) -> dict[str, str]:
    """Environment for the ``peer`` CLI acting as ``identity`` of the peer's organisation."""
    ident = layout.identity(peer.org, identity)
    return {
        **_base_env(layout),
        "FABRIC_LOGGING_SPEC": "warning",
        "CORE_PEER_LOCALMSPID": peer.org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": str(msp_dir(ident)),
        "CORE_PEER_ADDRESS": peer.address,
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_ROOTCERT_FILE": str(layout.ca_cert(peer.org)),
        # Mutual TLS material for the orderer and peers, should they require it.
        "CORE_PEER_TLS_CLIENTCERT_FILE": str(tls_dir(ident) / "server.crt"),
        "CORE_PEER_TLS_CLIENTKEY_FILE": str(tls_dir(ident) / "server.key"),
    }


def health_url(node: Node) -> str:
    return f"https://127.0.0.1:{node.operations_port}/healthz"


def metrics_url(node: Node) -> str:
    return f"https://127.0.0.1:{node.operations_port}/metrics"


def metrics_tls(layout: Layout, node: Node):
    """A TLS context that may read ``node``'s /metrics: its organisation's admin client certificate."""
    return tls_context(layout.ca_cert(node.org), tls_dir(layout.identity(node.org, ADMIN)))
