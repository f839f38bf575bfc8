"""The one shape of a refusal the gateway reports: a stable code, a message and an HTTP status.

``app/problems.py`` renders every ``CodedError`` as ``application/problem+json`` (or a page for browsers).
Imports nothing but the standard library, so the offline evidence verifier's package may use it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CodedError(Exception):
    """A refusal: ``code`` (stable, for programs), ``message`` (for people) and the HTTP ``status``."""

    code: str
    message: str
    status: int = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
