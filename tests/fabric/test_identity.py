"""Identities and PEM loading."""

from __future__ import annotations

import pathlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fabric_protos.msp import identities_pb2

from app.fabric import X509Identity, load_certificate, load_private_key, serialize_identity


def test_serialized_identity_holds_msp_id_and_exactly_the_pem_certificate(credentials):
    identity = X509Identity.from_certificate("Org1MSP", credentials.certificate)
    parsed = identities_pb2.SerializedIdentity.FromString(serialize_identity(identity))
    assert parsed.mspid == "Org1MSP"
    assert parsed.id_bytes == credentials.certificate_pem
    assert parsed.id_bytes.endswith(b"-----END CERTIFICATE-----\n")
    assert identity.certificate == credentials.certificate


def test_x509_identity_rejects_a_chain_or_an_empty_msp_id(credentials):
    with pytest.raises(ValueError):
        X509Identity("Org1MSP", credentials.certificate_pem * 2)
    with pytest.raises(ValueError):
        X509Identity("", credentials.certificate_pem)
    with pytest.raises(ValueError):
        X509Identity("Org1MSP", b"not a certificate")


def test_load_certificate_accepts_bytes_text_and_paths(credentials, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_bytes(credentials.certificate_pem)
    assert load_certificate(credentials.certificate_pem) == credentials.certificate
    assert load_certificate(credentials.certificate_pem.decode()) == credentials.certificate
    assert load_certificate(path) == credentials.certificate
    with pytest.raises(ValueError, match=r"pathlib\.Path"):
        load_certificate(str(path))


def test_load_private_key_decrypts_an_encrypted_pem(credentials, tmp_path: pathlib.Path):
    encrypted = credentials.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    path = tmp_path / "key.pem"
    path.write_bytes(encrypted)
    for password in (b"s3cret", "s3cret"):
        key = load_private_key(path, password)
        assert key.private_numbers() == credentials.key.private_numbers()
    with pytest.raises(ValueError):
        load_private_key(encrypted, b"wrong")


def test_load_private_key_rejects_non_ecdsa_keys():
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(TypeError):
        load_private_key(pem)
    plain = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert isinstance(load_private_key(plain), ec.EllipticCurvePrivateKey)
