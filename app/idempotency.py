"""Idempotency keys on POST: a retried request is answered from the first one's response, never submitted twice.

The client sends ``Idempotency-Key: <unique string>`` (IETF draft "The Idempotency-Key HTTP Header Field").
The first request with a key is claimed in the database before it runs, so a concurrent retry gets 409 instead of
a second submit. Its response is stored once it is final (2xx or 4xx) and replayed with ``Idempotent-Replayed:
true``. After a 5xx the claim is dropped: nothing was acknowledged, so the client may retry with the same key.
Keys are per user and remembered for ``IDEMPOTENCY_TTL_SECONDS``; the same key with a different request is
refused with 422.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import time

from flask import Response, current_app, make_response, request

from .db import get_db
from .problems import problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _request_hash() -> str:
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data())
    # A multipart body was consumed by form parsing (which keeps no copy): hash its parsed fields and files instead.
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"\n{name}={value}".encode())
    for name, file in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(f"\n{name}:{file.filename}:{file.mimetype}\n".encode())
        digest.update(file.stream.read())
        file.stream.seek(0)
    return digest.hexdigest()


def _claim(db: sqlite3.Connection, user_id: int, key: str, request_hash: str) -> Response | None:
    """Claim ``key`` for this request; or the response to give instead (replay, in progress, misuse)."""
    now = time.time()
    db.execute("DELETE FROM idempotency WHERE created_at < ?", (now - current_app.config["IDEMPOTENCY_TTL_SECONDS"],))
    try:
        db.execute("INSERT INTO idempotency (user_id, key, request_hash, created_at) VALUES (?, ?, ?, ?)",
                   (user_id, key, request_hash, now))  # fmt: skip
        return None
    except sqlite3.IntegrityError:
        row = db.execute("SELECT * FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key)).fetchone()
    if row is None:  # expired between the two statements
        return _claim(db, user_id, key, request_hash)
    if row["request_hash"] != request_hash:
        return problem(422, f"{HEADER} {key!r} was already used for a different request", "IDEMPOTENCY_KEY_REUSED")
    if row["status"] is None:
        return problem(409, f"the request with {HEADER} {key!r} is still being processed; retry later",
                       "REQUEST_IN_PROGRESS", {"Retry-After": "1"})  # fmt: skip
    replay = Response(row["body"], row["status"], content_type=row["content_type"])
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def idempotent(user_of):
    """Decorate a POST view: ``user_of()`` gives the calling user. The header is required."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER, "")
            if not key or len(key) > MAX_KEY_LENGTH:
                return problem(400, f"the {HEADER} header is required on POST (1 to {MAX_KEY_LENGTH} characters), "
                               "so that a retried request is never applied twice", "IDEMPOTENCY_KEY_REQUIRED")
            db, user_id = get_db(), user_of().id
            answer = _claim(db, user_id, key, _request_hash())
            if answer is not None:
                return answer
            try:
                try:
                    response = make_response(view(*args, **kwargs))
                except Exception as err:  # a handled error (a ledger rejection, say) is a final answer too
                    response = make_response(current_app.handle_user_exception(err))
            except BaseException:
                db.execute("DELETE FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key))
                raise
            if response.status_code >= 500:
                db.execute("DELETE FROM idempotency WHERE user_id = ? AND key = ?", (user_id, key))
            else:
                db.execute("UPDATE idempotency SET status = ?, body = ?, content_type = ? WHERE user_id = ? AND key = ?",
                           (response.status_code, response.get_data(), response.content_type, user_id, key))
            return response

        return wrapper

    return decorate
