"""One gRPC channel to the organisation's peer per process, and one Gateway per signed-in user over it.

Gateways for keys held elsewhere (browsers) have no signer and are made per use over the same channel.

A Gateway is cheap but owns a commit-watcher thread, so the pool keeps the most recently used ones and closes the
rest. The channel opens on first use, after a forking server has forked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import grpc

from .fabric import Gateway, X509Identity, connect, new_grpc_channel, new_private_key_signer, none
from .organization import Organization

MAX_GATEWAYS = 32


class GatewayPool:
    """Gateways to ``organization``'s peer, keyed by user."""

    def __init__(self, organization: Organization, size: int = MAX_GATEWAYS):
        self.organization, self.size = organization, size
        self._channel: grpc.Channel | None = None
        self._gateways: OrderedDict[tuple, Gateway] = OrderedDict()
        self._lock = threading.Lock()

    def _grpc_channel(self) -> grpc.Channel:
        if self._channel is None:
            org = self.organization
            self._channel = new_grpc_channel(org.peer_address, org.tls_root_pem, server_name_override=org.peer_host)
        return self._channel

    def gateway(self, user_key: str, certificate: bytes, load_key) -> Gateway:
        """The Gateway signing as this user; ``load_key()`` gives the private key when one must be made."""
        key = (user_key, certificate)
        with self._lock:
            found = self._gateways.get(key)
            if found is not None:
                self._gateways.move_to_end(key)
                return found
            identity = X509Identity(self.organization.msp_id, certificate)
            gateway = connect(identity, new_private_key_signer(load_key()), channel=self._grpc_channel())
            self._gateways[key] = gateway
            while len(self._gateways) > self.size:
                self._gateways.popitem(last=False)[1].close()
            return gateway

    def offline_gateway(self, certificate: bytes) -> Gateway:
        """A Gateway acting as ``certificate`` with no signer and hash ``none``: its requests are signed elsewhere.

        It opens no stream and holds no thread, so one is made per use; close it when done.
        """
        identity = X509Identity(self.organization.msp_id, certificate)
        return connect(identity, channel=self._grpc_channel(), hash=none)

    def close(self) -> None:
        """Close every Gateway and the channel."""
        with self._lock:
            for gateway in self._gateways.values():
                gateway.close()
            self._gateways.clear()
            if self._channel is not None:
                self._channel.close()
                self._channel = None
