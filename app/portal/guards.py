"""What every portal write page does first: refuse read-only users, report a form's errors."""

from __future__ import annotations

from flask import flash, redirect
from flask_login import current_user
from werkzeug.wrappers import Response


def writer_only(back: str) -> Response | None:
    """A redirect to ``back`` with a message when the signed-in user may not write; None when they may."""
    if current_user.can_write:
        return None
    flash(f"role {current_user.role} reads but does not write", "error")
    return redirect(back)


def flash_form_errors(form) -> None:
    """One message naming each invalid field of ``form`` and what is wrong with it."""
    flash("; ".join(f"{getattr(form, k).label.text}: {', '.join(v)}" for k, v in form.errors.items()), "error")
