"""Provenance benchmark: traces of large lineages, and EPCIS capture of 1,000 events through the gateway API.

Brings up (or reuses) a network of its own (``bench/run-provenance``, base port 18000) and the Producer's gateway
process (gunicorn, as ``python -m app up`` starts it, on port 18900), then measures:

1. **Trace**: for each lineage size (200, 500, 1000, 2000 nodes by default) it builds an egg lineage -- eggs
   commissioned per flock, pooled into liquid-egg batches by TransformationEvents, the batches made into one retail
   pack by a last TransformationEvent -- and times ``TraceUpstream`` of the pack: an evaluate through the Python
   Gateway client straight to the Producer's peer, and ``GET /api/v1/objects/<pack>/upstream`` through the gateway.
2. **Capture**: 1,000 single-egg commissioning events captured through the gateway API over HTTP: (a) as EPCIS
   documents of the largest size the chaincode accepts, (b) as documents of 100 events, (c) as one
   ``POST /api/v1/events`` per event from N concurrent clients.

Prints tables and writes the raw results to ``bench/results/provenance-<timestamp>.json``. Leaves the network and
the gateway running. See bench/README.md.

    .venv/bin/python bench/provenance_bench.py
    .venv/bin/python bench/provenance_bench.py --trace-sizes 200,1000 --events 200   # a quick check
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app import launcher  # noqa: E402
from app.fabric import (  # noqa: E402
    X509Identity,
    connect,
    load_private_key,
    new_grpc_channel,
    new_private_key_signer,
)
from app.fabric.client import Timeouts  # noqa: E402
from chaincode.supplychain.provenance import queries  # noqa: E402
from chaincode.supplychain.provenance.events import MAX_EVENTS_PER_CAPTURE  # noqa: E402
from chaincode.supplychain.provenance.identifiers import check_digit  # noqa: E402
from network import Network  # noqa: E402
from tests.chaincode.epcis import COMPANY, CONTEXT, FARM, PACKER  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
ORG = "Producer"
EGGS_PER_FLOCK = 100  # one commissioning event per flock (house), its eggs in one lot
EGGS_PER_BATCH = 250  # eggs broken into one liquid-egg batch (one TransformationEvent)
FLOCKS_PER_DOCUMENT = 3  # commissioning: 300 eggs per CaptureEvents transaction
BATCHES_PER_DOCUMENT = 2  # transformations: 500 inputs per CaptureEvents transaction
# The Python client's default evaluate deadline (app/fabric Timeouts), which the gateway app runs with.
CLIENT_EVALUATE_DEADLINE_S = Timeouts().evaluate
MAX_ERROR_MESSAGES = 5

console = Console(width=None if sys.stdout.isatty() else 140)
Result = dict[str, Any]


def percentile(ascending: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ascending:
        return None
    return ascending[min(len(ascending) - 1, max(0, math.ceil(q * len(ascending)) - 1))]


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def gtin(item_ref: str) -> str:
    body = item_ref[0] + COMPANY + item_ref[1:]
    return body + check_digit(body)


def sgtin(item_ref: str, serial: str) -> str:
    return f"urn:epc:id:sgtin:{COMPANY}.{item_ref}.{serial}"


class Clock:
    """Event times: one second apart, ending before now, so no event is later than its transaction."""

    def __init__(self, count_hint: int = 100_000):
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=count_hint + 3600)
        self._next = start.replace(microsecond=0)

    def __call__(self) -> str:
        self._next += datetime.timedelta(seconds=1)
        return self._next.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _event(kind: str, time_: str, **fields) -> dict:
    return {"type": kind, "eventTime": time_, "eventTimeZoneOffset": "+00:00", **fields}


def document(events: list[dict]) -> dict:
    """An EPCIS 2.0 EPCISDocument carrying ``events``."""
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": created,
            "epcisBody": {"eventList": events}}  # fmt: skip


def product_class(gtin_: str, name: str) -> dict:
    return {"gtin": gtin_, "name": name, "handling": {"temperature": {"min": 1, "max": 8}}}


class Products:
    """Item references of this run (fresh, so a rerun never collides with what an earlier run left)."""

    def __init__(self) -> None:
        refs = random.sample(range(10_000, 100_000), 4)
        self.eggs, self.batch, self.pack, self.single = (f"8{r}" for r in refs)

    def classes(self) -> list[dict]:
        return [product_class(gtin(self.eggs), "Free-range eggs"),
                product_class(gtin(self.batch), "Liquid whole egg, 1000 l batch"),
                product_class(gtin(self.pack), "Egg salad, retail pack"),
                product_class(gtin(self.single), "Free-range egg, single")]  # fmt: skip


# --- the direct Gateway client (trace evaluates and lineage set-up) ------------------------------------------------


class Peer:
    """The Producer's first peer through the Python Gateway client, as its User1."""

    def __init__(self, net: Network, evaluate_deadline: float):
        org = net.topology.org(ORG)
        peer = org.peers[0]
        user = net.status()["organizations"][ORG]["identities"]["User1"]
        self.channel = new_grpc_channel(peer.address, net.layout.ca_cert(org).read_bytes(),
                                        server_name_override=peer.host)  # fmt: skip
        timeouts = Timeouts(evaluate=evaluate_deadline, endorse=120.0, submit=30.0, commit_status=120.0)
        self.gateway = connect(X509Identity(org.msp_id, Path(user["certificate"]).read_bytes()),
                               new_private_key_signer(load_private_key(Path(user["private_key"]))),
                               channel=self.channel, timeouts=timeouts)  # fmt: skip
        cc = net.topology.chaincode
        self.contract = self.gateway.get_network(cc.channel).get_contract(cc.name, "provenance")

    def submit(self, name: str, *args: str) -> dict:
        return json.loads(self.contract.submit_transaction(name, *args))

    def evaluate_raw(self, name: str, *args: str) -> bytes:
        return self.contract.evaluate_transaction(name, *args)

    def close(self) -> None:
        self.gateway.close()
        self.channel.close()


