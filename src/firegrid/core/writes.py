"""What a write through any edge (API, import, CLI) carries into a context's rules.

Shared kernel: the coordinate system a caller speaks (:class:`Crs`; stored data is always
WGS-84, converted at the edges) and the acting caller as the rules need it (:class:`Actor`:
who, and which jurisdiction paths it may touch). ``accounts.Principal`` is an ``Actor``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session


class Crs(StrEnum):
    """Coordinate systems accepted and emitted at the API and import edges."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


class Actor(Protocol):
    """The caller of a write, as the rules see it."""

    @property
    def subject(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def scope_path(self) -> str: ...

    def can_see_path(self, path: str) -> bool: ...


@dataclass(frozen=True)
class WriteContext:
    """What a ``prepare`` hook may use: the session, the caller and the request's CRS."""

    session: Session
    principal: Actor
    crs: Crs
