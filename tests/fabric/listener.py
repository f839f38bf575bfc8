"""A chaincode-event listener process for the restart test: handles events idempotently, checkpoints to a file.

Run by test_real_network.py, killed with SIGKILL mid-stream, then run again.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from app.fabric import (
    FileCheckpointer,
    X509Identity,
    connect,
    load_private_key,
    new_grpc_channel,
    new_private_key_signer,
)


def main() -> None:
    p = argparse.ArgumentParser()
    for name in ("--peer", "--host", "--tls-ca", "--msp-id", "--identity", "--checkpoint", "--out", "--received"):
        p.add_argument(name, required=True)
    p.add_argument("--start-block", type=int, required=True)
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--stop-after")
    a = p.parse_args()
    msp = Path(a.identity)
    channel = new_grpc_channel(a.peer, Path(a.tls_ca).read_bytes(), server_name_override=a.host)
    gateway = connect(
        X509Identity(a.msp_id, (msp / "signcerts" / "cert.pem").read_bytes()),
        new_private_key_signer(load_private_key((msp / "keystore" / "key.pem").read_bytes())),
        channel=channel,
    )
    checkpointer = FileCheckpointer(a.checkpoint)
    out = Path(a.out)
    handled = set(out.read_text().split()) if out.exists() else set()
    network = gateway.get_network("supplychain")
    with network.get_chaincode_events("supplychain", start_block=a.start_block, checkpoint=checkpointer) as events, \
            open(a.received, "a") as received, open(out, "a") as sink:  # fmt: skip
        for event in events:
            received.write(event.transaction_id + "\n")
            received.flush()
            if event.transaction_id not in handled:  # idempotent: a replayed event is handled once
                sink.write(event.transaction_id + "\n")
                sink.flush()
                os.fsync(sink.fileno())
                handled.add(event.transaction_id)
            checkpointer.checkpoint_chaincode_event(event)
            if event.transaction_id == a.stop_after:
                return
            time.sleep(a.slow)


if __name__ == "__main__":
    main()
