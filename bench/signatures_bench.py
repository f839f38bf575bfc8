"""Document signatures per second through the gateway API, with 8 concurrent signers holding server-held keys.

Brings up (or reuses) a network of its own (``bench/run-signatures``, base port 19000) and the four gateway
processes (gunicorn, as ``python -m app up`` starts them, on ports 19900-19903). Each of the ``--signers``
concurrent signers is a user of its own (an ``operator`` enrolled with its organisation's CA, its key kept encrypted
by its gateway) with shipments of its own: ``--rounds`` shipments of a fresh case, each with a consignment note, a
bill of lading and a delivery note. Then three timed phases, one per party, each signer signing its documents one
after the other through ``POST /api/v1/documents/<id>/versions/<n>/signatures`` (the gateway reads the signing
payload, signs it with the user's key and submits ``SignDocument``, endorsed by the shipment's endorsers):

1. **shipper**: the Producer's signers sign all three documents;
2. **carrier**: the Logistics signers sign the consignment notes and bills of lading;
3. **consignee**: the Retailer's signers sign the consignment notes and delivery notes.

Prints signatures/s, request latency p50/p95/max and failures per phase, and writes them to
``bench/results/signatures-<timestamp>.json``. Leaves the network and the gateways running. See bench/README.md.

    .venv/bin/python bench/signatures_bench.py
    .venv/bin/python bench/signatures_bench.py --rounds 2   # a quick check
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import math
import os
import platform
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))

import requests  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from app import launcher  # noqa: E402
from network import Network  # noqa: E402
from tests.app.story import Story  # noqa: E402
from tests.chaincode import epcis  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
KINDS = ("consignment_note", "bill_of_lading", "delivery_note")
PHASES = (("shipper", "Producer", KINDS), ("carrier", "Logistics", KINDS[:2]),
          ("consignee", "Retailer", (KINDS[0], KINDS[2])))  # fmt: skip
console = Console(width=None if sys.stdout.isatty() else 140)


def percentile(ascending: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ascending:
        return None
    return round(ascending[min(len(ascending) - 1, max(0, math.ceil(q * len(ascending)) - 1))], 1)


class Api:
    """One organisation's gateway over HTTP as one user (bearer token)."""

    def __init__(self, url: str, username: str, password: str):
        self.url, self.session = url, requests.Session()
        resp = self.session.post(f"{url}/api/v1/auth/tokens", json={"username": username, "password": password},
                                 timeout=30)  # fmt: skip
        resp.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {resp.json()['token']}"

    def post(self, path: str, expect: int = 201, **kw) -> dict:
        resp = self.session.post(f"{self.url}{path}", headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=120, **kw)
        if resp.status_code != expect:
            raise RuntimeError(f"POST {path}: HTTP {resp.status_code}: {resp.text[:400]}")
        return resp.json()


def signer_users(admin: Api, org: str, count: int, tag: str) -> list[Api]:
    """``count`` new operators of ``org``, each signed in."""
    signers = []
    for i in range(count):
        name, password = f"sig{tag}{i}", uuid.uuid4().hex
        admin.post("/api/v1/users", json={"username": name, "password": password, "role": "operator"})
        signers.append(Api(admin.url, name, password))
    return signers


def wait_until_seen(carrier: Api, epc: str, seconds: float = 10) -> None:
    """Wait until the carrier's peer, which endorses the shipment, has committed the block that recorded ``epc``."""
    deadline = time.monotonic() + seconds
    while carrier.session.get(f"{carrier.url}/api/v1/objects/{epc}", timeout=30).status_code == 404:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{epc} not seen by the carrier's peer after {seconds} s")
        time.sleep(0.1)


def prepare(producer: Api, carrier: Api, item_ref: str, run: int, signer: int, rounds: int) -> list[dict]:
    """``rounds`` shipments of fresh cases, each with the three documents; their version records."""
    records = []
    for r in range(rounds):
        serial = f"{run:04d}{signer:02d}{r:03d}"  # the run number keeps reruns on one ledger apart
        items = [epcis.sgtin(f"B{serial}-{n}", item_ref) for n in range(2)]
        case = epcis.sscc(serial + "1")
        doc = json.loads(epcis.document(epcis.commission(items, lot=f"B{serial}"), epcis.pack(case, items)))
        producer.post("/api/v1/capture", json=doc)
        wait_until_seen(carrier, case)
        shipment = {"id": f"BENCH-{serial}", "shipper": "ProducerMSP", "carriers": ["LogisticsMSP"],
                    "consignee": "RetailerMSP", "origin": {"name": "Hillside Farm"},
                    "destination": {"name": "GreenGrocer DC"}, "units": [case]}  # fmt: skip
        producer.post("/api/v1/shipments", json=shipment)
        for kind in KINDS:
            content = b"%PDF-1.4\n% " + f"{kind} {serial}".encode() + b"\n%%EOF\n"
            records.append(producer.post(f"/api/v1/shipments/{shipment['id']}/documents",
                                         data={"kind": kind},
                                         files={"file": (f"{kind}.pdf", io.BytesIO(content), "application/pdf")}))
    return records


