"""Column mixins shared by the contexts' tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow


def generated_code(prefix: str) -> Callable[[], str]:
    """The default of an external ``code`` column: rows made inside the platform (the API, a
    phone, the demo) get ``<prefix><16 hex>`` so the bulk exports, keyed by code, carry them
    too; an import brings its own code."""

    def make() -> str:
        return f"{prefix}{uuid.uuid4().hex[:16]}"

    return make


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
