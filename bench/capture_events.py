"""CaptureEvents sizing: how long a document of N events takes to endorse and commit, and how big it is.

Each document is N/3 groups of three events: commission 4 eggs, pack them into a new case,
report the case's temperature (which records a reading for the case and its 4 eggs). It is
the mix that chooses ``MAX_EVENTS_PER_CAPTURE`` in chaincode/supplychain/provenance/events.py.
Runs against a network already up (``python -m network --home H --base-port P up``). Sizes
above the chaincode's bounds report its LIMIT_EXCEEDED refusal; to measure beyond them, raise
the bounds in the work tree and redeploy (``python -m network --home H --base-port P deploy``).

    .venv/bin/python bench/capture_events.py --home /tmp/net --base-port 29500 --sizes 99,501,999
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.fabric import (GatewayError, X509Identity, connect, load_private_key, new_grpc_channel,  # noqa: E402
                        new_private_key_signer)  # fmt: skip
from app.fabric.client import Timeouts  # noqa: E402
from network import Network  # noqa: E402
from tests.chaincode.epcis import (COMPANY, commission, document, pack, product_class, sgtin, sscc,  # noqa: E402
                                   temperature)  # fmt: skip
from chaincode.supplychain.provenance.identifiers import check_digit  # noqa: E402


def producer_contract(net: Network):
    org = net.topology.org("Producer")
    peer = org.peers[0]
    msp = net.layout.identity(org, "User1") / "msp"
    channel = new_grpc_channel(peer.address, net.layout.ca_cert(org).read_bytes(), server_name_override=peer.host)
    signer = new_private_key_signer(load_private_key((msp / "keystore" / "key.pem").read_bytes()))
    # Deadlines well above the chaincode's 30 s execute timeout, so the peer's limit is what shows.
    timeouts = Timeouts(endorse=120.0, submit=60.0, commit_status=300.0)
    gateway = connect(X509Identity(org.msp_id, (msp / "signcerts" / "cert.pem").read_bytes()), signer,
                      channel=channel, timeouts=timeouts)  # fmt: skip
    return gateway.get_network("supplychain").get_contract("supplychain", "provenance")


def build(events: int, item_ref: str, run: int) -> str:
    docs, cases = [], random.randrange(1000, 10_000)  # fresh case numbers on every run
    for group in range(events // 3):
        minute = f"{group % 60:02d}"
        eggs = [sgtin(f"{run}-{group}-{i}", item_ref) for i in range(4)]
        case = sscc(f"{cases}{group:06d}")
        docs.append(commission(eggs, lot=f"B{run}", time=f"2026-01-05T06:{minute}:00+01:00"))
        docs.append(pack(case, eggs, time=f"2026-01-05T07:{minute}:00+01:00"))
        docs.append(temperature([case], 4.0 + group % 3, time=f"2026-01-05T08:{minute}:00+01:00"))
    return document(*docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--base-port", required=True, type=int)
    parser.add_argument("--sizes", default="99,198,300,501,999")
    args = parser.parse_args()
    net = Network.open(args.home, args.base_port)
    contract = producer_contract(net)
    item_ref = f"8{random.randrange(10_000, 100_000)}"
    body = item_ref[0] + COMPANY + item_ref[1:]
    contract.submit_transaction("RegisterProductClass", product_class(body + check_digit(body)))
    print("events  doc_bytes  endorse_s  commit_s  result_bytes  envelope_bytes  outcome")
    for run, size in enumerate(int(s) for s in args.sizes.split(",")):
        text = build(size, item_ref, run)
        proposal = contract.new_proposal("CaptureEvents", arguments=[text])
        t0 = time.perf_counter()
        try:
            transaction = proposal.endorse()
        except GatewayError as err:
            print(f"{size:6d}  {len(text):9d}  {time.perf_counter() - t0:9.2f}  {'-':>8}  {'-':>12}  {'-':>14}  "
                  f"{(err.chaincode_message or str(err))[:90]}")  # fmt: skip
            continue
        endorsed = time.perf_counter() - t0
        t1 = time.perf_counter()
        status = transaction.submit().get_status()
        committed = time.perf_counter() - t1
        captured = len(json.loads(transaction.result)["captured"])
        print(f"{size:6d}  {len(text):9d}  {endorsed:9.2f}  {committed:8.2f}  {len(transaction.result):12d}  "
              f"{len(transaction.bytes()):14d}  {status.code_name}"
              f" ({captured} captured)")  # fmt: skip


if __name__ == "__main__":
    main()
