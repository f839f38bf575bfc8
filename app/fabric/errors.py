"""Errors raised by the gateway client, and the decoding of the gateway's error details.

Exception tree::

    Exception
     ├── GatewayError            a gRPC call failed (code, details, cause); evaluate and event streams
     │    ├── EndorseError       Endorse failed              (+ transaction_id)
     │    ├── SubmitError        Submit to the orderer failed (+ transaction_id)
     │    ├── CommitStatusError  CommitStatus failed         (+ transaction_id)
     │    └── DeliverError       a block event stream ended with a non-SUCCESS status
     └── CommitError             the transaction committed as invalid (code: TxValidationCode, transaction_id)

``GatewayError.connection_error`` is true for UNAVAILABLE and DEADLINE_EXCEEDED: the gateway, or the peers or
orderers behind it, could not be reached in time, and nothing says the request was rejected. Everything else is a
rejection (bad request, access denied, chaincode error, endorsement policy, ...). ``chaincode_message`` holds the
chaincode's own error text when a chaincode rejected the proposal.

Mirrors Go ``pkg/client/errors.go`` and Node ``node/src/{gatewayerror,endorseerror,submiterror,commitstatuserror,
commiterror}.ts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Self

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import transaction_pb2
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError

__all__ = [
    "CommitError",
    "CommitStatusError",
    "DeliverError",
    "EndorseError",
    "ErrorDetail",
    "GatewayError",
    "SubmitError",
    "validation_code_name",
]

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_CONNECTION_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# Deliver answers with common.Status; map it to the nearest gRPC code so that callers can treat both alike.
_DELIVER_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    503: grpc.StatusCode.UNAVAILABLE,
}
# Fabric's endorser formats chaincode failures as "chaincode response <status>, <message>" (status >= 400).
_CHAINCODE_RESPONSE = re.compile(r"chaincode response (\d+), (.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One failing remote node behind the gateway: its address, MSP ID and error message."""

    address: str
    msp_id: str
    message: str


class GatewayError(Exception):
    """A gRPC call to the gateway failed.

    ``code`` is the ``grpc.StatusCode``, ``message`` the status message, ``details`` one ``ErrorDetail`` per failing
    peer or orderer (empty when the gateway peer itself raised the error) and ``cause`` the original
    ``grpc.RpcError`` (also chained as ``__cause__``).
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: list[ErrorDetail] | None = None,
        cause: BaseException | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.details = details or []
        self.cause = cause
        super().__init__(self._describe())

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> Self:
        """Build the error from a failed call, decoding the ``ErrorDetail``s from its trailers."""
        return cls(*rpc_error_status(error), cause=error)

    @property
    def connection_error(self) -> bool:
        """True if no node could be reached in time (UNAVAILABLE, DEADLINE_EXCEEDED); retrying later may work."""
        return self.code in _CONNECTION_CODES

    @property
    def chaincode_status(self) -> int | None:
        """Status the chaincode returned (usually 500) if a chaincode rejected the proposal, else ``None``."""
        match = self._chaincode_response()
        return int(match.group(1)) if match else None

    @property
    def chaincode_message(self) -> str | None:
        """The chaincode's own error message if a chaincode rejected the proposal, else ``None``."""
        match = self._chaincode_response()
        return match.group(2) if match else None

    def _chaincode_response(self) -> re.Match[str] | None:
        # Endorse puts it in a detail per peer; evaluate also repeats it in the status message.
        for text in [detail.message for detail in self.details] + [self.message]:
            match = _CHAINCODE_RESPONSE.search(text)
            if match:
                return match
        return None

    def _describe(self) -> str:
        lines = [f"{self.code.name}: {self.message}"]
        for detail in self.details:
            lines.append(f"  - address: {detail.address}, mspId: {detail.msp_id}, message: {detail.message}")
        return "\n".join(lines)


class _TransactionError(GatewayError):
    _stage = ""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: list[ErrorDetail] | None = None,
        cause: BaseException | None = None,
        *,
        transaction_id: str,
    ) -> None:
        self.transaction_id = transaction_id
        super().__init__(code, message, details, cause)

    def _describe(self) -> str:
        return f"{self._stage} error for transaction {self.transaction_id}: {super()._describe()}"


