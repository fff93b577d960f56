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


class SwitchCall(Base):
    """A call as the fire command centre's switch reports it (offered, answered,
    transferred, released): the telephony seam. firegrid records the events and opens the
    call in intake; it never carries or records voice."""

    __tablename__ = "telephony_calls"
    __table_args__ = (UniqueConstraint("switch_call_id", name="uq_telephony_calls_switch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    switch_call_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    trunk: Mapped[str] = mapped_column(String(32), default="")
    seat: Mapped[str] = mapped_column(String(64), default="")
    transferred_to: Mapped[str] = mapped_column(String(64), default="")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), default="", index=True)
    intake_call_id: Mapped[int | None] = mapped_column(default=None)
    offered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    events: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class SeatRequest(Base):
    """A request of the fire remote seat (at the 110 centre) to the switch: monitor
    (listen), barge in (强插) or release (强拆) a 119 call; the switch adapter collects it
    and reports the outcome."""

    __tablename__ = "telephony_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("telephony_calls.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(300), default="")
