"""Building the unsigned requests that open event streams: start positions, ChaincodeEvents requests and the
Deliver seek envelope.

Internal to the package. Mirrors Go ``pkg/client/{eventsbuilder,chaincodeeventsbuilder,blockeventsbuilder}.go`` and
Node ``node/src/{eventsbuilder,chaincodeeventsbuilder,blockeventsbuilder}.ts``.
"""

from __future__ import annotations

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.orderer import ab_pb2

from .checkpoint import Checkpoint
from .proposalbuilder import timestamp_now

_MAX_BLOCK_NUMBER = 2**64 - 1


def start_position(start_block: int | None, checkpoint: Checkpoint | None) -> tuple[ab_pb2.SeekPosition, str]:
    """Return the seek start and the transaction ID to resume after.

    A checkpoint holding a position wins over ``start_block``; an empty one (nothing checkpointed, or Go's ``(0, "")``)
    falls back to ``start_block``, then to the next block committed.
    """
    if checkpoint is not None:
        block_number = checkpoint.block_number
        transaction_id = checkpoint.transaction_id or ""
        if block_number is not None and (block_number != 0 or transaction_id):
            return _specified(block_number), transaction_id
    if start_block is not None:
        if start_block < 0:
            raise ValueError("start_block must not be negative")
        return _specified(start_block), ""
    return ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit()), ""


def _specified(block_number: int) -> ab_pb2.SeekPosition:
    return ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=block_number))


def chaincode_events_request(
    channel_name: str,
    chaincode_name: str,
    creator: bytes,
    start_block: int | None,
    checkpoint: Checkpoint | None,
) -> gateway_pb2.SignedChaincodeEventsRequest:
    """Build an unsigned ``SignedChaincodeEventsRequest``."""
    start, after_transaction_id = start_position(start_block, checkpoint)
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel_name,
        chaincode_id=chaincode_name,
        identity=creator,
        start_position=start,
        after_transaction_id=after_transaction_id,
    )
    return gateway_pb2.SignedChaincodeEventsRequest(request=request.SerializeToString())


def seek_envelope(
    channel_name: str,
    creator: bytes,
    start_block: int | None,
    checkpoint: Checkpoint | None,
    tls_certificate_hash: bytes | None,
) -> common_pb2.Envelope:
    """Build an unsigned Deliver request envelope (DELIVER_SEEK_INFO, from the start position to the end of time).

    The timestamp must be within the peer's ``authentication.timewindow`` (15 min), so build it just before use.
    """
    start, _ = start_position(start_block, checkpoint)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.DELIVER_SEEK_INFO,
        timestamp=timestamp_now(),
        channel_id=channel_name,
        epoch=0,
        tls_cert_hash=tls_certificate_hash or b"",
    )
    seek_info = ab_pb2.SeekInfo(
        start=start,
        stop=_specified(_MAX_BLOCK_NUMBER),
        behavior=ab_pb2.SeekInfo.BLOCK_UNTIL_READY,
        error_response=ab_pb2.SeekInfo.STRICT,
        content_type=ab_pb2.SeekInfo.BLOCK,
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader(creator=creator).SerializeToString(),
        ),
        data=seek_info.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString())
