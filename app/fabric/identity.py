"""Client identities: who signs, as the MSP sees it.

Owns the ``Identity`` protocol, the ``X509Identity`` value, the PEM loaders and the serialised creator bytes
(``msp.SerializedIdentity``) that go into every header and request. Mirrors Go ``pkg/identity/{identity,x509identity,
identity_util}.go`` and Node ``node/src/identity/identity.ts``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.msp import identities_pb2

__all__ = [
    "Identity",
    "X509Identity",
    "load_certificate",
    "load_private_key",
    "serialize_identity",
]

_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


@runtime_checkable
class Identity(Protocol):
    """An MSP member: the channel MSP ID and the PEM credentials the MSP deserialises."""

    @property
    def msp_id(self) -> str:
        """MSP ID exactly as in the channel configuration (case-sensitive, e.g. ``Org1MSP``)."""
        ...

    @property
    def credentials(self) -> bytes:
        """Identity bytes as the MSP expects them; for X.509, one PEM ``CERTIFICATE`` block."""
        ...


@dataclass(frozen=True, slots=True)
class X509Identity:
    """An X.509 identity: MSP ID plus one PEM certificate (no chain, nothing after it)."""

    msp_id: str
    credentials: bytes

    def __post_init__(self) -> None:
        if not self.msp_id:
            raise ValueError("msp_id must not be empty")
        if not isinstance(self.credentials, bytes):
            raise TypeError("credentials must be PEM bytes")
        # The MSP rejects a chain or trailing data with a bare "access denied", so catch it here.
        if self.credentials.count(_PEM_CERTIFICATE) != 1 or not self.credentials.lstrip().startswith(_PEM_CERTIFICATE):
            raise ValueError("credentials must hold exactly one PEM CERTIFICATE block")

    @classmethod
    def from_certificate(cls, msp_id: str, certificate: x509.Certificate) -> X509Identity:
        """Build the identity from a parsed certificate, PEM-encoded the way the MSP expects."""
        return cls(msp_id, certificate.public_bytes(serialization.Encoding.PEM))

    @property
    def certificate(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_pem_x509_certificate(self.credentials)


def serialize_identity(identity: Identity) -> bytes:
    """Return the serialised ``msp.SerializedIdentity`` used as the creator in headers and requests."""
    return identities_pb2.SerializedIdentity(mspid=identity.msp_id, id_bytes=identity.credentials).SerializeToString()


def _read_pem(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        if "-----BEGIN" not in source:
            raise ValueError("expected PEM text; pass a pathlib.Path to read a file")
        return source.encode("ascii")
    with open(source, "rb") as file:
        return file.read()


def load_certificate(source: bytes | str | os.PathLike[str]) -> x509.Certificate:
    """Load an X.509 certificate from PEM data (``bytes``/``str``) or a file path (``pathlib.Path``)."""
    return x509.load_pem_x509_certificate(_read_pem(source))


def load_private_key(
    source: bytes | str | os.PathLike[str], password: bytes | str | None = None
) -> ec.EllipticCurvePrivateKey:
    """Load an ECDSA private key from PEM data or a file path; ``password`` decrypts an encrypted PEM.

    Raises ``ValueError`` for bad data or a wrong password, ``TypeError`` for a key that is not ECDSA or a password
    given for an unencrypted key (or missing for an encrypted one).
    """
    if isinstance(password, str):
        password = password.encode("utf-8")
    key = serialization.load_pem_private_key(_read_pem(source), password=password)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"Fabric 2.5 needs an ECDSA private key, got {type(key).__name__}")
    return key
