"""Domain errors with their HTTP status and one JSON envelope.

Every error that reaches a client has the shape
``{"error": {"code": ..., "message": ..., "details": ...}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of all errors the platform reports to a caller."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class OutsideCity(ValidationFailed):
    code = "outside_city"


class ImportFailed(ValidationFailed):
    code = "import_failed"


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build the JSON error envelope for errors not raised as :class:`DomainError`."""
    return {"error": {"code": code, "message": message, "details": details}}
