"""Where a network keeps its files: identities, ledgers, logs, pid files and artifacts.

One network lives under one home folder (``network/run`` by default, a temporary folder
in tests). Identity folders follow Fabric's MSP layout so any Fabric client can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .topology import Node, Organization


@dataclass(frozen=True)
class Layout:
    home: Path

    @property
    def state_file(self) -> Path:
        """Facts fixed when the network was created (base port), checked on every start."""
        return self.home / "network.json"

    @property
    def config(self) -> Path:
        """core.yaml and orderer.yaml: Fabric's stock files with this network's builders."""
        return self.home / "config"

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    def genesis_block(self, channel: str) -> Path:
        return self.artifacts / f"{channel}.block"

    @property
    def packages(self) -> Path:
        return self.home / "chaincode-packages"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def log(self, node: Node) -> Path:
        return self.logs / f"{node.name}.log"

    def pid(self, node: Node) -> Path:
        return self.home / "pids" / f"{node.name}.pid"

    def data(self, node: Node) -> Path:
        return self.home / "data" / node.name

    def org(self, org: Organization) -> Path:
        return self.home / "organizations" / org.key

    def ca_home(self, org: Organization) -> Path:
        return self.org(org) / "ca-server"

    def ca_cert(self, org: Organization) -> Path:
        """The organisation's root CA certificate (also the root of its TLS certificates)."""
        return self.ca_home(org) / "ca-cert.pem"

    def ca_bootstrap_secret(self, org: Organization) -> Path:
        return self.org(org) / "ca-bootstrap-admin.secret"

    def ca_client_home(self, org: Organization) -> Path:
        """The CA's bootstrap registrar identity, used only to register the others."""
        return self.org(org) / "ca-registrar"

    def channel_msp(self, org: Organization) -> Path:
        """The MSP that represents the organisation in channel configurations."""
        return self.org(org) / "msp"

    def identity(self, org: Organization, name: str) -> Path:
        """An enrolled identity: ``msp/`` (signcerts, keystore, cacerts) and ``tls/``."""
        return self.org(org) / "identities" / name

    def node_identity(self, node: Node) -> Path:
        return self.identity(node.org, node.name)

    def connection_profile(self, org: Organization) -> Path:
        return self.org(org) / "connection-profile.json"

    def chaincode_tls(self, org: Organization) -> Path:
        return self.identity(org, org.chaincode_service.name) / "tls"


def msp_dir(identity: Path) -> Path:
    return identity / "msp"


def tls_dir(identity: Path) -> Path:
    return identity / "tls"
