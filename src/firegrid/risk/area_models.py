"""Tables of the area assessment and the regular assessment schedule (risk context).

- ``risk_area_grades``: one row per (run, level, area): the area score and grade, the
  indicator values and risks (JSON objects by indicator key), the drivers and the indicators
  that could not be computed; ``jurisdiction_path`` for spatial areas (city, town, village,
  grid) so a caller's scope is a prefix test, empty for industries and categories.
- ``risk_schedules``: one row per schedule of ``schedule.yaml``: the stored next run time (a
  restarted services process runs an overdue schedule at once), the last run and its
  outcome, the audit id up to which imports have been looked at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base


class RiskAreaGrade(Base):
    """One area's grade in one run."""

    __tablename__ = "risk_area_grades"
    __table_args__ = (Index("ix_risk_area_grades_level_code", "level", "code"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("risk_runs.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), default="", index=True)
    n_venues: Mapped[int] = mapped_column(Integer)
    area_score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    score_weighted: Mapped[float | None] = mapped_column(Float, default=None)
    venue_grades: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drivers: Mapped[list[str]] = mapped_column(JSON, default=list)
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)


class RiskSchedule(Base):
    """A regular assessment (定期评估) and its stored next run time."""

    __tablename__ = "risk_schedules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    last_run_id: Mapped[int | None] = mapped_column(default=None)
    last_status: Mapped[str] = mapped_column(String(16), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_cause: Mapped[str] = mapped_column(String(200), default="")
    import_audit_seen: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