def lineage_shape(target_nodes: int) -> dict:
    """Eggs, flocks and batches whose upstream trace from the pack has ``target_nodes`` nodes (or just over).

    Nodes: the pack, its lot, one per batch, one per egg, one per flock lot.
    """
    eggs = max(1, target_nodes - 3)
    while True:
        flocks, batches = math.ceil(eggs / EGGS_PER_FLOCK), math.ceil(eggs / EGGS_PER_BATCH)
        nodes = 2 + batches + eggs + flocks
        if nodes <= target_nodes or eggs == 1:
            return {"eggs": eggs, "flocks": flocks, "batches": batches, "nodes": nodes}
        eggs -= 1


def build_lineage(peer: Peer, products: Products, clock: Clock, name: str, target_nodes: int) -> dict:
    """Capture an egg lineage of about ``target_nodes`` nodes; returns its shape, the pack's EPC and set-up time."""
    shape = lineage_shape(target_nodes)
    eggs = [sgtin(products.eggs, f"{name}E{n}") for n in range(shape["eggs"])]
    flocks = [eggs[i:i + EGGS_PER_FLOCK] for i in range(0, len(eggs), EGGS_PER_FLOCK)]
    t0, transactions = time.perf_counter(), 0
    commissions = []
    for f, flock in enumerate(flocks):
        ilmd = {"lotNumber": f"{name}F{f}", "ex:farm": f"Farm {f % 7}", "ex:house": f"H{f}",
                "ex:flock": f"F-2026-{f:03d}", "layDate": clock()[:10]}  # fmt: skip
        commissions.append(_event("ObjectEvent", clock(), epcList=flock, action="ADD", bizStep="commissioning",
                                  disposition="active", readPoint={"id": FARM}, bizLocation={"id": FARM},
                                  ilmd=ilmd))  # fmt: skip
    for i in range(0, len(commissions), FLOCKS_PER_DOCUMENT):
        peer.submit("CaptureEvents", json.dumps(document(commissions[i:i + FLOCKS_PER_DOCUMENT])))
        transactions += 1
    batches, transformations = [], []
    for b in range(0, len(eggs), EGGS_PER_BATCH):
        batch = sgtin(products.batch, f"{name}B{b // EGGS_PER_BATCH}")
        batches.append(batch)
        transformations.append(_event("TransformationEvent", clock(), inputEPCList=eggs[b:b + EGGS_PER_BATCH],
                                      outputEPCList=[batch], bizStep="commissioning", bizLocation={"id": PACKER},
                                      ilmd={"ex:process": "broken, pasteurised"}))  # fmt: skip
    for i in range(0, len(transformations), BATCHES_PER_DOCUMENT):
        peer.submit("CaptureEvents", json.dumps(document(transformations[i:i + BATCHES_PER_DOCUMENT])))
        transactions += 1
    pack = sgtin(products.pack, f"{name}P")
    made = _event("TransformationEvent", clock(), inputEPCList=batches, outputEPCList=[pack], bizStep="commissioning",
                  bizLocation={"id": PACKER}, ilmd={"lotNumber": f"{name}P", "ex:recipe": "egg salad"})  # fmt: skip
    peer.submit("CaptureEvents", json.dumps(document([made])))
    transactions += 1
    return {**shape, "pack": pack, "setup_seconds": _r(time.perf_counter() - t0, 2), "setup_transactions": transactions}


