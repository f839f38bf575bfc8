"""Tokens, the caller, and user administration (organisation admins register users with the CA)."""

from __future__ import annotations

from apiflask import abort
from flask import request

from .. import users
from ..auth import ledger_for, token_auth
from ..idempotency import idempotent
from . import bp
from .schemas import Credentials, NewUser, Token, UserOut


def caller() -> users.User:
    """The user the bearer token belongs to."""
    return token_auth.current_user


@bp.post("/auth/tokens")
@bp.input(Credentials, arg_name="credentials")
@bp.output(Token, status_code=201)
@bp.doc(summary="Exchange a username and password for a bearer token", responses={401: "Wrong credentials"})
def create_token(credentials):
    user = users.authenticate(credentials["username"], credentials["password"])
    if user is None:
        abort(401, "wrong username or password")
    token, expires = users.issue_token(user)
    return {"token": token, "expiresAt": expires}


@bp.delete("/auth/tokens")
@bp.auth_required(token_auth)
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke the token of this request")
def revoke_token():
    users.revoke_token(request.headers["Authorization"].split(None, 1)[1])
    return ""


@bp.get("/me")
@bp.auth_required(token_auth)
@bp.doc(summary="The caller: gateway user and the identity the chaincode sees")
def me():
    user = caller()
    return {"username": user.username, "role": user.role, "enrollmentId": user.enrollment_id,
            "ledger": ledger_for(user).who_am_i()}  # fmt: skip


@bp.get("/users")
@bp.auth_required(token_auth, roles=["admin"])
@bp.output(UserOut(many=True))
@bp.doc(summary="The organisation's users (admins only)")
def list_users():
    return users.list_users()


@bp.post("/users")
@bp.auth_required(token_auth, roles=["admin"])
@bp.input(NewUser, arg_name="new_user")
@idempotent(caller)
@bp.doc(summary="Register and enrol a user with the organisation's CA (admins only)",
        responses={201: "Created", 422: "Invalid or taken username", 502: "The CA refused"})
def create_user(new_user):
    user = users.create_user(new_user["username"], new_user["password"], new_user["role"])
    return UserOut().dump(user), 201
