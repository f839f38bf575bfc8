"""The gateway's users: each is a Fabric identity enrolled with the organisation's CA, with a role attribute.

Creating a user registers it with the CA (``role`` goes into its certificates, where the chaincode reads it),
enrols it with a key made here, and stores the certificate and the encrypted key. Every transaction the user
makes is signed with that key. Portal users log in with a password (scrypt hash); API clients send a bearer token
(only its SHA-256 is stored).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db
from .fabric_ca import CAError
from .keystore import KeyStore

ROLES = ("admin", "operator", "auditor")
"""admin: registers users and writes; operator: writes; auditor: reads only (the chaincode enforces it too)."""
SERVICE_ROLES = ("verifier",)
"""Roles only the gateway's own users have. verifier: reads and records verification scans."""
USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")
MIN_PASSWORD = 10


class UserError(ValueError):
    """A user cannot be created as asked; the message says why. Nothing was stored."""


@dataclass
class User(UserMixin):
    """A stored user (no key material: see ``signing_key``)."""

    id: int
    username: str
    role: str
    enrollment_id: str
    certificate: bytes

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "operator")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def signing_key(self):
        """The user's private key, decrypted for signing."""
        row = get_db().execute("SELECT encrypted_key FROM user WHERE id = ?", (self.id,)).fetchone()
        return _keystore().open(row["encrypted_key"], self.enrollment_id)


def _keystore() -> KeyStore:
    return KeyStore(current_app.config["KEY_ENCRYPTION_KEY"])


def _from_row(row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(row["id"], row["username"], row["role"], row["enrollment_id"], row["certificate"].encode())


def validate_new_user(username: str, password: str, role: str, roles: tuple[str, ...] = ROLES) -> None:
    """Raise UserError naming the first thing wrong with these fields (``role`` must be one of ``roles``)."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise UserError("username must be 3 to 32 characters: a lower-case letter, then letters, digits, '.', '_', '-'")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"password must have at least {MIN_PASSWORD} characters")
    if role not in roles:
        raise UserError(f"role must be one of {', '.join(roles)}")
    if get_db().execute("SELECT 1 FROM user WHERE username = ?", (username,)).fetchone():
        raise UserError(f"user {username} already exists")


def create_user(username: str, password: str, role: str, instance_suffix: bool = False, *,
                roles: tuple[str, ...] = ROLES) -> User:
    """Register and enrol ``username`` with the organisation's CA, then store it. Raises UserError or CAError.

    ``instance_suffix`` makes the enrolment ID unique to this gateway instance (for the gateway's own users, which
    every instance of an organisation's gateway creates under the same name).
    """
    validate_new_user(username, password, role, roles)
    org = current_app.extensions["organization"]
    ca = org.ca()
    # The enrolment ID names the gateway's organisation so IDs read well in certificates and chaincode events.
    suffix = f".{secrets.token_hex(4)}" if instance_suffix else ""
    enrollment_id = f"{username}{suffix}@{org.name.lower()}"
    try:
        secret = ca.register(org.registrar(current_app.config["REGISTRAR"]), enrollment_id, {"role": role})
    except CAError as err:
        if "already registered" in str(err).lower():
            raise UserError(f"{enrollment_id} is already registered with the CA") from None
        raise
    enrolled = ca.enroll(enrollment_id, secret)
    db = get_db()
    cursor = db.execute(
        "INSERT INTO user (username, password_hash, role, enrollment_id, certificate, encrypted_key)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (username, generate_password_hash(password), role, enrollment_id, enrolled.certificate.decode(),
         _keystore().seal(enrolled.private_key, enrollment_id)),
    )  # fmt: skip
    return get_user(cursor.lastrowid)


def get_user(user_id: int) -> User | None:
    """The user with this ID, or None."""
    return _from_row(get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone())


def list_users() -> list[User]:
    """Every user, by name."""
    return [_from_row(r) for r in get_db().execute("SELECT * FROM user ORDER BY username").fetchall()]


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right, else None (the same answer for an unknown name)."""
    row = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    if row is None:
        check_password_hash(generate_password_hash("timing"), password)  # unknown names take as long
        return None
    if row["password_hash"] == "!":  # a service user: no password logs in as it
        return None
    return _from_row(row) if check_password_hash(row["password_hash"], password) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, float]:
    """A new bearer token for ``user`` and its expiry (epoch seconds)."""
    token = secrets.token_urlsafe(32)
    expires = time.time() + current_app.config["TOKEN_TTL_SECONDS"]
    get_db().execute("INSERT INTO token (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                     (_digest(token), user.id, expires))  # fmt: skip
    return token, expires


def user_for_token(token: str) -> User | None:
    """The user a valid, unexpired token belongs to, or None."""
    row = get_db().execute(
        "SELECT user.* FROM token JOIN user ON user.id = token.user_id WHERE token_hash = ? AND expires_at > ?",
        (_digest(token), time.time()),
    ).fetchone()
    return _from_row(row)


def revoke_token(token: str) -> None:
    """Forget a token (logout of an API client)."""
    get_db().execute("DELETE FROM token WHERE token_hash = ?", (_digest(token),))


def service_user(username: str, role: str) -> User:
    """A user the gateway itself acts as (no password can log in as it), created on first use."""
    with _service_lock:
        row = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        if row is not None:
            return _from_row(row)
        user = create_user(username, secrets.token_urlsafe(32), role, instance_suffix=True,
                           roles=ROLES + SERVICE_ROLES)
        get_db().execute("UPDATE user SET password_hash = '!' WHERE id = ?", (user.id,))
        return user


_service_lock = threading.Lock()
