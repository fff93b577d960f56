"""``live_entries``: append-only change entries of dispatch (incidents, unit statuses).

An entry is written in the same transaction as the change it reports (see
:mod:`firegrid.live.writer`), so the channel never shows what was rolled back and never
misses what was committed. ``id`` is monotonic and is the second half of the channel's
SSE id (``<alarm feed id>-<live entry id>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LiveEntry(Base):
    """One change of an incident (``incident.new`` / ``incident.updated``) or of a unit's
    status (``unit.status``); ``paths`` lists further jurisdictions that may read it (the
    forces asked for aid on an incident)."""

    __tablename__ = "live_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    paths: Mapped[list[str]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
