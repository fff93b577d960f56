"""Column mixins shared by the contexts' tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow


class Timestamped:
    """Created/updated times and a soft-delete marker (history matters)."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Located:
    """A WGS-84 point and the materialised path of the jurisdiction that contains it.

    ``jurisdiction_path`` (e.g. ``/441900/441900003/441900003001/44190000300101/``) makes
    scoping a prefix test: a user scoped to a town sees rows whose path starts with the
    town's path.
    """

    lon: Mapped[float]
    lat: Mapped[float]
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
