"""Tables of the grid link: which grid-platform item is which of ours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base


class GridItem(Base):
    """A grid-platform item (``event_id``) and our hazard or task made from it.

    ``last_update_at`` is the ``updated_at`` of the latest grid event applied: an older or
    equal one is not applied again (out of order, or replayed)."""

    __tablename__ = "gridlink_items"
    __table_args__ = (
        UniqueConstraint("peer", "event_id", name="uq_gridlink_items_event"),
        Index("ix_gridlink_items_local", "kind", "local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    peer: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # hazard | task
    local_id: Mapped[int]
    last_update_at: Mapped[datetime]
    updates_applied: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