def run_phase(name: str, signers: list[Api], work: list[list[dict]]) -> dict:
    """Each signer signs its records one after the other, all signers at once; timings of the whole and each."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def sign_all(signer: Api, records: list[dict]) -> None:
        for record in records:
            t0 = time.perf_counter()
            try:
                signer.post(f"/api/v1/documents/{record['id']}/versions/{record['version']}/signatures",
                            json={"statement": {"remarks": f"{name} signs"}})  # fmt: skip
            except (RuntimeError, requests.RequestException) as err:
                with lock:
                    errors.append(str(err)[:300])
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(signers)) as pool:
        list(pool.map(sign_all, signers, work))
    seconds = time.perf_counter() - t0
    latencies.sort()
    return {"phase": name, "signers": len(signers), "signatures": len(latencies), "failed": len(errors),
            "errors": errors[:5], "seconds": round(seconds, 2),
            "signatures_per_s": round(len(latencies) / seconds, 2),
            "ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
                   "max": round(latencies[-1], 1) if latencies else None}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=BENCH_DIR / "run-signatures")
    parser.add_argument("--base-port", type=int, default=19000)
    parser.add_argument("--instance", type=Path, default=BENCH_DIR / "run-signatures-gateway")
    parser.add_argument("--gateway-port", type=int, default=19900, help="organisation i on this + i")
    parser.add_argument("--signers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="shipments (of three documents) per signer")
    args = parser.parse_args(argv)

    net = Network.open(args.home, args.base_port, lambda step: console.log(f"[dim]{step}[/]"))
    net.up()
    processes = launcher.gateways(args.instance.resolve(), args.home.resolve(), args.gateway_port)
    admins = {}
    for process in processes:
        launcher.up(process)
        admins[process.org] = Api(process.url, launcher.ADMIN, launcher.ensure_admin(process))
    console.log(f"network on base port {args.base_port}, gateways on {args.gateway_port}..+3: up")

    tag, run = uuid.uuid4().hex[:5], uuid.uuid4().int % 10**4
    story = Story()
    admins["Producer"].post("/api/v1/products", json=story.product())
    signers = {org: signer_users(admins[org], org, args.signers, tag) for _, org, _ in PHASES}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.signers) as pool:
        per_signer = list(pool.map(lambda i: prepare(signers["Producer"][i], signers["Logistics"][i], story.item_ref,
                                                     run, i, args.rounds), range(args.signers)))  # fmt: skip
    console.log(f"prepared {sum(map(len, per_signer))} documents on {args.signers * args.rounds} shipments in "
                f"{time.perf_counter() - t0:.1f} s")  # fmt: skip

    results = []
    for party, org, kinds in PHASES:
        work = [[r for r in records if r["kind"] in kinds] for records in per_signer]
        results.append(run_phase(party, signers[org], work))
        console.log(f"{party}: {results[-1]['signatures_per_s']} signatures/s")
    total = sum(r["signatures"] for r in results)
    seconds = sum(r["seconds"] for r in results)

    table = Table(title=f"Signatures through the gateway API, {args.signers} concurrent signers (server-held keys)")
    for column in ("phase", "gateway", "signatures", "failed", "seconds", "signatures/s", "p50 ms", "p95 ms",
                   "max ms"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("phase", "gateway") else "right")
    for (party, org, _), r in zip(PHASES, results, strict=True):
        table.add_row(party, org, str(r["signatures"]), str(r["failed"]), f"{r['seconds']:.1f}",
                      f"{r['signatures_per_s']:.2f}", str(r["ms"]["p50"]), str(r["ms"]["p95"]), str(r["ms"]["max"]))
    table.add_row("all", "", str(total), str(sum(r["failed"] for r in results)), f"{seconds:.1f}",
                  f"{total / seconds:.2f}", "", "", "")  # fmt: skip
    console.print(table)
    for r in results:
        for error in r["errors"]:
            console.print(f"[red]{r['phase']}: {error}[/]")

    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS_DIR / f"signatures-{stamp}.json"
    out.write_text(json.dumps({"signers": args.signers, "rounds": args.rounds, "phases": results,
                               "signatures_per_s": round(total / seconds, 2), "host": platform.node(),
                               "cpus": os.cpu_count(), "load_average": os.getloadavg()}, indent=1))  # fmt: skip
    console.log(f"results: {out.relative_to(PROJECT_ROOT)}")
    return 0 if all(r["failed"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
