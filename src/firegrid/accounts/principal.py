"""The authenticated caller and its jurisdiction scope.

Every query of a scoped resource is filtered with :meth:`Principal.scope_filter` and every
single get is checked with :meth:`Principal.can_see_path`; an object outside the scope is
reported as not found (404), so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement

from firegrid.accounts.roles import permissions_of
from firegrid.core.errors import Forbidden
from firegrid.core.texts import TextCode


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a machine (API key), its role and its scope."""

    subject: str  # "user:<id>" or "apikey:<id>"
    username: str
    role: str
    scope_path: str  # materialised path of the scope node, e.g. "/441900/441900003/"
    scope_code: str
    venue_ids: frozenset[int] = field(default_factory=frozenset)  # venue_manager only
    allowed_routes: frozenset[str] | None = None  # API keys may be limited to routes
    session_id: str | None = None
    auth_method: str = ""  # "bearer", "cookie", "apikey" or "system"

    @property
    def user_id(self) -> int | None:
        """The id of the user behind the caller (``None`` for an API key or the system)."""
        kind, _, value = self.subject.partition(":")
        return int(value) if kind == "user" and value.isdigit() else None

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.role)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def check(self, permission: str) -> None:
        if not self.has(permission):
            raise Forbidden(
                f"role {self.role!r} may not {permission!r}",
                {"permission": permission},
                text=TextCode.ACCESS_ROLE,
                params={"role": self.role, "permission": permission},
            )

    def can_see_path(self, path: str) -> bool:
        return path.startswith(self.scope_path)

    def scope_filter(self, path_column: Any) -> ColumnElement[bool]:
        """SQL condition keeping rows whose jurisdiction path lies in the caller's scope."""
        condition: ColumnElement[bool] = path_column.startswith(self.scope_path, autoescape=True)
        return condition


def system_principal(name: str = "system") -> Principal:
    """The operator at the command line: an administrator of the whole tree."""
    return Principal(
        subject=f"system:{name}",
        username=name,
        role="admin",
        scope_path="/",
        scope_code="",
        auth_method="system",
    )
