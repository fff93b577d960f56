"""Errors of the accounts context."""

from __future__ import annotations

from typing import Any

from firegrid.core.errors import DomainError
from firegrid.core.texts import TextCode


class LoginThrottled(DomainError):
    """Too many failed sign-ins from this address (for this name, or overall): wait.

    Only the address that failed is slowed down; the account itself stays open to its
    operator signing in from elsewhere. ``Retry-After`` says how long to wait.
    """

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: int, details: dict[str, Any]) -> None:
        super().__init__(
            message,
            {**details, "retry_after_s": retry_after_s},
            text=TextCode.AUTH_LOGIN_THROTTLED,
            params={"retry_after_s": retry_after_s},
        )
        self.headers = {"Retry-After": str(retry_after_s)}


class InsecureConfiguration(RuntimeError):
    """The process refuses to start in production with a demo or default secret."""


class DemoRefused(DomainError):
    """Demo users are never created in production."""

    status = 409
    code = "demo_refused"
