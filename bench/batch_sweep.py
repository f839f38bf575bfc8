"""BatchTimeout sweep: submit latency and throughput of the Python client for several batch timeouts.

BatchTimeout is fixed in a channel's genesis block, so each value gets a network of its own (in a temporary
folder, base port 19000, removed afterwards). For each value it submits at 1, 8 and 50 concurrent callers and
prints p50/p95 latency and throughput, to choose ``ordering.batch_timeout`` in network/topology.yaml.

    .venv/bin/python bench/batch_sweep.py --timeouts 100ms,250ms,500ms,2s
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app.fabric import X509Identity, connect, load_private_key, new_grpc_channel, new_private_key_signer  # noqa: E402
from network import Network  # noqa: E402
from network.topology import load  # noqa: E402

LEVELS = ((1, 30), (8, 120), (50, 400))  # (concurrent callers, submits)
console = Console()


def measure(net: Network) -> list[dict]:
    """Submit through Producer's peer at each level; latency percentiles in ms and throughput."""
    org = net.topology.org("Producer")
    peer = org.peers[0]
    msp = net.layout.identity(org, "User1") / "msp"
    channel = new_grpc_channel(peer.address, net.layout.ca_cert(org).read_bytes(), server_name_override=peer.host)
    signer = new_private_key_signer(load_private_key((msp / "keystore" / "key.pem").read_bytes()))
    gateway = connect(X509Identity(org.msp_id, (msp / "signcerts" / "cert.pem").read_bytes()), signer, channel=channel)
    contract = gateway.get_network("supplychain").get_contract("supplychain")
    contract.submit_transaction("PutRecord", "warm-up", "x")
    rows = []
    try:
        for callers, count in LEVELS:
            latencies: list[float] = []

            def submit(_: int) -> None:
                t0 = time.perf_counter()
                contract.submit_transaction("PutRecord", uuid.uuid4().hex, "v" * 100)
                latencies.append((time.perf_counter() - t0) * 1000)

            start = time.perf_counter()
            with ThreadPoolExecutor(callers) as pool:
                list(pool.map(submit, range(count)))
            seconds = time.perf_counter() - start
            latencies.sort()
            rows.append({
                "callers": callers,
                "p50": latencies[len(latencies) // 2],
                "p95": latencies[int(len(latencies) * 0.95) - 1],
                "tx_per_s": count / seconds,
            })  # fmt: skip
    finally:
        gateway.close()
        channel.close()
    return rows


def main() -> None:
    """Run the sweep and print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeouts", default="100ms,250ms,500ms,2s", help="comma-separated BatchTimeout values")
    parser.add_argument("--base-port", type=int, default=19000)
    args = parser.parse_args()
    table = Table(title="BatchTimeout sweep (Python client, submit, 2 of 3 endorsements)")
    for col in ("BatchTimeout", "callers", "p50 ms", "p95 ms", "tx/s"):
        table.add_column(col, justify="right")
    for timeout in args.timeouts.split(","):
        topology = dataclasses.replace(load(base_port=args.base_port), batch_timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="batch-sweep-") as home:
            net = Network(topology, Path(home))
            console.log(f"BatchTimeout {timeout}: starting a network")
            try:
                net.up()
                for row in measure(net):
                    table.add_row(timeout, str(row["callers"]), f"{row['p50']:.0f}", f"{row['p95']:.0f}",
                                  f"{row['tx_per_s']:.1f}")  # fmt: skip
            finally:
                net.clean()
    console.print(table)


if __name__ == "__main__":
    main()
