"""The network against its promises, checked with Fabric's own ``peer`` CLI where it can be.

Tests that stop nodes come last in this file and leave the network running again.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2

from network import chaincode, channel, processes
from network.topology import load
from tests.helpers import eventually

pytestmark = pytest.mark.fabric

BUSINESS_MSPS = {"ProducerMSP", "RetailerMSP", "LogisticsMSP"}


def _key() -> str:
    return f"k-{uuid.uuid4().hex[:12]}"


def test_every_node_is_running_and_healthy(fabric_network):
    status = fabric_network.status()
    assert len(status["nodes"]) == 4 + 3 + 4 + 4
    unhealthy = [n["name"] for n in status["nodes"] if not (n["pid"] and n["healthy"])]
    assert unhealthy == []
    leaders = [n["name"] for n in status["nodes"] if n["kind"] == "orderer" and n["raft_leader"]]
    assert len(leaders) == 1


def test_ports_derive_from_the_base_port(fabric_network):
    base = fabric_network.topology.base_port
    ports = [p for node in fabric_network.topology.nodes for p in node.ports]
    assert len(ports) == len(set(ports))
    assert all(base <= p < base + 400 for p in ports)
    assert load(base_port=base + 1000).org("Producer").peers[0].port == fabric_network.topology.org("Producer").peers[0].port + 1000


def test_every_peer_joined_supplychain(fabric_network):
    for peer in fabric_network.topology.peers:
        assert "supplychain" in channel.peer_channels(fabric_network.binaries, fabric_network.layout, peer)


def test_every_orderer_is_a_consenter_of_supplychain(fabric_network):
    for orderer in fabric_network.topology.orderers:
        info = channel.orderer_channel_info(fabric_network.binaries, fabric_network.layout, orderer, "supplychain")
        assert (info["status"], info["consensusRelation"]) == ("active", "consenter")


def test_chaincode_is_committed_with_two_of_three_business_members_policy(fabric_network):
    cc = fabric_network.topology.chaincode
    for peer in fabric_network.topology.peers:
        definition = chaincode.committed(fabric_network.binaries, fabric_network.layout, peer, cc.channel, cc.name)
        assert definition["version"] == chaincode.source_version(fabric_network.topology)
        assert all(definition["approvals"].values()) and len(definition["approvals"]) == 4
        policy = chaincode.committed_policy(definition)
        rule = policy.rule.n_out_of
        assert rule.n == 2 and len(rule.rules) == 3
        members = set()
        for identity in policy.identities:
            assert identity.principal_classification == msp_principal_pb2.MSPPrincipal.ROLE
            role = msp_principal_pb2.MSPRole.FromString(identity.principal)
            assert role.role == msp_principal_pb2.MSPRole.PEER
            members.add(role.msp_identifier)
        assert members == BUSINESS_MSPS
        assert isinstance(policy, policies_pb2.SignaturePolicyEnvelope)


def test_write_endorsed_as_the_policy_requires_commits_and_reads_the_same_on_every_peer(cli):
    key = _key()
    result = cli.invoke("Producer", "PutRecord", key, "eggs, lot 42", endorsers=["Producer", "Logistics"])
    assert result.returncode == 0, result.stderr
    heights = cli.wait_for_equal_heights()
    assert len(set(heights.values())) == 1, heights
    for org in ("Producer", "Retailer", "Logistics", "Regulator"):
        answer = cli.query(org, "GetRecord", key)
        assert answer.returncode == 0, answer.stderr
        record = json.loads(answer.stdout)
        assert (record["value"], record["version"], record["writer"]) == ("eggs, lot 42", 1, "ProducerMSP")


def test_write_endorsed_by_one_member_is_invalidated_and_changes_nothing(cli):
    key = _key()
    result = cli.invoke("Retailer", "PutRecord", key, "alone", endorsers=["Retailer"])
    assert result.returncode != 0
    assert "ENDORSEMENT_POLICY_FAILURE" in result.stderr
    assert "NOT_FOUND" in cli.query("Retailer", "GetRecord", key).stderr


def test_regulator_cannot_write_business_data(cli):
    key = _key()
    result = cli.invoke("Regulator", "PutRecord", key, "x", endorsers=["Producer", "Retailer"])
    assert result.returncode != 0
    assert "FORBIDDEN: the Regulator reads business data but does not write it" in result.stderr
    assert "NOT_FOUND" in cli.query("Regulator", "GetRecord", key).stderr


def test_chaincode_answers_get_metadata_under_both_names(cli):
    for name in ("org.hyperledger.fabric:GetMetadata", "org.hyperledger.fabric:get_metadata"):
        answer = cli.query("Retailer", name)
        assert answer.returncode == 0, answer.stderr
        assert {"GetRecord", "PutRecord"} <= {t["name"] for t in json.loads(answer.stdout)["contracts"]["records"]["transactions"]}


def test_concurrent_transactions_all_commit_without_stalling_the_chaincode(fabric_network, cli):
    """Many transactions in flight at once on one chaincode service: every one commits.

    Without serialised stream writes the library loses messages under this load and the
    affected transactions fail after the peer's execute timeout.
    """
    keys = [_key() for _ in range(48)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(
            lambda k: cli.invoke("Producer", "PutRecord", k, "v", endorsers=["Producer", "Retailer"]), keys
        ))  # fmt: skip
    failures = [r.stderr[-300:] for r in results if r.returncode != 0]
    assert failures == []
    for org in ("Producer", "Retailer"):
        log = fabric_network.layout.log(fabric_network.topology.org(org).chaincode_service).read_text()
        assert "TOO_MANY_OPERATIONS" not in log
    assert eventually(lambda: json.loads(cli.query("Logistics", "GetRecord", keys[-1]).stdout))["value"] == "v"


def test_second_up_changes_nothing(fabric_network):
    before = {n["name"]: n["pid"] for n in fabric_network.status()["nodes"]}
    result = fabric_network.up()
    assert result["chaincode"]["changed"] is False
    after = {n["name"]: n["pid"] for n in fabric_network.status()["nodes"]}
    assert after == before


def test_transactions_commit_with_the_raft_leader_stopped_and_it_catches_up(fabric_network, cli):
    topo, layout = fabric_network.topology, fabric_network.layout
    leader = topo.node(channel.wait_for_leader(topo, layout, "supplychain"))
    survivor = next(o for o in topo.orderers if o != leader)
    assert processes.stop(layout.pid(leader))
    try:
        # The two survivors elect a new leader within Raft's election timeout (a few seconds).
        assert channel.wait_for_leader(topo, layout, "supplychain") != leader.name
        key = _key()
        result = cli.invoke("Logistics", "PutRecord", key, "2 of 3", endorsers=["Logistics", "Producer"], orderer=survivor)
        assert result.returncode == 0, result.stderr
        assert eventually(lambda: json.loads(cli.query("Regulator", "GetRecord", key).stdout))["value"] == "2 of 3"
    finally:
        fabric_network.up()  # restarts only what is stopped
    heights = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        heights = {o.name: channel.orderer_channel_info(fabric_network.binaries, layout, o, "supplychain")["height"]
                   for o in topo.orderers}  # fmt: skip
        if len(set(heights.values())) == 1:
            break
        time.sleep(0.5)
    assert len(set(heights.values())) == 1, heights
    assert heights[leader.name] == max(cli.heights().values())


def test_down_then_up_keeps_the_ledgers(fabric_network, cli):
    key = _key()
    assert cli.invoke("Producer", "PutRecord", key, "kept", endorsers=["Producer", "Retailer"]).returncode == 0
    height = max(cli.wait_for_equal_heights().values())
    stopped = fabric_network.down()
    assert len(stopped) == len(fabric_network.topology.nodes)
    assert all(n["pid"] is None for n in fabric_network.status()["nodes"])
    fabric_network.up()
    assert json.loads(cli.query("Retailer", "GetRecord", key).stdout)["value"] == "kept"
    assert min(cli.heights().values()) >= height


def test_changed_chaincode_needs_every_approval_then_deploys_as_the_next_sequence(fabric_network, cli, monkeypatch):
    topo, layout, binaries = fabric_network.topology, fabric_network.layout, fabric_network.binaries
    cc = topo.chaincode
    before = chaincode.committed(binaries, layout, topo.peers[0], cc.channel, cc.name)
    key = _key()
    assert cli.invoke("Producer", "PutRecord", key, "before upgrade", endorsers=["Producer", "Retailer"]).returncode == 0
    monkeypatch.setattr(chaincode, "source_version", lambda _t: "changed" + before["version"][:5])

    real_cli = chaincode._cli

    def approve_only_producer(binaries, layout, peer, *args, what):
        if what == "approveformyorg" and peer.org.name != "Producer":
            return ""
        return real_cli(binaries, layout, peer, *args, what=what)

    monkeypatch.setattr(chaincode, "_cli", approve_only_producer)
    with pytest.raises(chaincode.DeployError) as refused:
        fabric_network.deploy()
    assert "not approved by LogisticsMSP, RegulatorMSP, RetailerMSP" in str(refused.value)

    monkeypatch.setattr(chaincode, "_cli", real_cli)
    result = fabric_network.deploy()
    assert (result["changed"], result["sequence"]) == (True, before["sequence"] + 1)
    after = chaincode.committed(binaries, layout, topo.peers[-1], cc.channel, cc.name)
    assert after["sequence"] == before["sequence"] + 1
    running = {chaincode.running_package(layout, org) for org in topo.organizations}
    assert all(pkg.startswith(f"{cc.name}_changed") for pkg in running)
    assert eventually(lambda: json.loads(cli.query("Logistics", "GetRecord", key).stdout))["value"] == "before upgrade"
    assert cli.invoke("Retailer", "PutRecord", key, "after upgrade", endorsers=["Retailer", "Logistics"]).returncode == 0
    assert eventually(lambda: json.loads(cli.query("Producer", "GetRecord", key).stdout)["version"] == 2)

    monkeypatch.undo()
    restored = fabric_network.deploy()
    assert (restored["version"], restored["sequence"]) == (before["version"], before["sequence"] + 2)


def test_a_client_connects_with_nothing_but_a_connection_profile_and_an_identity(fabric_network):
    """The profile names the endpoint, TLS root and host name; status --json names the identity files."""
    from app.fabric import X509Identity, connect, load_private_key, new_grpc_channel, new_private_key_signer

    status = fabric_network.status()
    for org, info in status["organizations"].items():
        profile = json.loads(Path(info["connection_profile"]).read_text())
        peer_name = profile["organizations"][org]["peers"][0]
        peer = profile["peers"][peer_name]
        channel = new_grpc_channel(
            peer["url"].removeprefix("grpcs://"), peer["tlsCACerts"]["pem"].encode(),
            server_name_override=peer["grpcOptions"]["ssl-target-name-override"],
        )  # fmt: skip
        user = info["identities"]["User1"]
        identity = X509Identity(profile["organizations"][org]["mspid"], Path(user["certificate"]).read_bytes())
        signer = new_private_key_signer(load_private_key(Path(user["private_key"]).read_bytes()))
        with connect(identity, signer, channel=channel) as gateway:
            metadata = gateway.get_network("supplychain").get_contract("supplychain").evaluate_transaction(
                "org.hyperledger.fabric:GetMetadata"
            )
        channel.close()
        assert "records" in json.loads(metadata)["contracts"]
        assert set(profile["orderers"]) == {o.host for o in fabric_network.topology.orderers}
        assert profile["certificateAuthorities"][f"ca.{org.lower()}.supplychain.example"]["url"].startswith("https://")
