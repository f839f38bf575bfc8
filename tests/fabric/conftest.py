"""Fixtures for the gateway client tests: run-time credentials and a fake peer served in-process on 127.0.0.1.

The fake peer implements ``gateway.Gateway`` and ``protos.Deliver`` closely enough to drive the client's call flow:
it verifies every signature against the creator in the request (DER, low-S, SHA-256), assembles the prepared
transaction the way the real gateway does (transient data stripped, result in the ChaincodeAction), records requests
and remaining deadlines, and fails on demand with a ``grpc-status-details-bin`` trailer. Its ``FakeLedger`` can commit
each submitted transaction in a block of its own, which CommitStatus and DeliverFiltered streams then report.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.msp import identities_pb2
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    events_pb2,
    events_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import any_pb2

from app.fabric import Gateway, X509Identity, connect, new_grpc_channel, new_private_key_signer

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class Credentials:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def make_credentials(common_name: str = "user1", san: str | None = None) -> Credentials:
    """A P-256 key and a self-signed certificate (optionally a TLS server one naming ``san``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=san is not None, path_length=None), critical=True)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return Credentials(key, builder.sign(key, hashes.SHA256()))


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_rpc_status(code: grpc.StatusCode, message: str, details: list[Any]) -> bytes:
    """Serialise a google.rpc.Status by hand, as the peer sends it in ``grpc-status-details-bin``."""
    text = message.encode()
    out = b"\x08" + encode_varint(code.value[0]) + b"\x12" + encode_varint(len(text)) + text
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        data = packed.SerializeToString()
        out += b"\x1a" + encode_varint(len(data)) + data
    return out


def verify(creator: bytes, message: bytes, signature: bytes) -> bool:
    """Verify as the MSP does: SHA-256, DER, and s no more than half the order."""
    identity = identities_pb2.SerializedIdentity.FromString(creator)
    public_key = x509.load_pem_x509_certificate(identity.id_bytes).public_key()
    try:
        _, s = decode_dss_signature(signature)
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return s <= P256_ORDER // 2


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str
    details: list[gateway_pb2.ErrorDetail] = field(default_factory=list)


class FakeLedger:
    """Filtered blocks of the fake peer, numbered from ``first_block``.

    With ``commit_on_submit``, each Submit commits its transaction alone in the next block, with the gateway's
    ``commit_code``. ``statuses`` (transaction ID -> (code, block number)) is what CommitStatus answers for a known
    transaction. While ``withhold`` is set, DeliverFiltered streams send nothing, as a stalled stream would;
    ``refuse_streams`` makes new ones fail at once, and ``break_streams()`` ends the open ones, as a peer restart does.
    """

    def __init__(self, first_block: int = 8) -> None:
        self.blocks: list[events_pb2.FilteredBlock] = []
        self.statuses: dict[str, tuple[int, int]] = {}
        self.next_block = first_block
        self.commit_on_submit = False
        self.withhold = False
        self.refuse_streams = False
        self.generation = 0
        self.changed = threading.Condition()

    def append_block(self, transactions: list[tuple[str, int]]) -> int:
        """Append a block of (transaction ID, validation code) and return its number."""
        with self.changed:
            number = self.next_block
            self.next_block += 1
            filtered = [
                events_pb2.FilteredTransaction(txid=txid, tx_validation_code=code) for txid, code in transactions
            ]
            self.blocks.append(events_pb2.FilteredBlock(number=number, filtered_transactions=filtered))
            self.changed.notify_all()
        return number

    def commit(self, transaction_id: str, code: int) -> int:
        """Commit one transaction in a new block; CommitStatus then knows it."""
        with self.changed:
            number = self.append_block([(transaction_id, code)])
            self.statuses[transaction_id] = (code, number)
        return number

    def break_streams(self) -> None:
        """End every open DeliverFiltered stream with UNAVAILABLE before it sends another block."""
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def follow(self, start: int, context: grpc.ServicerContext) -> Iterator[events_pb2.DeliverResponse]:
        """Stream the blocks from number ``start`` on, as they come, until cancelled or broken."""
        with self.changed:
            generation = self.generation
            if self.refuse_streams:
                context.abort(grpc.StatusCode.UNAVAILABLE, "peer restarting")
        sent = 0
        while context.is_active():
            with self.changed:
                if self.generation != generation:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "peer restarting")
                pending = [] if self.withhold else self.blocks[sent:]
                if not pending:
                    self.changed.wait(0.05)
                    continue
                sent += len(pending)
            for block in pending:
                if block.number >= start:
                    yield events_pb2.DeliverResponse(filtered_block=block)


