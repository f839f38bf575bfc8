"""Where a submit's client CPU goes at one caller: process CPU time per stage of the Python client.

Runs sequential submits (``PutRecord``, as gateway_bench.py) through the public API in stages and charges the whole
process's CPU time (``time.process_time()``, so gRPC's threads and the commit watcher's too) to the stage that was
running: building the proposal, endorsing (signing + Endorse call), submitting (signing + Submit call) and waiting
for the commit (the block stream). Also times the signer alone, warm (back to back) and cold (after a pause as long
as a commit wait). With ``--floor`` it measures instead the least any client must do per submit: Endorse, sign
and Submit straight on the generated gRPC stub, requests built beforehand, then a pause as long as a commit wait.
Uses the network gateway_bench.py runs (it must be up). See bench/README.md.

    .venv/bin/python bench/submit_breakdown.py --calls 200
    .venv/bin/python bench/submit_breakdown.py --calls 200 --floor
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc  # noqa: E402
from gateway_bench import VALUE, PythonClient, Target, target_for  # noqa: E402

from app.fabric import load_private_key, new_private_key_signer  # noqa: E402
from network import Network  # noqa: E402

STAGES = ("build", "endorse", "submit", "commit wait")
FLOOR_STAGES = ("Endorse call", "sign", "Submit call", "pause")
PAUSE = 0.12  # seconds: about a commit wait with the 100 ms BatchTimeout


def floor(target: Target, calls: int, prefix: str) -> None:
    """Endorse, sign and Submit on the bare gRPC stub, then pause; print the process CPU of each per submit."""
    client = PythonClient(target)
    signer = new_private_key_signer(load_private_key(Path(target.key_path)))
    stub = gateway_pb2_grpc.GatewayStub(client.channel)
    requests = []
    for n in range(calls):  # built and signed beforehand, through the public offline-signing API
        proposal = client.contract.new_proposal("PutRecord", arguments=[f"{prefix}-{n}", VALUE])
        proposed = gateway_pb2.ProposedTransaction.FromString(proposal.bytes())
        proposed.proposal.signature = signer(proposal.digest())
        requests.append(
            gateway_pb2.EndorseRequest(
                transaction_id=proposed.transaction_id,
                channel_id=target.channel,
                proposed_transaction=proposed.proposal,
            )
        )
    cpu = dict.fromkeys(FLOOR_STAGES, 0.0)
    try:
        for request in requests:
            t0 = time.process_time()
            envelope = stub.Endorse(request, timeout=15).prepared_transaction
            t1 = time.process_time()
            envelope.signature = signer(hashlib.sha256(envelope.payload).digest())
            t2 = time.process_time()
            submit = gateway_pb2.SubmitRequest(
                transaction_id=request.transaction_id, channel_id=request.channel_id, prepared_transaction=envelope
            )
            stub.Submit(submit, timeout=5)
            t3 = time.process_time()
            time.sleep(PAUSE)
            t4 = time.process_time()
            for stage, spent in zip(FLOOR_STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                cpu[stage] += spent
    finally:
        client.close()
    print(f"floor: {calls} sequential Endorse + sign + Submit, {PAUSE * 1000:.0f} ms pause each; CPU per submit in ms:")
    for stage in FLOOR_STAGES:
        print(f"  {stage:12s} {cpu[stage] * 1000 / calls:6.3f}")
    print(f"  {'total':12s} {sum(cpu.values()) * 1000 / calls:6.3f}")


def main(argv: list[str] | None = None) -> int:
    """Run the stages and print the CPU per submit of each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=BENCH_DIR / "run", help="network home (default: bench/run)")
    parser.add_argument("--base-port", type=int, default=17000, help="network base port (default: 17000)")
    parser.add_argument("--calls", type=int, default=200, help="sequential submits (default: 200)")
    parser.add_argument("--org", default="Producer", help="organisation whose peer and User1 are used")
    parser.add_argument("--floor", action="store_true", help="measure the bare gRPC floor instead")
    args = parser.parse_args(argv)

    net = Network.open(args.home, args.base_port)
    target = target_for(net, args.org)
    prefix = f"breakdown-{time.strftime('%Y%m%dT%H%M%S')}"
    if args.floor:
        floor(target, args.calls, prefix)
        return 0
    client = PythonClient(target)
    cpu = dict.fromkeys(STAGES, 0.0)
    try:
        client.contract.submit_transaction("PutRecord", f"{prefix}-warmup", VALUE)  # starts the commit watcher
        wall0 = time.perf_counter()
        total0 = time.process_time()
        for n in range(args.calls):
            t0 = time.process_time()
            proposal = client.contract.new_proposal("PutRecord", arguments=[f"{prefix}-{n}", VALUE])
            t1 = time.process_time()
            transaction = proposal.endorse()
            t2 = time.process_time()
            submitted = transaction.submit()
            t3 = time.process_time()
            if not submitted.get_status().successful:
                raise RuntimeError(f"transaction {submitted.transaction_id} was invalid")
            t4 = time.process_time()
            for stage, spent in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                cpu[stage] += spent
        total = time.process_time() - total0
        wall = time.perf_counter() - wall0
    finally:
        client.close()

    signer = new_private_key_signer(load_private_key(Path(target.key_path)))
    digests = [hashlib.sha256(os.urandom(64)).digest() for _ in range(200)]
    t0 = time.process_time()
    for digest in digests:
        signer(digest)
    warm = (time.process_time() - t0) / len(digests)
    cold = 0.0
    for digest in digests[:20]:
        time.sleep(wall / args.calls)  # as long as a submit: other processes get the caches meanwhile
        t0 = time.process_time()
        signer(digest)
        cold += time.process_time() - t0
    cold /= 20

    print(f"{args.calls} sequential submits, {args.calls / wall:.1f} tx/s; process CPU per submit in ms:")
    for stage in STAGES:
        print(f"  {stage:12s} {cpu[stage] * 1000 / args.calls:6.3f}")
    print(f"  {'total':12s} {total * 1000 / args.calls:6.3f}")
    print(f"signing alone: {warm * 1000:.3f} ms warm, {cold * 1000:.3f} ms cold (endorse and submit sign once each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
