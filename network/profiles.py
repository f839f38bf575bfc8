"""Connection profiles in Fabric's common connection-profile format, one per organisation.

A profile names the organisation's peers, every orderer and its CA, with endpoints, TLS
CA certificates (inline PEM) and the host names in the nodes' TLS certificates, so any
Fabric client, the official ones included, can connect without reading this project.
"""

from __future__ import annotations

import json

from .identities import ADMIN, DEFAULT_CLIENT
from .layout import Layout, msp_dir
from .topology import Node, Organization, Topology


def _pem(layout: Layout, org: Organization) -> str:
    return layout.ca_cert(org).read_text()


def _endpoint(layout: Layout, node: Node) -> dict:
    """A peer or orderer entry: gRPC URL, TLS root and the host name its certificate names."""
    return {
        "url": f"grpcs://{node.address}",
        "tlsCACerts": {"pem": _pem(layout, node.org)},
        "grpcOptions": {"ssl-target-name-override": node.host, "hostnameOverride": node.host},
    }


def connection_profile(topology: Topology, layout: Layout, org: Organization) -> dict:
    """The organisation's connection profile as a dict (written as JSON)."""
    channels = [c for c in topology.channels if org.name in c.organizations]
    peers = {p.host: _endpoint(layout, p) for p in org.peers}
    orderers = {o.host: _endpoint(layout, o) for o in topology.orderers}
    return {
        "name": f"supplychain-{org.key}",
        "version": "1.0.0",
        "client": {
            "organization": org.name,
            "connection": {"timeout": {"peer": {"endorser": "300"}, "orderer": "300"}},
        },
        "channels": {
            c.name: {
                "orderers": list(orderers),
                "peers": {
                    p: {"endorsingPeer": True, "chaincodeQuery": True, "ledgerQuery": True, "eventSource": True}
                    for p in peers
                },
            }
            for c in channels
        },
        "organizations": {
            org.name: {
                "mspid": org.msp_id,
                "peers": list(peers),
                "certificateAuthorities": [org.ca.host],
            }
        },
        "peers": peers,
        "orderers": orderers,
        "certificateAuthorities": {
            org.ca.host: {
                "url": f"https://{org.ca.address}",
                "caName": org.ca.name,
                "tlsCACerts": {"pem": [_pem(layout, org)]},
                "httpOptions": {"verify": True},
            }
        },
    }


def identities(layout: Layout, org: Organization) -> dict:
    """The organisation's admin and default client identities: MSP folders and their files."""
    result = {}
    for name in (ADMIN, DEFAULT_CLIENT):
        msp = msp_dir(layout.identity(org, name))
        result[name] = {
            "msp": str(msp),
            "certificate": str(msp / "signcerts" / "cert.pem"),
            "private_key": str(msp / "keystore" / "key.pem"),
        }
    return result


def write_profiles(topology: Topology, layout: Layout) -> None:
    for org in topology.organizations:
        path = layout.connection_profile(org)
        path.write_text(json.dumps(connection_profile(topology, layout, org), indent=2))
