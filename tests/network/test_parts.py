"""The network's parts on their own: builder scripts, packaging, processes, errors. No Fabric needed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from network import Network, NetworkError, binaries, chaincode, processes
from network.nodes import CCAAS_BUILDER
from network.topology import TopologyError, load


def _run_builder(step: str, *args: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CCAAS_BUILDER / "bin" / step), *map(str, args)], capture_output=True, text=True)


def test_ccaas_detect_claims_only_ccaas_packages(tmp_path):
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "metadata.json").write_text(json.dumps({"type": "ccaas", "label": "x"}))
    assert _run_builder("detect", tmp_path, meta).returncode == 0
    (meta / "metadata.json").write_text(json.dumps({"type": "golang", "label": "x"}))
    assert _run_builder("detect", tmp_path, meta).returncode == 1


def test_ccaas_build_and_release_hand_connection_json_and_indexes_to_the_peer(tmp_path):
    source, out, release = tmp_path / "src", tmp_path / "out", tmp_path / "release"
    (source / "META-INF" / "statedb" / "couchdb" / "indexes").mkdir(parents=True)
    (source / "META-INF" / "statedb" / "couchdb" / "indexes" / "byOwner.json").write_text("{}")
    (source / "connection.json").write_text(json.dumps({"address": "127.0.0.1:9999"}))
    assert _run_builder("build", source, tmp_path, out).returncode == 0
    assert _run_builder("release", out, release).returncode == 0
    assert json.loads((release / "chaincode" / "server" / "connection.json").read_text())["address"] == "127.0.0.1:9999"
    assert (release / "statedb" / "couchdb" / "indexes" / "byOwner.json").exists()


def test_ccaas_build_rejects_a_package_without_an_address(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    missing = _run_builder("build", source, tmp_path, tmp_path / "out")
    assert missing.returncode != 0 and "connection.json is missing" in missing.stderr
    (source / "connection.json").write_text(json.dumps({"dial_timeout": "10s"}))
    no_address = _run_builder("build", source, tmp_path, tmp_path / "out")
    assert no_address.returncode != 0 and "no valid address" in no_address.stderr


def test_packages_are_reproducible(tmp_path):
    first = chaincode._tar({"b.json": b"2", "a.json": b"1"})
    second = chaincode._tar({"a.json": b"1", "b.json": b"2"})
    assert first == second
    path = tmp_path / "p.tgz"
    path.write_bytes(first)
    with tarfile.open(path) as tar:
        assert [m.name for m in tar.getmembers()] == ["a.json", "b.json"]
        assert all(m.mtime == 0 for m in tar.getmembers())


def test_source_version_follows_the_chaincode_source():
    topo = load()
    assert chaincode.source_version(topo) == chaincode.source_version(topo)
    assert len(chaincode.source_version(topo)) == 12


def test_a_node_that_dies_during_start_up_is_named_with_its_log_tail(tmp_path):
    log, pid_file = tmp_path / "n.log", tmp_path / "n.pid"
    code = "import sys; print('fatal: bad configuration for the test'); sys.exit(3)"
    processes.start("orderer9.test", [sys.executable, "-c", code], {}, log, pid_file, tmp_path)
    with pytest.raises(processes.NodeError) as err:
        processes.wait_healthy("orderer9.test", "https://127.0.0.1:1/healthz", None, pid_file, log, timeout=10)
    assert "orderer9.test exited with status 3 during start-up" in str(err.value)
    assert "fatal: bad configuration for the test" in str(err.value)


def test_a_port_in_use_is_reported_with_its_holder_and_nothing_starts(tmp_path):
    net = Network.open(tmp_path / "net", base_port=24000)
    port = net.topology.org("Retailer").peers[0].port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        with pytest.raises(NetworkError) as err:
            net._check_ports()
    message = str(err.value)
    assert f"port {port} (peer0.retailer) is in use by python" in message
    assert f"(pid {__import__('os').getpid()})" in message
    assert all(n["pid"] is None for n in net.status()["nodes"])


def test_stop_is_graceful_and_forgets_the_pid(tmp_path):
    pid_file = tmp_path / "sleep.pid"
    processes.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path / "s.log", pid_file, tmp_path)
    assert processes.running_pid(pid_file) is not None
    assert processes.stop(pid_file, timeout=5) is True
    assert processes.running_pid(pid_file) is None and not pid_file.exists()
    assert processes.stop(pid_file) is False


def test_a_missing_go_toolchain_stops_the_build_with_a_clear_message(monkeypatch):
    topo = load()
    changed = {**topo.binaries, "fabric": {**topo.binaries["fabric"], "release": "0.0.0-test"}}
    object.__setattr__(topo, "binaries", changed)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(binaries.BuildError, match="Go toolchain is not on PATH"):
        binaries.ensure(topo)


def test_a_base_port_without_room_is_refused():
    with pytest.raises(TopologyError, match="leaves no room"):
        load(base_port=65400)


def test_a_network_keeps_the_base_port_it_was_created_with(tmp_path):
    home = tmp_path / "net"
    home.mkdir()
    (home / "network.json").write_text(json.dumps({"base_port": 31000}))
    assert Network.open(home).topology.base_port == 31000
    with pytest.raises(NetworkError, match="created on base port 31000"):
        Network.open(home, base_port=32000)


def test_a_base_port_in_the_ephemeral_range_is_refused_before_anything_starts(tmp_path):
    from network.topology import ephemeral_ports

    ephemeral = ephemeral_ports()
    assert ephemeral is not None
    net = Network.open(tmp_path / "net", base_port=ephemeral.start + 100)
    with pytest.raises(NetworkError, match="ephemeral port range"):
        net._check_ports()
