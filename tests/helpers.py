"""Helpers shared by API tests: users with tokens, on any migrated database."""

from __future__ import annotations

import itertools

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
