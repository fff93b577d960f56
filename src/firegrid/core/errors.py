"""Domain errors with their HTTP status and one JSON envelope.

Every error that reaches a client has the shape
``{"error": {"code": ..., "message": ..., "details": ..., "message_code": ...,
"message_params": {...}}}``: ``code`` is the kind of error, ``message`` the English sentence,
``message_code``/``message_params`` the same sentence as a :class:`~firegrid.core.texts.TextCode`
and its parameters for the console to translate (``None``/``{}`` when it has none).
"""

from __future__ import annotations

from typing import Any, ClassVar

from firegrid.core.texts import Params, TextCode, params_of


class DomainError(Exception):
    """Base of all errors the platform reports to a caller."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    #: the text of a subclass whose every instance says one thing (an engine's or the
    #: infrastructure's refusal, its specifics in ``details``); ``text=`` still wins
    default_text: ClassVar[TextCode | None] = None

    def __init__(
        self,
        message: str,
        details: Any = None,
        *,
        text: TextCode | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.text_code = text if text is not None else self.default_text
        self.text_params: Params = params_of(params)

    def envelope(self) -> dict[str, Any]:
        return envelope(self.code, self.message, self.details, self.text_code, self.text_params)


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


def envelope(
    code: str,
    message: str,
    details: Any = None,
    message_code: TextCode | None = None,
    message_params: Params | None = None,
) -> dict[str, Any]:
    """Build the JSON error envelope (also for errors not raised as :class:`DomainError`)."""
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "message_code": message_code.value if message_code is not None else None,
            "message_params": dict(message_params or {}),
        }
    }
