"""Evidence bundles from the real network, and the offline verifier: it accepts a genuine bundle and rejects each
kind of tampering (document byte, signature, certificate, block reference: number, transaction ID, block bytes)."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from fabric_protos.common import common_pb2

from app.config import PROJECT_ROOT
from app.evidence import verify
from tests.app.shipping import new_shipment, pdf, sign_in_turn, upload, version_of

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def signed_note(api):
    """A consignment note signed by shipper, carrier and consignee: its version record."""
    shipment = new_shipment(api)
    record = upload(api("Producer"), shipment["id"], pdf("evidence")).json
    for org in ("Producer", "Logistics", "Retailer"):
        assert sign_in_turn(api(org), record, {"remarks": f"{org} signs"}).status_code == 201
    version_of(api("Producer"), record, lambda body: body["status"] == "signed")
    return record


@pytest.fixture(scope="module")
def genuine(api, signed_note):
    """The note's evidence bundle as the Producer's gateway assembles it."""
    response = api("Producer").get(f"/api/v1/documents/{signed_note['id']}/versions/1/evidence")
    assert response.status_code == 200, response.json
    assert "attachment" in response.headers["Content-Disposition"]
    return response.json


def run_verifier(tmp_path, bundle: dict, *trust) -> subprocess.CompletedProcess:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    args = [sys.executable, "-m", "app.evidence.verify", str(path)] + (["--trust", *map(str, trust)] if trust else [])
    return subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, check=False)


def failed(report: verify.Report) -> list[str]:
    return [c.name for c in report.checks if not c.passed]


def test_the_bundle_holds_the_document_signatures_transactions_blocks_and_cas(genuine, signed_note):
    assert genuine["format"] == verify.FORMAT and genuine["generatedBy"] == "ProducerMSP"
    assert base64.b64decode(genuine["document"]["content"]) == pdf("evidence")
    assert len(genuine["record"]["signatures"]) == 3
    purposes = [(t["purpose"], t["signature"]) for t in genuine["transactions"]]
    assert purposes == [("anchor", None), ("signature", 0), ("signature", 1), ("signature", 2)]
    assert {str(t["blockNumber"]) for t in genuine["transactions"]} == set(genuine["blocks"])
    assert genuine["transactions"][0]["txId"] == signed_note["txId"]
    assert set(genuine["organizations"]["Orderer"]) == {"ProducerMSP", "RetailerMSP", "LogisticsMSP"}
    assert "RegulatorMSP" in genuine["organizations"]["Application"]


def test_the_verifier_accepts_a_genuine_bundle_offline(tmp_path, genuine, fabric_network):
    result = run_verifier(tmp_path, genuine)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: GENUINE" in result.stdout and "FAIL" not in result.stdout
    for name in ("document content", "signature 2", "certificate of signature 0", "anchor transaction", "block "):
        assert f"PASS  {name}" in result.stdout
    roots = [fabric_network.layout.ca_cert(org) for org in fabric_network.topology.organizations]
    anchored = run_verifier(tmp_path, genuine, *roots)
    assert anchored.returncode == 0, anchored.stdout
    repeated = [sys.executable, "-m", "app.evidence.verify", str(tmp_path / "bundle.json")]
    for root in roots:  # --trust a --trust b ... means the same as --trust a b ...
        repeated += ["--trust", str(root)]
    again = subprocess.run(repeated, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, check=False)
    assert again.returncode == 0, again.stdout


def test_the_verifier_refuses_a_bundle_whose_cas_are_not_the_trusted_ones(tmp_path, genuine, fabric_network):
    regulator_only = fabric_network.layout.ca_cert(fabric_network.topology.org("Regulator"))
    result = run_verifier(tmp_path, genuine, regulator_only)
    assert result.returncode == 1 and "is not one of the --trust anchors" in result.stdout


def test_the_verifier_imports_only_the_standard_library_cryptography_and_fabric_protos(tmp_path, genuine):
    (tmp_path / "bundle.json").write_text(json.dumps(genuine))
    probe = ("import runpy, sys, json\n"
             f"sys.argv = ['verify', {str(tmp_path / 'bundle.json')!r}]\n"
             "try:\n    runpy.run_module('app.evidence.verify', run_name='__main__')\n"
             "except SystemExit as end:\n    code = end.code\n"
             "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))\n")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    code, modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert code == 0
    foreign = {m for m in modules if m not in sys.stdlib_module_names and not m.startswith("_")}
    assert foreign <= {"app", "cryptography", "fabric_protos", "google"}, foreign


def _block_with(bundle: dict, purpose: str, index=None) -> tuple[dict, str]:
    citation = next(t for t in bundle["transactions"] if t["purpose"] == purpose and t["signature"] == index)
    return citation, str(citation["blockNumber"])


def _tamper_document_byte(bundle):
    content = bytearray(base64.b64decode(bundle["document"]["content"]))
    content[10] ^= 0x01
    bundle["document"]["content"] = base64.b64encode(bytes(content)).decode()
    return ["document content"]


def _tamper_signature(bundle):
    sig = bundle["record"]["signatures"][1]
    raw = bytearray(base64.b64decode(sig["signature"]))
    raw[-3] ^= 0x01
    sig["signature"] = base64.b64encode(bytes(raw)).decode()
    return ["signature 1", "signature transaction 1"]


def _tamper_certificate(bundle):
    # A certificate of the same subject from a CA of the forger's own, with a key the forger holds.
    sig = bundle["record"]["signatures"][0]
    genuine = x509.load_pem_x509_certificate(sig["certificate"].encode())
    key = ec.generate_private_key(ec.SECP256R1())
    forged = (x509.CertificateBuilder().subject_name(genuine.subject).issuer_name(genuine.issuer)
              .public_key(key.public_key()).serial_number(genuine.serial_number)
              .not_valid_before(genuine.not_valid_before_utc).not_valid_after(genuine.not_valid_after_utc)
              .sign(key, hashes.SHA256()))  # fmt: skip
    sig["certificate"] = forged.public_bytes(Encoding.PEM).decode()
    sig["signature"] = base64.b64encode(key.sign(sig["payload"].encode(), ec.ECDSA(hashes.SHA256()))).decode()
    return ["certificate of signature 0", "signature transaction 0"]


def _tamper_block_number(bundle):
    citation, _ = _block_with(bundle, "anchor")
    citation["blockNumber"] = int(_block_with(bundle, "signature", 2)[1])  # a block of the bundle, another tx's
    return ["anchor transaction"]


def _tamper_tx_id(bundle):
    citation, _ = _block_with(bundle, "signature", 1)
    citation["txId"] = _block_with(bundle, "signature", 0)[0]["txId"]
    return ["signature transaction 1"]


def _tamper_block_bytes(bundle):
    _, number = _block_with(bundle, "anchor")
    block = common_pb2.Block.FromString(base64.b64decode(bundle["blocks"][number]))
    data = bytearray(block.data.data[0])
    data[len(data) // 2] ^= 0x01
    block.data.data[0] = bytes(data)
    bundle["blocks"][number] = base64.b64encode(block.SerializeToString()).decode()
    return [f"block {number}", "anchor transaction"]


def _tamper_validation_flag(bundle):
    _, number = _block_with(bundle, "signature", 0)
    block = common_pb2.Block.FromString(base64.b64decode(bundle["blocks"][number]))
    block.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] = bytes([11]) * len(block.data.data)  # MVCC conflict
    bundle["blocks"][number] = base64.b64encode(block.SerializeToString()).decode()
    return ["signature transaction 0"]


@pytest.mark.parametrize("tamper", [_tamper_document_byte, _tamper_signature, _tamper_certificate,
                                    _tamper_block_number, _tamper_tx_id, _tamper_block_bytes,
                                    _tamper_validation_flag], ids=lambda f: f.__name__[8:])  # fmt: skip
def test_the_verifier_rejects_each_kind_of_tampering(tmp_path, genuine, tamper):
    bundle = copy.deepcopy(genuine)
    expected = tamper(bundle)
    report = verify.verify(bundle)
    failures = failed(report)
    for name in expected:
        assert any(f.startswith(name) for f in failures), (name, report.text())
    result = run_verifier(tmp_path, bundle)
    assert result.returncode == 1 and "verdict: NOT VERIFIED" in result.stdout, result.stdout + result.stderr


def test_an_unreadable_bundle_exits_with_2(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "app.evidence.verify", str(path)], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, check=False)  # fmt: skip
    assert result.returncode == 2 and "cannot check" in result.stderr
