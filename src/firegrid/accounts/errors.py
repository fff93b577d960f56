"""Errors of the accounts context."""

from __future__ import annotations

from firegrid.core.errors import DomainError


class AccountLocked(DomainError):
    """Too many failed sign-ins: the name (or the client address) is locked for a while."""

    status = 423
    code = "account_locked"


class InsecureConfiguration(RuntimeError):
    """The process refuses to start in production with a demo or default secret."""


class DemoRefused(DomainError):
    """Demo users are never created in production."""

    status = 409
    code = "demo_refused"
