"""Chaincode errors with a stable code prefix, so clients map them without parsing prose.

A raised exception becomes a status-500 response whose message is ``"<CODE>: <text>"``.
"""


class ChaincodeError(Exception):
    """Base class: ``str(err)`` is ``"<CODE>: <message>"``."""

    code = "ERROR"

    def __init__(self, message: str):
        super().__init__(f"{self.code}: {message}")
        self.message = message

    def within(self, context: str) -> "ChaincodeError":
        """The same error, same code, with ``context`` before the message (``"CODE: context: message"``)."""
        return type(self)(f"{context}: {self.message}")


class InvalidArgument(ChaincodeError):
    code = "INVALID_ARGUMENT"


class NotFound(ChaincodeError):
    code = "NOT_FOUND"


class Forbidden(ChaincodeError):
    code = "FORBIDDEN"


class Conflict(ChaincodeError):
    code = "CONFLICT"


class LimitExceeded(ChaincodeError):
    code = "LIMIT_EXCEEDED"


class InvalidSignature(ChaincodeError):
    """A document signature that does not verify, or one already recorded elsewhere (a replay)."""

    code = "INVALID_SIGNATURE"
