"""Channels: configtx.yaml from the topology, the genesis block, and joining every node.

Channels are created through the channel participation API (``osnadmin``); there is no
system channel. Anchor peers are part of the genesis block, so cross-organisation
discovery works without a separate anchor-peer update.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import yaml

from .binaries import Binaries
from .identities import ADMIN
from .layout import Layout, tls_dir
from .nodes import cli_env, metrics_tls, metrics_url
from .processes import http_get
from .topology import Channel, Organization, Topology


class ChannelError(RuntimeError):
    """A channel could not be created or joined; the message says which node and why."""


def _org_policies(org: Organization, orderer: bool) -> dict:
    m = org.msp_id
    roles = ["admin", "peer", "client"] + (["orderer"] if orderer else [])
    writers = ["admin", "client"] + (["orderer"] if orderer else [])

    def sig(rule_roles):
        return {"Type": "Signature", "Rule": "OR(" + ", ".join(f"'{m}.{r}'" for r in rule_roles) + ")"}

    policies = {"Readers": sig(roles), "Writers": sig(writers), "Admins": sig(["admin"])}
    if not orderer:
        policies["Endorsement"] = sig(["peer"])
    return policies


def configtx(topology: Topology, layout: Layout, channel: Channel) -> dict:
    """The configtx.yaml document that defines ``channel``."""
    members = [topology.org(n) for n in channel.organizations]
    orderer_orgs = [o for o in topology.organizations if o.orderer_count]

    def application_org(org: Organization) -> dict:
        return {
            "Name": org.name,
            "ID": org.msp_id,
            "MSPDir": str(layout.channel_msp(org)),
            "Policies": _org_policies(org, orderer=False),
            "AnchorPeers": [{"Host": "127.0.0.1", "Port": p.port} for p in org.peers[:1]],
        }

    def ordering_org(org: Organization) -> dict:
        return {
            "Name": org.name,
            "ID": org.msp_id,
            "MSPDir": str(layout.channel_msp(org)),
            "Policies": _org_policies(org, orderer=True),
            "OrdererEndpoints": [o.address for o in org.orderers],
        }

    any_of = lambda sub: {"Type": "ImplicitMeta", "Rule": f"ANY {sub}"}  # noqa: E731
    majority = lambda sub: {"Type": "ImplicitMeta", "Rule": f"MAJORITY {sub}"}  # noqa: E731
    consenters = []
    for node in topology.orderers:
        tls = tls_dir(layout.node_identity(node))
        consenters.append(
            {"Host": "127.0.0.1", "Port": node.port,
             "ClientTLSCert": str(tls / "server.crt"), "ServerTLSCert": str(tls / "server.crt")}
        )  # fmt: skip
    profile = {
        "Policies": {"Readers": any_of("Readers"), "Writers": any_of("Writers"), "Admins": majority("Admins")},
        "Capabilities": {"V2_0": True},
        "Orderer": {
            "OrdererType": "etcdraft",
            "BatchTimeout": topology.batch_timeout,
            "BatchSize": {
                "MaxMessageCount": topology.max_message_count,
                "AbsoluteMaxBytes": "99 MB",
                "PreferredMaxBytes": "2 MB",
            },
            "EtcdRaft": {"Consenters": consenters},
            "Organizations": [ordering_org(o) for o in orderer_orgs],
            "Policies": {
                "Readers": any_of("Readers"),
                "Writers": any_of("Writers"),
                "Admins": majority("Admins"),
                "BlockValidation": any_of("Writers"),
            },
            "Capabilities": {"V2_0": True},
        },
        "Application": {
            "Organizations": [application_org(o) for o in members],
            "Policies": {
                "Readers": any_of("Readers"),
                "Writers": any_of("Writers"),
                "Admins": majority("Admins"),
                "LifecycleEndorsement": majority("Endorsement"),
                "Endorsement": majority("Endorsement"),
            },
            "Capabilities": {"V2_5": True},
        },
    }
    return {"Profiles": {channel.name: profile}}


def create_genesis_block(binaries: Binaries, topology: Topology, layout: Layout, channel: Channel) -> None:
    """Write the channel's genesis block with configtxgen, once."""
    block = layout.genesis_block(channel.name)
    if block.exists():
        return
    folder = layout.artifacts / channel.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "configtx.yaml").write_text(yaml.safe_dump(configtx(topology, layout, channel), sort_keys=False))
    proc = subprocess.run(
        [str(binaries.path("configtxgen")), "-configPath", str(folder), "-profile", channel.name,
         "-channelID", channel.name, "-outputBlock", str(block)],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise ChannelError(f"configtxgen could not create the {channel.name} block:\n{proc.stderr[-2000:]}")


def _osnadmin(binaries: Binaries, layout: Layout, orderer, *args: str) -> subprocess.CompletedProcess:
    admin_tls = tls_dir(layout.identity(orderer.org, ADMIN))
    return subprocess.run(
        [str(binaries.path("osnadmin")), "channel", *args, "-o", f"127.0.0.1:{orderer.admin_port}",
         "--ca-file", str(layout.ca_cert(orderer.org)),
         "--client-cert", str(admin_tls / "server.crt"), "--client-key", str(admin_tls / "server.key")],
        capture_output=True, text=True,
    )  # fmt: skip


def orderer_channels(binaries: Binaries, layout: Layout, orderer) -> list[str]:
    proc = _osnadmin(binaries, layout, orderer, "list")
    if proc.returncode != 0:
        raise ChannelError(f"osnadmin could not list channels on {orderer.name}: {proc.stderr.strip()}")
    body = proc.stdout[proc.stdout.find("{") :]
    return [c["name"] for c in (json.loads(body).get("channels") or [])]


def orderer_channel_info(binaries: Binaries, layout: Layout, orderer, channel: str) -> dict:
    """``{"name", "status", "consensusRelation", "height"}`` as the orderer reports it."""
    proc = _osnadmin(binaries, layout, orderer, "list", "--channelID", channel)
    if proc.returncode != 0:
        raise ChannelError(f"osnadmin info on {orderer.name}: {proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(proc.stdout[proc.stdout.find("{") :])


def join_orderer(binaries: Binaries, layout: Layout, orderer, channel: str) -> bool:
    """Join ``orderer`` to ``channel`` unless it already is; True if it joined now."""
    if channel in orderer_channels(binaries, layout, orderer):
        return False
    proc = _osnadmin(binaries, layout, orderer, "join", "--channelID", channel,
                     "--config-block", str(layout.genesis_block(channel)))  # fmt: skip
    if proc.returncode != 0 or "201" not in proc.stdout:
        raise ChannelError(f"{orderer.name} could not join {channel}: {(proc.stdout + proc.stderr).strip()}")
    return True


def raft_leader(topology: Topology, layout: Layout, channel: str) -> str | None:
    """The orderer that leads ``channel``'s Raft cluster, read from the nodes' metrics."""
    pattern = re.compile(r'^consensus_etcdraft_is_leader\{channel="%s"\} 1$' % re.escape(channel), re.M)
    for node in topology.orderers:
        status, body = http_get(metrics_url(node), metrics_tls(layout, node))
        if status == 200 and pattern.search(body):
            return node.name
    return None


def wait_for_leader(topology: Topology, layout: Layout, channel: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader = raft_leader(topology, layout, channel)
        if leader:
            return leader
        time.sleep(0.25)
    raise ChannelError(f"no Raft leader was elected for {channel} within {timeout:.0f} s; see the orderer logs")


def peer_cli(binaries: Binaries, layout: Layout, peer, *args: str, identity: str = ADMIN,
             timeout: float = 120) -> subprocess.CompletedProcess:  # fmt: skip
    """Run the official ``peer`` CLI against ``peer`` as an identity of its organisation."""
    return subprocess.run(
        [str(binaries.path("peer")), *args], env=cli_env(layout, peer, identity),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def peer_channels(binaries: Binaries, layout: Layout, peer) -> list[str]:
    proc = peer_cli(binaries, layout, peer, "channel", "list")
    if proc.returncode != 0:
        raise ChannelError(f"{peer.name}: peer channel list failed: {proc.stderr.strip()}")
    lines = proc.stdout.splitlines()
    return [ln.strip() for ln in lines[lines.index("Channels peers has joined: ") + 1 :]] if lines else []


def join_peer(binaries: Binaries, layout: Layout, peer, channel: str) -> bool:
    """Join ``peer`` to ``channel`` unless it already is; True if it joined now."""
    if channel in peer_channels(binaries, layout, peer):
        return False
    proc = peer_cli(binaries, layout, peer, "channel", "join", "-b", str(layout.genesis_block(channel)))
    if proc.returncode != 0:
        raise ChannelError(f"{peer.name} could not join {channel}: {proc.stderr.strip()}")
    return True


def peer_height(binaries: Binaries, layout: Layout, peer, channel: str) -> int:
    """The peer's block height on ``channel`` (``peer channel getinfo``)."""
    proc = peer_cli(binaries, layout, peer, "channel", "getinfo", "-c", channel)
    if proc.returncode != 0:
        raise ChannelError(f"{peer.name}: peer channel getinfo failed: {proc.stderr.strip()}")
    info = json.loads(proc.stdout[proc.stdout.find("{") :])
    return int(info["height"])
