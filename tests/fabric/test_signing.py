"""Signatures must be DER and low-S, as Fabric's MSP demands."""

from __future__ import annotations

import hashlib
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from app.fabric import new_private_key_signer, none, normalize_der_signature, p1363_to_der, sha256

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P384_ORDER = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16)


def test_private_key_signer_always_gives_low_s_der_that_verifies():
    key = ec.generate_private_key(ec.SECP256R1())
    signer = new_private_key_signer(key)
    for index in range(300):
        message = f"message {index}".encode()
        signature = signer(sha256(message))
        r, s = decode_dss_signature(signature)  # raises unless DER
        assert encode_dss_signature(r, s) == signature
        assert 0 < s <= P256_ORDER // 2
        key.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))


def test_private_key_signer_supports_p384_keys_with_sha256_digests():
    key = ec.generate_private_key(ec.SECP384R1())
    signature = new_private_key_signer(key)(sha256(b"msg"))
    _, s = decode_dss_signature(signature)
    assert s <= P384_ORDER // 2
    key.public_key().verify(signature, b"msg", ec.ECDSA(hashes.SHA256()))


def test_private_key_signer_rejects_keys_fabric_25_cannot_verify():
    with pytest.raises(TypeError):
        new_private_key_signer(ed25519.Ed25519PrivateKey.generate())


def test_private_key_signer_never_reveals_the_key():
    key = ec.generate_private_key(ec.SECP256R1())
    signer = new_private_key_signer(key)
    secret = str(key.private_numbers().private_value)
    assert secret not in repr(signer)
    assert "secp256r1" in repr(signer)
    assert not hasattr(signer, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_p1363_signature_converts_to_low_s_der_that_verifies():
    key = ec.generate_private_key(ec.SECP256R1())
    high_s_seen = False
    for index in range(100):
        message = f"webcrypto {index}".encode()
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        if index % 2:  # force both halves: WebCrypto returns either
            s = P256_ORDER - s
        high_s_seen |= s > P256_ORDER // 2
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        der = p1363_to_der(raw)
        r2, s2 = decode_dss_signature(der)
        assert r2 == r and s2 <= P256_ORDER // 2
        key.public_key().verify(der, message, ec.ECDSA(hashes.SHA256()))
    assert high_s_seen


def test_p1363_rejects_wrong_length_and_out_of_range_values():
    with pytest.raises(ValueError):
        p1363_to_der(b"\x01" * 63)
    with pytest.raises(ValueError):
        p1363_to_der(b"\x00" * 64)
    with pytest.raises(ValueError):
        p1363_to_der(P256_ORDER.to_bytes(32, "big") + (1).to_bytes(32, "big"))


def test_normalize_der_signature_lowers_a_high_s():
    key = ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(key.sign(b"m", ec.ECDSA(hashes.SHA256())))
    high = encode_dss_signature(r, max(s, P256_ORDER - s))
    low = normalize_der_signature(high)
    assert decode_dss_signature(low) == (r, min(s, P256_ORDER - s))
    key.public_key().verify(low, b"m", ec.ECDSA(hashes.SHA256()))
    assert normalize_der_signature(low) == low


def test_hash_sha256_is_the_digest_and_none_is_the_message():
    assert sha256(b"abc") == hashlib.sha256(b"abc").digest()
    assert none(b"abc") == b"abc"
