"""Side-by-side benchmark of the Python Fabric Gateway client (app/fabric) and the official Node client.

Brings up (or reuses) a network of its own, then for each concurrency level runs ``evaluate`` (``GetRecord`` of a
key written beforehand) and ``submit`` (``PutRecord`` of a distinct key per call, ~100-byte value) through both
clients with the same parameters, alternating which client goes first. Prints one table per operation and writes
the raw results to ``bench/results/<timestamp>.json``. See bench/README.md.

    .venv/bin/python bench/gateway_bench.py --concurrency 1,8,50 --calls 400
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))

import grpc  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app.fabric import (  # noqa: E402
    X509Identity,
    connect,
    load_private_key,
    new_grpc_channel,
    new_private_key_signer,
)
from network import Network  # noqa: E402

NODE_DIR = BENCH_DIR / "node"
RESULTS_DIR = BENCH_DIR / "results"
OPERATIONS = ("evaluate", "submit")
VALUE = "v" * 100
MAX_ERROR_MESSAGES = 5
# The README's targets.
TARGET_CPU_MS_PER_SUBMIT = 1.5
TARGET_LOW_LOAD_MARGIN_MS = 80.0

console = Console(width=None if sys.stdout.isatty() else 120)
Result = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """Where and as whom both clients connect: one organisation's peer and its User1 identity."""

    endpoint: str
    host_override: str
    tls_ca_path: str
    msp_id: str
    cert_path: str
    key_path: str
    channel: str
    chaincode: str


def percentile(ascending: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (the same rule as bench.mjs)."""
    if not ascending:
        return None
    return ascending[min(len(ascending) - 1, max(0, math.ceil(q * len(ascending)) - 1))]


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def parse_duration_ms(text: str) -> float:
    """Milliseconds in a Fabric duration such as ``250ms``, ``2s`` or ``1m``."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(ms|s|m)\s*", text)
    if not match:
        raise ValueError(f"unrecognised duration {text!r}")
    return float(match[1]) * {"ms": 1.0, "s": 1000.0, "m": 60_000.0}[match[2]]


def target_for(net: Network, org_name: str) -> Target:
    """The first peer of ``org_name`` as gateway, and the organisation's User1 identity."""
    org = net.topology.org(org_name)
    peer = org.peers[0]
    user = net.status()["organizations"][org_name]["identities"]["User1"]
    cc = net.topology.chaincode
    return Target(
        endpoint=peer.address,
        host_override=peer.host,
        tls_ca_path=str(net.layout.ca_cert(org)),
        msp_id=org.msp_id,
        cert_path=user["certificate"],
        key_path=user["private_key"],
        channel=cc.channel,
        chaincode=cc.name,
    )


class PythonClient:
    """One gRPC channel and one Gateway of the Python client, shared by every thread of a run."""

    def __init__(self, target: Target) -> None:
        self.channel = new_grpc_channel(
            target.endpoint, Path(target.tls_ca_path).read_bytes(), server_name_override=target.host_override
        )
        identity = X509Identity(target.msp_id, Path(target.cert_path).read_bytes())
        self.gateway = connect(
            identity, new_private_key_signer(load_private_key(Path(target.key_path))), channel=self.channel
        )
        self.contract = self.gateway.get_network(target.channel).get_contract(target.chaincode)

    def close(self) -> None:
        """Close the Gateway, then the channel."""
        self.gateway.close()
        self.channel.close()


