"""The ``fire_records`` table: one row per fire, with cause, origin, casualties and loss."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base
from firegrid.core.models import Located, Timestamped


class RecordSource(StrEnum):
    IMPORTED = "imported"  # a past record from the statistics (file import)
    INCIDENT = "incident"  # filled in after one of our incidents closed


class ReviewState(StrEnum):
    DRAFT = "draft"  # being filled in; editable
    SUBMITTED = "submitted"  # handed to the reviewing officer; editable only by returning it
    LOCKED = "locked"  # reviewed and locked: immutable


#: allowed review moves (anything else is refused)
REVIEW_TRANSITIONS: dict[ReviewState, frozenset[ReviewState]] = {
    ReviewState.DRAFT: frozenset({ReviewState.SUBMITTED}),
    ReviewState.SUBMITTED: frozenset({ReviewState.DRAFT, ReviewState.LOCKED}),
    ReviewState.LOCKED: frozenset(),
}


class FireRecord(Located, Timestamped, Base):
    """火灾记录: what burned, why, who was hurt and what it cost."""

    __tablename__ = "fire_records"
    __table_args__ = (Index("ix_fire_records_town_occurred", "town_code", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    town_code: Mapped[str] = mapped_column(String(32), default="")
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), default=None, index=True)
    venue_category: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    incident_type: Mapped[str] = mapped_column(String(32))
    cause_code: Mapped[str] = mapped_column(String(32), default="unknown")
    origin_code: Mapped[str] = mapped_column(String(32), default="unknown")
    heat_source_code: Mapped[str] = mapped_column(String(32), default="unknown")
    item_first_ignited_code: Mapped[str] = mapped_column(String(32), default="unknown")
    civilian_injured: Mapped[int] = mapped_column(default=0)
    civilian_killed: Mapped[int] = mapped_column(default=0)
    firefighter_injured: Mapped[int] = mapped_column(default=0)
    firefighter_killed: Mapped[int] = mapped_column(default=0)
    direct_loss_yuan: Mapped[float] = mapped_column(default=0.0)
    area_burned_m2: Mapped[float] = mapped_column(default=0.0)
    detector_presence: Mapped[str] = mapped_column(String(16), default="unknown")
    detector_performance: Mapped[str] = mapped_column(String(32), default="unknown")
    alarm_system_presence: Mapped[str] = mapped_column(String(16), default="unknown")
    alarm_system_performance: Mapped[str] = mapped_column(String(32), default="unknown")
    sprinkler_presence: Mapped[str] = mapped_column(String(16), default="unknown")
    sprinkler_performance: Mapped[str] = mapped_column(String(32), default="unknown")
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    vehicles_used: Mapped[int] = mapped_column(default=0)
    personnel_used: Mapped[int] = mapped_column(default=0)
    narrative: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(16), default=RecordSource.IMPORTED.value)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id"), default=None, unique=True
    )
    # the monitoring centre's view of the same fire (from alarms' read API, for incidents)
    call_received_at: Mapped[datetime | None] = mapped_column(default=None)
    connected_alarm_id: Mapped[int | None] = mapped_column(default=None)
    connected_alarm_at: Mapped[datetime | None] = mapped_column(default=None)
    review_state: Mapped[str] = mapped_column(String(16), default=ReviewState.DRAFT.value)
    filled_by: Mapped[str] = mapped_column(String(120), default="")
    reviewed_by: Mapped[str] = mapped_column(String(120), default="")
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str] = mapped_column(String(300), default="")
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
