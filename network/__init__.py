"""A real Hyperledger Fabric network of native processes, declared in topology.yaml.

Run ``python -m network --help`` for the commands; :class:`network.controller.Network`
is the same thing as a library (the tests use it).
"""

from .controller import Network, NetworkError

__all__ = ["Network", "NetworkError"]