class FakeGateway(gateway_pb2_grpc.GatewayServicer):
    """Records every request; behaviour is set through attributes."""

    def __init__(self, ledger: FakeLedger | None = None) -> None:
        self.ledger = ledger or FakeLedger()
        self.requests: list[tuple[str, Any]] = []
        self.time_remaining: dict[str, float | None] = {}
        self.failures: dict[str, Failure] = {}
        self.evaluate_result = b"evaluated"
        self.endorse_result = b"endorsed"
        self.commit_code = transaction_pb2.VALID
        self.block_number = 7
        self.commit_delay = 0.0
        self.chaincode_events: list[gateway_pb2.ChaincodeEventsResponse] = []

    def fail(
        self, method: str, code: grpc.StatusCode, message: str, details: list[gateway_pb2.ErrorDetail] | None = None
    ) -> None:
        """Make ``method`` fail with ``code``, ``message`` and ``details`` in the status trailer."""
        self.failures[method] = Failure(code, message, details or [])

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]

    def _enter(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        self.requests.append((method, request))
        self.time_remaining[method] = context.time_remaining()
        failure = self.failures.get(method)
        if failure is not None:
            status = encode_rpc_status(failure.code, failure.message, failure.details)
            context.set_trailing_metadata((("grpc-status-details-bin", status),))
            context.abort(failure.code, failure.message)

    def _check(self, context: grpc.ServicerContext, creator: bytes, message: bytes, signature: bytes) -> None:
        if not verify(creator, message, signature):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "access denied: invalid signature")

    def _check_proposal(self, signed: proposal_pb2.SignedProposal, context: grpc.ServicerContext) -> None:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
        self._check(context, creator, signed.proposal_bytes, signed.signature)

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._enter("Evaluate", request, context)
        self._check_proposal(request.proposed_transaction, context)
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=self.evaluate_result)
        )

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._enter("Endorse", request, context)
        signed = request.proposed_transaction
        self._check_proposal(signed, context)
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        without_transient = proposal_pb2.ChaincodeProposalPayload(
            input=proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload).input
        )
        action = proposal_pb2.ChaincodeAction(
            results=b"rwset", response=proposal_response_pb2.Response(status=200, payload=self.endorse_result)
        )
        response_payload = proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=hashlib.sha256(signed.proposal_bytes).digest(), extension=action.SerializeToString()
        )
        action_payload = transaction_pb2.ChaincodeActionPayload(
            chaincode_proposal_payload=without_transient.SerializeToString(),
            action=transaction_pb2.ChaincodeEndorsedAction(
                proposal_response_payload=response_payload.SerializeToString(),
                endorsements=[proposal_response_pb2.Endorsement(endorser=b"peer0", signature=b"sig")],
            ),
        )
        transaction = transaction_pb2.Transaction(
            actions=[
                transaction_pb2.TransactionAction(
                    header=header.signature_header, payload=action_payload.SerializeToString()
                )
            ]
        )
        payload = common_pb2.Payload(header=header, data=transaction.SerializeToString())
        return gateway_pb2.EndorseResponse(
            prepared_transaction=common_pb2.Envelope(payload=payload.SerializeToString())
        )

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._enter("Submit", request, context)
        envelope = request.prepared_transaction
        if not envelope.signature:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "prepared transaction must be signed")
        header = common_pb2.Payload.FromString(envelope.payload).header
        creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
        self._check(context, creator, envelope.payload, envelope.signature)
        if self.ledger.commit_on_submit:
            self.ledger.commit(request.transaction_id, self.commit_code)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._enter("CommitStatus", request, context)
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        self._check(context, inner.identity, request.request, request.signature)
        known = self.ledger.statuses.get(inner.transaction_id)
        if known is not None:
            return gateway_pb2.CommitStatusResponse(result=known[0], block_number=known[1])
        deadline = time.monotonic() + self.commit_delay
        while time.monotonic() < deadline and context.is_active():
            time.sleep(0.01)
        return gateway_pb2.CommitStatusResponse(result=self.commit_code, block_number=self.block_number)

    def ChaincodeEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        self._enter("ChaincodeEvents", request, context)
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        self._check(context, inner.identity, request.request, request.signature)
        yield from self.chaincode_events
        while context.is_active():
            time.sleep(0.01)