def measure_trace(peer: Peer, gateway: "GatewayApi | None", lineage: dict, repeats: int) -> Result:
    """Time ``repeats`` evaluates of TraceUpstream of the pack (after one untimed), and the same through HTTP."""
    pack = lineage["pack"]
    raw = peer.evaluate_raw("TraceUpstream", pack)  # warm-up, and the response to describe
    trace = json.loads(raw)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        peer.evaluate_raw("TraceUpstream", pack)
        times.append((time.perf_counter() - t0) * 1000)
    result = {
        "target_nodes": lineage["target"], **{k: lineage[k] for k in ("eggs", "flocks", "batches", "pack")},
        "setup_seconds": lineage["setup_seconds"], "setup_transactions": lineage["setup_transactions"],
        "nodes": len(trace["nodes"]), "edges": len(trace["edges"]), "origins": len(trace["origins"]),
        "truncated": trace["truncated"], "max_nodes": trace["maxNodes"], "response_bytes": len(raw),
        "evaluate_ms": [_r(t, 1) for t in times], "evaluate_ms_median": _r(statistics.median(times), 1),
        "evaluate_ms_min": _r(min(times), 1), "evaluate_ms_max": _r(max(times), 1),
        "ms_per_node": _r(statistics.median(times) / len(trace["nodes"]), 3),
    }  # fmt: skip
    if gateway is not None:
        http_times, status, size = [], None, None
        for _ in range(max(1, repeats // 2)):
            t0 = time.perf_counter()
            resp = gateway.session.get(f"{gateway.url}/api/v1/objects/{pack}/upstream", timeout=120)
            http_times.append((time.perf_counter() - t0) * 1000)
            status, size = resp.status_code, len(resp.content)
        result.update(http_status=status, http_bytes=size, http_ms_median=_r(statistics.median(http_times), 1),
                      http_ms=[_r(t, 1) for t in http_times])  # fmt: skip
    return result


# --- the gateway API over HTTP ------------------------------------------------------------------------------------


class GatewayApi:
    """The Producer's gateway process: its URL and a bearer token of its admin user."""

    def __init__(self, process: launcher.GatewayProcess, password: str):
        self.url = process.url
        self.session = requests.Session()
        resp = self.session.post(f"{self.url}/api/v1/auth/tokens",
                                 json={"username": launcher.ADMIN, "password": password}, timeout=30)  # fmt: skip
        resp.raise_for_status()
        self.token = resp.json()["token"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def client(self) -> requests.Session:
        """A session of its own (one per concurrent client), with the same token."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def post(self, session: requests.Session, path: str, body: dict) -> requests.Response:
        return session.post(f"{self.url}{path}", json=body, headers={"Idempotency-Key": uuid.uuid4().hex},
                            timeout=300)  # fmt: skip


def single_egg_events(products: Products, clock: Clock, mode: str, count: int) -> list[dict]:
    """``count`` commissioning events of one egg each (no lot, so concurrent captures share no key)."""
    return [_event("ObjectEvent", clock(), epcList=[sgtin(products.single, f"{mode}{n}")], action="ADD",
                   bizStep="commissioning", disposition="active", readPoint={"id": FARM}, bizLocation={"id": FARM},
                   ilmd={"ex:farm": "Hillside Farm", "ex:house": f"H{n % 12}", "ex:flock": "F-2026-001"})
            for n in range(count)]  # fmt: skip


def run_capture(api: GatewayApi, mode: str, requests_: list[tuple[str, dict]], clients: int, events: int) -> Result:
    """POST every (path, body) on ``clients`` concurrent sessions; time the whole and each request."""
    lock, queue = threading.Lock(), iter(requests_)
    latencies: list[float] = []
    messages: list[str] = []
    failed = 0

    def worker() -> None:
        nonlocal failed
        session = api.client()
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            t0 = time.perf_counter()
            try:
                resp = api.post(session, *item)
                ok = resp.status_code == 201
                message = "" if ok else f"HTTP {resp.status_code}: {resp.text[:300]}"
            except Exception as err:  # counted and reported
                ok, message = False, f"{type(err).__name__}: {err}"
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failed += 1
                    if len(messages) < MAX_ERROR_MESSAGES:
                        messages.append(" ".join(message.split()))

    threads = [threading.Thread(target=worker, name=f"capture-{i}") for i in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    latencies.sort()
    per_request = events / len(requests_)
    captured = round(len(latencies) * per_request)
    return {
        "mode": mode, "events": events, "requests": len(requests_), "events_per_request": per_request,
        "clients": clients, "failed_requests": failed, "error_messages": messages, "captured_events": captured,
        "seconds": _r(seconds), "events_per_s": _r(captured / seconds, 1),
        "ms_per_event": _r(seconds * 1000 / captured, 2) if captured else None,
        "request_ms": {"p50": _r(percentile(latencies, 0.5), 1), "p95": _r(percentile(latencies, 0.95), 1),
                       "max": _r(latencies[-1] if latencies else None, 1)},
    }  # fmt: skip


def capture_modes(api: GatewayApi, products: Products, clock: Clock, events: int, doc_size: int,
                  clients: int, tag: str) -> list[Result]:  # fmt: skip
    """The three ways of capturing ``events`` events: largest documents, ``doc_size`` documents, single events."""
    largest = MAX_EVENTS_PER_CAPTURE
    results = []
    for mode, size in ((f"a: documents of {largest}", largest), (f"b: documents of {doc_size}", doc_size)):
        batch = single_egg_events(products, clock, f"{tag}{mode[0]}", events)
        bodies = [("/api/v1/capture", document(batch[i:i + size])) for i in range(0, events, size)]
        results.append(run_capture(api, mode, bodies, 1, events))
        show_progress(results[-1])
    batch = single_egg_events(products, clock, f"{tag}c", events)
    bodies = [("/api/v1/events", e) for e in batch]
    results.append(run_capture(api, f"c: single events, {clients} clients", bodies, clients, events))
    show_progress(results[-1])
    return results


def show_progress(result: Result) -> None:
    console.log(f"{result['mode']}: {result['captured_events']} events in {result['seconds']} s"
                f" ({result['failed_requests']} failed requests)")  # fmt: skip
    for message in result["error_messages"]:
        console.log(f"  [red]{message}[/]")


# --- output -------------------------------------------------------------------------------------------------------


def trace_table(results: list[Result]) -> Table:
    table = Table(title=f"TraceUpstream of the pack (bound MAX_TRACE_NODES = {results[0]['max_nodes']}; "
                        f"evaluate = Python client -> Producer peer; HTTP = GET .../upstream via the gateway)")
    for column in ("target", "eggs", "nodes", "edges", "truncated", "response KB", "evaluate ms p50",
                   "min..max", "ms/node", "HTTP ms p50", "HTTP KB", "HTTP status", "set-up s"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(str(r["target_nodes"]), str(r["eggs"]), str(r["nodes"]), str(r["edges"]), str(r["truncated"]),
                      f"{r['response_bytes'] / 1024:.0f}", f"{r['evaluate_ms_median']:.0f}",
                      f"{r['evaluate_ms_min']:.0f}..{r['evaluate_ms_max']:.0f}", f"{r['ms_per_node']:.2f}",
                      f"{r['http_ms_median']:.0f}" if "http_ms_median" in r else "-",
                      f"{r['http_bytes'] / 1024:.0f}" if r.get("http_bytes") else "-",
                      str(r.get("http_status", "-")), f"{r['setup_seconds']:.0f}")  # fmt: skip
    return table


def capture_table(results: list[Result]) -> Table:
    table = Table(title="EPCIS capture of the same number of events through the gateway API (HTTP, gunicorn)")
    for column in ("mode", "requests", "clients", "seconds", "events/s", "ms/event", "request p50 ms",
                   "request p95 ms", "failed"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(r["mode"], str(r["requests"]), str(r["clients"]), f"{r['seconds']:.2f}",
                      f"{r['events_per_s']:.1f}",
                      f"{r['ms_per_event']:.2f}" if r["ms_per_event"] else "-", f"{r['request_ms']['p50']}",
                      f"{r['request_ms']['p95']}", str(r["failed_requests"]))  # fmt: skip
    return table


def ratios(results: list[Result]) -> dict[str, float | None]:
    rate = {r["mode"][0]: r["events_per_s"] for r in results}
    pairs = (("a/b", "a", "b"), ("a/c", "a", "c"), ("b/c", "b", "c"))
    return {name: _r(rate[x] / rate[y], 2) if rate.get(x) and rate.get(y) else None for name, x, y in pairs}


# --- main ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=BENCH_DIR / "run-provenance", help="network home")
    parser.add_argument("--base-port", type=int, default=18000, help="the network's base port")
    parser.add_argument("--gateway-port", type=int, default=18900, help="gateway base port (Producer listens here)")
    parser.add_argument("--instance", type=Path, default=BENCH_DIR / "run-provenance-gateway",
                        help="the gateway's instance folder (database, secrets, logs)")  # fmt: skip
    parser.add_argument("--trace-sizes", default="200,500,1000,2000", help="lineage sizes in nodes, or '' to skip")
    parser.add_argument("--repeats", type=int, default=5, help="timed evaluates per lineage")
    parser.add_argument("--evaluate-deadline", type=float, default=120.0,
                        help="the bench client's evaluate deadline in s (generous, to measure past the default)")
    parser.add_argument("--events", type=int, default=1000, help="events per capture mode, or 0 to skip")
    parser.add_argument("--doc-size", type=int, default=100, help="events per document in mode b")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in mode c")
    parser.add_argument("--rounds", type=int, default=1, help="times to run the three capture modes")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.trace_sizes.split(",") if s.strip()]
    logging.getLogger("urllib3").setLevel(logging.WARNING)

    net = Network.open(args.home, args.base_port, lambda step: console.log(f"[dim]{step}[/]"))
    console.log(f"network {args.home} on base port {args.base_port}: up")
    started = net.up()
    console.log(f"network ready in {started['seconds']} s; MAX_TRACE_NODES = {queries.MAX_TRACE_NODES}, "
                f"MAX_EVENTS_PER_CAPTURE = {MAX_EVENTS_PER_CAPTURE}; load average {os.getloadavg()}")  # fmt: skip
    process = launcher.gateways(args.instance.resolve(), args.home.resolve(), args.gateway_port)[0]
    assert process.org == ORG
    launcher.up(process)
    api = GatewayApi(process, launcher.ensure_admin(process))
    console.log(f"gateway of {ORG} at {process.url}")

    products, clock, run_tag = Products(), Clock(), uuid.uuid4().hex[:4].upper()
    peer = Peer(net, args.evaluate_deadline)
    traces, captures = [], []
    try:
        for product in products.classes():
            api.post(api.session, "/api/v1/products", product).raise_for_status()
        for size in sizes:
            lineage = build_lineage(peer, products, clock, f"{run_tag}N{size}", size)
            lineage["target"] = size
            console.log(f"lineage of {lineage['nodes']} nodes captured in {lineage['setup_seconds']} s "
                        f"({lineage['setup_transactions']} transactions)")  # fmt: skip
            traces.append(measure_trace(peer, api, lineage, args.repeats))
            console.log(f"  trace: {traces[-1]['nodes']} nodes, {traces[-1]['response_bytes']} bytes, "
                        f"{traces[-1]['evaluate_ms_median']} ms")  # fmt: skip
        if args.events:
            for r in range(args.rounds):
                captures.append(capture_modes(api, products, clock, args.events, args.doc_size, args.clients,
                                              f"{run_tag}R{r}"))  # fmt: skip
    finally:
        peer.close()

    if traces:
        console.print(trace_table(traces))
        console.print(f"client evaluate deadline of the gateway app: {CLIENT_EVALUATE_DEADLINE_S} s; the peer's "
                      "chaincode execute timeout and gateway endorsement timeout: 30 s (stock core.yaml)")
    for n, round_ in enumerate(captures, 1):
        console.print(capture_table(round_))
        console.print(f"round {n} events/s ratios: {ratios(round_)}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS_DIR / f"provenance-{stamp}.json"
    out.write_text(json.dumps({
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": stamp, "max_trace_nodes": queries.MAX_TRACE_NODES, "max_events_per_capture": MAX_EVENTS_PER_CAPTURE,
        "traces": traces, "captures": [{"results": c, "ratios": ratios(c)} for c in captures],
        "host": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform()},
    }, indent=2))  # fmt: skip
    console.print(f"raw results: {out.relative_to(PROJECT_ROOT)}")
    console.print(f"still running -- stop with: .venv/bin/python -m app down --instance {args.instance} "
                  f"--network-home {args.home} --base-port {args.gateway_port}; "
                  f".venv/bin/python -m network --home {args.home} down")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
