"""Helpers shared by tests: users with tokens on any migrated database, and waiting in an
event loop for a condition."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from argon2 import PasswordHasher

from firegrid.accounts.passwords import set_hasher
from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_user
from firegrid.accounts.sessions import start_token_session
from firegrid.core.db import Database
from firegrid.core.settings import Settings

_numbers = itertools.count(1)


def bearer(database: Database, settings: Settings, role: str, scope_code: str) -> dict[str, str]:
    """Create a user of ``role`` scoped to ``scope_code`` and return its auth header."""
    set_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with database.session() as session:
        user, _ = create_user(
            session,
            system_principal("tests"),
            username=f"{role}-{next(_numbers)}",
            role=role,
            scope_code=scope_code,
            password="correct-horse-battery-42",
        )
        tokens = start_token_session(session, settings, user)
    return {"Authorization": f"Bearer {tokens.access_token}"}


async def until(check: Callable[[], object], timeout_s: float = 10.0, what: str = "") -> None:
    """Yield to the event loop until ``check()`` is true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or 'the condition'}"
        await asyncio.sleep(0.02)
