"""Tables of the 110 link: which remote incident is which of ours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base


class LinkedIncident(Base):
    """An incident known to a peer by an EIDO id: one 110 transferred to us (``in``), or
    one of ours the peer sends follow-ups on (``out``). ``last_update_at`` is the
    ``lastUpdateTimeStamp`` of the latest EIDO applied: an older or equal one is ignored;
    ``notes_seen`` holds the EIDO note ids already written to the timeline."""

    __tablename__ = "interop_incidents"
    __table_args__ = (UniqueConstraint("peer", "remote_id", name="uq_interop_incidents_remote"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[str] = mapped_column(String(256))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    last_update_at: Mapped[datetime]
    updates_applied: Mapped[int] = mapped_column(default=0)
    notes_seen: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
