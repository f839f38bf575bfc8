"""What a gateway process knows of its organisation: read from the network's connection profile and files.

The connection profile (Fabric's common format) gives the MSP ID, the organisation's peer with its TLS root and
host name, and its CA. The registrar identity is the organisation's Admin, enrolled by the network; the gateway uses
it only to register users with the CA.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .fabric_ca import Enrollment, FabricCA


class NetworkFilesMissing(RuntimeError):
    """The organisation's network files are not there (the network was never started in that home)."""


@dataclass(frozen=True)
class Organization:
    """One member organisation as its gateway sees it."""

    name: str
    msp_id: str
    peer_address: str
    peer_host: str
    tls_root_pem: bytes
    ca_url: str
    ca_name: str
    folder: Path

    @classmethod
    def load(cls, network_home: str | Path, name: str) -> Organization:
        """Read ``name``'s connection profile under ``network_home``; NetworkFilesMissing names what is absent."""
        folder = Path(network_home) / "organizations" / name.lower()
        profile_path = folder / "connection-profile.json"
        if not profile_path.is_file():
            raise NetworkFilesMissing(f"no connection profile at {profile_path}: start the network first (make up)")
        profile = json.loads(profile_path.read_text())
        org = profile["organizations"][name]
        peer = profile["peers"][org["peers"][0]]
        ca = profile["certificateAuthorities"][org["certificateAuthorities"][0]]
        return cls(
            name=name, msp_id=org["mspid"], peer_address=peer["url"].removeprefix("grpcs://"),
            peer_host=peer["grpcOptions"]["ssl-target-name-override"], tls_root_pem=peer["tlsCACerts"]["pem"].encode(),
            ca_url=ca["url"], ca_name=ca["caName"], folder=folder,
        )  # fmt: skip

    def ca(self) -> FabricCA:
        """A client of the organisation's CA (its TLS root is the organisation's root CA file)."""
        return FabricCA(self.ca_url, self.ca_name, str(self.folder / "ca-server" / "ca-cert.pem"))

    def registrar(self, identity: str) -> Enrollment:
        """The enrolled registrar identity (certificate and key) from the network's files."""
        msp = self.folder / "identities" / identity / "msp"
        try:
            cert = (msp / "signcerts" / "cert.pem").read_bytes()
            key = load_pem_private_key((msp / "keystore" / "key.pem").read_bytes(), password=None)
        except FileNotFoundError as err:
            raise NetworkFilesMissing(f"registrar {identity} of {self.name} is missing: {err.filename}") from None
        return Enrollment(cert, key)