def _describe(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def run_python(target: Target, operation: str, concurrency: int, calls: int, key_prefix: str, read_key: str) -> Result:
    """Run ``calls`` calls on ``concurrency`` threads through the Python client; same result shape as bench.mjs.

    CPU per call is the whole process's CPU time over the timed run (``time.process_time``) divided by calls: it
    includes gRPC's own threads and Python's thread switching, and nothing else runs in this process meanwhile.
    """
    client = PythonClient(target)
    contract = client.contract
    lock = threading.Lock()
    counter = iter(range(calls))
    latencies: list[float] = []
    messages: list[str] = []
    errors = 0

    def call(n: int) -> None:
        if operation == "submit":
            contract.submit_transaction("PutRecord", f"{key_prefix}-{n}", VALUE)
        else:
            contract.evaluate_transaction("GetRecord", read_key)

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            t0 = time.perf_counter()
            try:
                call(n)
                latencies.append((time.perf_counter() - t0) * 1000)
            except Exception as error:  # every failure is counted and the first few kept
                with lock:
                    errors += 1
                    if len(messages) < MAX_ERROR_MESSAGES:
                        messages.append(_describe(error))

    try:
        # Warm-up (not timed): opens the connection, as bench.mjs does.
        if operation == "submit":
            contract.submit_transaction("PutRecord", f"{key_prefix}-warmup", VALUE)
        else:
            call(0)
        threads = [threading.Thread(target=worker, name=f"bench-{i}") for i in range(concurrency)]
        cpu0, t0 = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        client.close()

    latencies.sort()
    done = len(latencies) + errors
    return {
        "client": "python",
        "operation": operation,
        "concurrency": concurrency,
        "calls": done,
        "errors": errors,
        "error_messages": messages,
        "seconds": _round(seconds),
        "throughput": _round(len(latencies) / seconds),
        "latency_ms": {
            "p50": _round(percentile(latencies, 0.5)),
            "p95": _round(percentile(latencies, 0.95)),
            "p99": _round(percentile(latencies, 0.99)),
            "mean": _round(sum(latencies) / len(latencies) if latencies else None),
            "max": _round(latencies[-1] if latencies else None),
        },
        "cpu_ms_per_call": _round(cpu * 1000 / done if done else None),
        "cpu_ms": _round(cpu * 1000),
        "latencies_ms": [_round(x) for x in latencies],
        "versions": {"python": platform.python_version(), "grpcio": grpc.__version__},
    }


def run_node(
    target: Target, operation: str, concurrency: int, calls: int, key_prefix: str, read_key: str | None
) -> Result:
    """Run the same load through bench/node/bench.mjs (the official Node client) and return its JSON."""
    config: dict[str, Any] = {
        "endpoint": target.endpoint,
        "hostOverride": target.host_override,
        "tlsCaPath": target.tls_ca_path,
        "mspId": target.msp_id,
        "certPath": target.cert_path,
        "keyPath": target.key_path,
        "channel": target.channel,
        "chaincode": target.chaincode,
        "operation": operation,
        "concurrency": concurrency,
        "calls": calls,
        "keyPrefix": key_prefix,
        "valueBytes": len(VALUE),
    }
    if read_key is not None:
        config["readKey"] = read_key
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(config, file)
    try:
        proc = subprocess.run(
            ["node", str(NODE_DIR / "bench.mjs"), file.name], cwd=NODE_DIR, capture_output=True, text=True
        )
    finally:
        os.unlink(file.name)
    if proc.returncode != 0 or not proc.stdout.strip():
        message = " ".join((proc.stderr or proc.stdout or f"exit code {proc.returncode}").split())[-500:]
        return {"client": "node", "operation": operation, "concurrency": concurrency, "calls": 0, "errors": 1,
                "error_messages": [message], "seconds": None, "throughput": None, "cpu_ms_per_call": None,
                "latency_ms": {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}}  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


def merge(rounds: list[Result]) -> Result:
    """One result from several rounds of the same client, operation and level: latencies pooled, totals summed."""
    if len(rounds) == 1:
        return rounds[0]
    latencies = sorted(x for r in rounds for x in r.get("latencies_ms", []))
    calls = sum(r["calls"] for r in rounds)
    seconds = sum(r["seconds"] or 0 for r in rounds)
    cpu = sum(r.get("cpu_ms") or 0 for r in rounds)
    merged = {k: v for k, v in rounds[0].items() if k not in ("latencies_ms",)}
    merged.update(
        calls=calls,
        errors=sum(r["errors"] for r in rounds),
        error_messages=[m for r in rounds for m in r["error_messages"]][:MAX_ERROR_MESSAGES],
        seconds=_round(seconds),
        throughput=_round(len(latencies) / seconds) if seconds else None,
        latency_ms={
            "p50": _round(percentile(latencies, 0.5)),
            "p95": _round(percentile(latencies, 0.95)),
            "p99": _round(percentile(latencies, 0.99)),
            "mean": _round(sum(latencies) / len(latencies) if latencies else None),
            "max": _round(latencies[-1] if latencies else None),
        },
        cpu_ms=_round(cpu),
        cpu_ms_per_call=_round(cpu / calls if calls else None),
        rounds=len(rounds),
    )
    return merged


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is zero."""
    return None if a is None or not b else round(a / b, 3)


def pair_ratios(python: Result, node: Result) -> dict[str, float | None]:
    """Python/Node throughput ratio (higher is better) and p50 latency ratio (lower is better)."""
    return {
        "throughput": ratio(python["throughput"], node["throughput"]),
        "p50": ratio(python["latency_ms"]["p50"], node["latency_ms"]["p50"]),
    }


def _fmt(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_table(operation: str, pairs: list[tuple[Result, Result]], calls: int) -> None:
    """One table for ``operation``: a row per client and concurrency, ratios on the Python rows."""
    title = f"{operation}: {calls} calls per client and level; latency and CPU in ms; ratios are Python/Node"
    table = Table(title=title, title_justify="left")
    for name in ("conc", "client", "tx/s", "p50", "p95", "p99", "CPU/call", "errors", "tx/s ratio", "p50 ratio"):
        table.add_column(name, justify="left" if name == "client" else "right", no_wrap=True)
    for python, node in pairs:
        r = pair_ratios(python, node)
        for res, ratios in ((python, (r["throughput"], r["p50"])), (node, (None, None))):
            lat = res["latency_ms"]
            table.add_row(
                str(res["concurrency"]), res["client"], _fmt(res["throughput"]), _fmt(lat["p50"]), _fmt(lat["p95"]),
                _fmt(lat["p99"]), _fmt(res["cpu_ms_per_call"], 2), str(res["errors"]),
                _fmt(ratios[0], 2) if res is python else "", _fmt(ratios[1], 2) if res is python else "",
                end_section=res is node,
            )  # fmt: skip
    console.print(table)
    for python, node in pairs:
        for res in (python, node):
            for message in res["error_messages"]:
                console.print(f"[red]{res['client']} {operation} c={res['concurrency']}:[/red] {message}")


def check_targets(submits: list[tuple[Result, Result]], batch_timeout_ms: float) -> list[dict[str, Any]]:
    """The README's targets for submit, each with the measured value and whether it was met."""
    if not submits:
        return []
    ratios = [pair_ratios(p, n) for p, n in submits]
    throughput = [r["throughput"] for r in ratios]
    p50 = [r["p50"] for r in ratios]
    cpu = [p["cpu_ms_per_call"] for p, _ in submits]
    low = min(submits, key=lambda pair: pair[0]["concurrency"])[0]
    limit = batch_timeout_ms + TARGET_LOW_LOAD_MARGIN_MS
    clean = all(p["errors"] == 0 and n["errors"] == 0 for p, n in submits)
    return [
        {"target": "no errors", "value": clean, "met": clean},
        {"target": "submit tx/s ratio >= 1 at every concurrency", "value": throughput,
         "met": None not in throughput and min(throughput) >= 1},
        {"target": "submit p50 ratio <= 1 at every concurrency", "value": p50,
         "met": None not in p50 and max(p50) <= 1},
        {"target": f"Python CPU per submit <= {TARGET_CPU_MS_PER_SUBMIT} ms", "value": cpu,
         "met": None not in cpu and max(cpu) <= TARGET_CPU_MS_PER_SUBMIT},
        {"target": f"Python submit p50 at concurrency {low['concurrency']} <= {limit:.0f} ms (BatchTimeout + "
                   f"{TARGET_LOW_LOAD_MARGIN_MS:.0f})", "value": low["latency_ms"]["p50"],
         "met": low["latency_ms"]["p50"] is not None and low["latency_ms"]["p50"] <= limit},
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run every measurement, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=BENCH_DIR / "run", help="network home (default: bench/run)")
    parser.add_argument("--base-port", type=int, default=17000, help="network base port (default: 17000)")
    parser.add_argument("--concurrency", default="1,8,50", help="comma-separated levels (default: 1,8,50)")
    parser.add_argument("--calls", type=int, default=400, help="calls per client, operation and level (default: 400)")
    parser.add_argument("--org", default="Producer", help="organisation whose peer and User1 are used")
    parser.add_argument("--rounds", type=int, default=4,
                        help="split each run into this many rounds, alternating which client goes first (default: 4)")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    if not levels or min(levels) < 1 or args.calls < 1 or args.rounds < 1:
        parser.error("concurrency levels, --calls and --rounds must be positive")
    if not (NODE_DIR / "node_modules").is_dir():
        parser.error(f"run `npm ci` in {NODE_DIR} first")

    net = Network.open(args.home, args.base_port, report=lambda message: console.log(f"[dim]{message}"))
    console.log(f"bringing up (or reusing) the network in {net.home} on base port {net.topology.base_port}")
    net.up()
    target = target_for(net, args.org)
    batch_timeout = net.topology.batch_timeout
    console.print(f"BatchTimeout: [bold]{batch_timeout}[/bold]; gateway {target.endpoint} as {target.msp_id} User1")

    run_id = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    read_key: str | None = f"bench-{run_id}-read"
    try:
        seeder = PythonClient(target)
        try:
            seeder.contract.submit_transaction("PutRecord", read_key, VALUE)
        finally:
            seeder.close()
    except Exception as error:
        console.print(f"[red]could not write the read key through the Python client:[/red] {_describe(error)}")
        read_key = None  # bench.mjs writes its own; the Python evaluate runs will show the failure

    pairs: dict[str, list[tuple[Result, Result]]] = {op: [] for op in OPERATIONS}
    per_round = max(1, -(-args.calls // args.rounds))
    for level in levels:
        for operation in OPERATIONS:
            # Rounds alternate which client goes first, so that drift (block timing, warm caches, the other
            # processes on the machine) falls on both clients alike.
            rounds: dict[str, list[Result]] = {"python": [], "node": []}
            for r in range(args.rounds):
                for client in ("python", "node") if r % 2 == 0 else ("node", "python"):
                    prefix = f"bench-{run_id}-{client}-{operation}-c{level}-r{r}"
                    console.log(f"{operation} c={level} {client} round {r + 1}/{args.rounds} ({per_round} calls)")
                    if client == "python":
                        rounds[client].append(run_python(target, operation, level, per_round, prefix, read_key or ""))
                    else:
                        rounds[client].append(run_node(target, operation, level, per_round, prefix, read_key))
            pairs[operation].append((merge(rounds["python"]), merge(rounds["node"])))

    for operation in OPERATIONS:
        print_table(operation, pairs[operation], args.calls)
    targets = check_targets(pairs["submit"], parse_duration_ms(batch_timeout))
    if targets:
        table = Table(title="targets (submit)", title_justify="left")
        for name in ("target", "measured", "met"):
            table.add_column(name)
        for t in targets:
            table.add_row(t["target"], str(t["value"]), "[green]yes" if t["met"] else "[red]no")
        console.print(table)

    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{run_id}.json"
    out.write_text(json.dumps({
        "run_id": run_id,
        "network": {"home": str(net.home), "base_port": net.topology.base_port, "batch_timeout": batch_timeout,
                    "target": asdict(target)},
        "parameters": {"concurrency": levels, "calls": args.calls, "rounds": args.rounds, "org": args.org,
                       "value_bytes": len(VALUE)},
        "results": [res for op in OPERATIONS for pair in pairs[op] for res in pair],
        "ratios": {op: [{"concurrency": p["concurrency"], **pair_ratios(p, n)} for p, n in pairs[op]]
                   for op in OPERATIONS},
        "targets": targets,
        "host": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform()},
    }, indent=2))  # fmt: skip
    console.print(f"raw results: {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
