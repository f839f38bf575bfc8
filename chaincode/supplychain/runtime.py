"""Start-up fixes for fabric-chaincode-python 2.5.4, applied before the service starts.

Each fix is here because the library has no setting for it:

- Serialised stream writes. The library's handler writes to the peer stream from several
  asyncio tasks at once; overlapping writes fail with GRPC_CALL_ERROR_TOO_MANY_OPERATIONS,
  and when the lost write is a COMPLETED message the peer waits out its execute timeout
  while holding the ledger's commit lock. Every write goes through one asyncio.Lock.
- Chaincode events. ``stub.set_event`` records the event but the library's handler never
  sends it to the peer, so no event ever reached a listener. The COMPLETED message here
  carries it (one event per transaction, the last one set, as in the Go shim).
- ``org.hyperledger.fabric:GetMetadata``. The library answers only ``get_metadata``;
  the official contract APIs and tools call ``GetMetadata``.
- Logging. The library logs every message at DEBUG/INFO and warns once per message,
  which costs two to three times the CPU of a transaction.
"""

from __future__ import annotations

import asyncio
import logging

from fabric_chaincode_python.fabric_contract_api import ContractChaincode
from fabric_chaincode_python.fabric_shim import handler as shim_handler
from fabric_chaincode_python.fabric_shim import server as shim_server
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2, proposal_response_pb2

ERROR_STATUS = 400

SYSTEM_CONTRACT = "org.hyperledger.fabric"


class SerialisedWrites:
    """A servicer-context proxy whose ``write`` lets one message onto the stream at a time."""

    def __init__(self, context):
        self._context = context
        self._lock = asyncio.Lock()

    async def write(self, message) -> None:
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name):
        return getattr(self._context, name)


class SerialisedHandler(shim_handler.Handler):
    """The library's handler, talking to the peer through :class:`SerialisedWrites`."""

    async def chat_with_peer(self, stream, context):
        # The message-queue handler copies the context when the stream starts, so wrapping
        # it here covers every write: registration, state calls and COMPLETED messages.
        return await super().chat_with_peer(stream, SerialisedWrites(context))

    async def handle_stub_interaction(self, msg, action="Invoke"):
        """Run Init/Invoke and answer COMPLETED with the response and the chaincode event."""
        stub = ChaincodeStub(self, msg.channel_id, msg.txid, chaincode_pb2.ChaincodeInput.FromString(msg.payload),
                             msg.proposal)  # fmt: skip
        run = self.chaincode.init if (action or "").lower() == "init" else self.chaincode.invoke
        response = await run(stub)
        if not response or not response.status:
            response = proposal_response_pb2.Response(status=500, message=f"chaincode {action} returned no response")
        completed = chaincode_shim_pb2.ChaincodeMessage(
            type=chaincode_shim_pb2.ChaincodeMessage.COMPLETED,
            payload=response.SerializeToString(),
            txid=msg.txid,
            channel_id=msg.channel_id,
        )
        events = stub.get_events()
        if events and response.status < ERROR_STATUS:
            # The peer fills in the chaincode name; a failed transaction emits nothing.
            completed.chaincode_event.event_name = events[-1].event_name
            completed.chaincode_event.payload = events[-1].payload
            completed.chaincode_event.tx_id = msg.txid
        await self.context.write(completed)


class Chaincode(ContractChaincode):
    """ContractChaincode that also answers ``org.hyperledger.fabric:GetMetadata``."""

    def _get_namespace_function_and_params(self, stub):
        ns, fn, params = super()._get_namespace_function_and_params(stub)
        if ns == SYSTEM_CONTRACT and fn == "GetMetadata":
            fn = "get_metadata"
        return ns, fn, params


def install() -> None:
    """Apply the stream and logging fixes to the library (idempotent)."""
    shim_server.Handler = SerialisedHandler
    logging.getLogger().setLevel(logging.INFO)
    # The library's own logger is "asyncio"; it warns on every message it receives.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