class FakeDeliver(events_pb2_grpc.DeliverServicer):
    """Answers each Deliver stream with ``responses``, then holds it open until the client cancels.

    DeliverFiltered streams also send the ledger's blocks from the requested start block.
    """

    def __init__(self, ledger: FakeLedger | None = None) -> None:
        self.ledger = ledger or FakeLedger()
        self.requests: list[tuple[str, common_pb2.Envelope]] = []
        self.responses: list[Any] = []
        self.finished = threading.Event()

    def _serve(self, method: str, requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        envelope = next(requests)
        self.requests.append((method, envelope))
        header = common_pb2.Payload.FromString(envelope.payload).header
        creator = common_pb2.SignatureHeader.FromString(header.signature_header).creator
        if not verify(creator, envelope.payload, envelope.signature):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "bad signature")
        try:
            yield from self.responses
            if method == "DeliverFiltered":
                seek = ab_pb2.SeekInfo.FromString(common_pb2.Payload.FromString(envelope.payload).data)
                yield from self.ledger.follow(seek.start.specified.number, context)
            while context.is_active():
                time.sleep(0.01)
        finally:
            self.finished.set()

    def Deliver(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._serve("Deliver", request_iterator, context)

    def DeliverFiltered(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._serve("DeliverFiltered", request_iterator, context)

    def DeliverWithPrivateData(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._serve("DeliverWithPrivateData", request_iterator, context)


@dataclass
class FakePeer:
    address: str
    gateway: FakeGateway
    deliver: FakeDeliver
    ledger: FakeLedger


@pytest.fixture(scope="session")
def credentials() -> Credentials:
    return make_credentials()


@pytest.fixture
def identity(credentials: Credentials) -> X509Identity:
    return X509Identity.from_certificate("Org1MSP", credentials.certificate)


@pytest.fixture
def fake_peer() -> Iterator[FakePeer]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    ledger = FakeLedger()
    gateway, deliver = FakeGateway(ledger), FakeDeliver(ledger)
    gateway_pb2_grpc.add_GatewayServicer_to_server(gateway, server)
    events_pb2_grpc.add_DeliverServicer_to_server(deliver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield FakePeer(f"127.0.0.1:{port}", gateway, deliver, ledger)
    server.stop(None).wait()


@pytest.fixture
def channel(fake_peer: FakePeer) -> Iterator[grpc.Channel]:
    channel = new_grpc_channel(fake_peer.address, None)
    yield channel
    channel.close()


@pytest.fixture
def gateway(identity: X509Identity, credentials: Credentials, channel: grpc.Channel) -> Iterator[Gateway]:
    with connect(identity, new_private_key_signer(credentials.key), channel=channel) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def new_credentials() -> Any:
    """Factory for more credentials: ``new_credentials(common_name, san=None)``."""
    return make_credentials


@pytest.fixture(scope="session")
def encode_status() -> Any:
    """``encode_status(code, message, details)`` -> serialised google.rpc.Status."""
    return encode_rpc_status


@pytest.fixture(scope="session")
def verify_signature() -> Any:
    """``verify_signature(creator, message, signature)`` -> bool, as the MSP checks it."""
    return verify