class EndorseError(_TransactionError):
    """Endorsing the proposal failed; nothing was sent to the orderer. Has ``transaction_id``."""

    _stage = "endorse"


class SubmitError(_TransactionError):
    """Submitting the endorsed transaction to the orderer failed. Has ``transaction_id``.

    On DEADLINE_EXCEEDED the orderer may still have accepted it: ask the commit status before building a new proposal.
    """

    _stage = "submit"


class CommitStatusError(_TransactionError):
    """Getting the commit status failed (often a deadline); the transaction may still commit. Has ``transaction_id``."""

    _stage = "commit status"


class DeliverError(GatewayError):
    """A block event stream ended with a ``common.Status`` other than SUCCESS (``status``, e.g. 403 FORBIDDEN)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.status_name = _enum_name(common_pb2.Status, status)
        super().__init__(
            _DELIVER_CODES.get(status, grpc.StatusCode.UNKNOWN),
            f"deliver ended with status {status} ({self.status_name})",
        )


class CommitError(Exception):
    """The transaction was committed to a block but marked invalid (for example MVCC_READ_CONFLICT).

    ``code`` is the ``TxValidationCode`` number, ``code_name`` its name. Not a gRPC error: every call succeeded.
    Retry an MVCC or phantom read conflict with a new proposal.
    """

    def __init__(self, code: int, transaction_id: str) -> None:
        self.code = code
        self.transaction_id = transaction_id
        super().__init__(f"transaction {transaction_id} failed to commit with status code {code} ({self.code_name})")

    @property
    def code_name(self) -> str:
        """Name of the ``TxValidationCode``, e.g. ``MVCC_READ_CONFLICT``."""
        return validation_code_name(self.code)


def validation_code_name(code: int) -> str:
    """Name of a ``TxValidationCode`` number, or ``UNKNOWN_<n>`` for a value this proto version does not know."""
    return _enum_name(transaction_pb2.TxValidationCode, code)


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum.Name(value))
    except ValueError:
        return f"UNKNOWN_{value}"


def rpc_error_status(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, list[ErrorDetail]]:
    """Return the code, message and decoded ``ErrorDetail``s of a failed gRPC call."""
    if not isinstance(error, grpc.Call):
        return grpc.StatusCode.UNKNOWN, str(error), []
    return error.code(), error.details() or "", _details_from_trailers(error.trailing_metadata())


def _details_from_trailers(trailers: Any) -> list[ErrorDetail]:
    for key, value in trailers or ():
        if key == _STATUS_DETAILS_KEY:
            return decode_status_details(value)
    return []


def decode_status_details(status_bytes: bytes) -> list[ErrorDetail]:
    """Decode the gateway ``ErrorDetail``s from a serialised ``google.rpc.Status``.

    Other detail types and malformed input are skipped: the details only enrich an error that is raised anyway.
    """
    details = []
    try:
        for any_bytes in _status_detail_anys(status_bytes):
            packed = any_pb2.Any.FromString(any_bytes)
            if packed.Is(gateway_pb2.ErrorDetail.DESCRIPTOR):
                detail = gateway_pb2.ErrorDetail()
                packed.Unpack(detail)
                details.append(ErrorDetail(detail.address, detail.msp_id, detail.message))
    except (ValueError, IndexError, DecodeError):
        return details
    return details


# google.rpc.Status is read by hand because its generated module ships in googleapis-common-protos, whose current
# releases need protobuf >= 6 while fabric_protos needs protobuf < 6; registering our own copy of status.proto in the
# default descriptor pool would clash if that package is ever installed. Only field 3 (repeated Any) is needed.
def _status_detail_anys(data: bytes) -> list[bytes]:
    anys = []
    position, end = 0, len(data)
    while position < end:
        key, position = _read_varint(data, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, position = _read_varint(data, position)
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            if position + length > end:
                raise ValueError("truncated google.rpc.Status")
            if field == 3:
                anys.append(data[position : position + length])
            position += length
        elif wire_type == 5:
            position += 4
        elif wire_type == 1:
            position += 8
        else:
            raise ValueError(f"unexpected wire type {wire_type} in google.rpc.Status")
    return anys


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
