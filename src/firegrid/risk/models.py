"""Tables of the risk context: recorded assessment runs, their scores, single re-scores.

- ``risk_runs``: one row per assessment run — model name and version, the time the inputs
  were read (``snapshot_at``), who ran it, the counts, the held-out validation, the summary,
  the frozen normalisation (to re-score a venue later with the run's numbers), the column
  order of the stored per-venue lists, whether the run used synthetic data, its warnings.
- ``risk_scores``: one row per (run, venue): score, grades, percentiles, the indicator
  contributions (a list in ``risk_runs.indicator_keys`` order; they add up to the score) and
  the raw inputs the score was computed from (a JSON object of the input columns that are
  not already columns of the row; ``risk_runs.input_columns`` lists all of them),
  with copies of the venue's jurisdiction path and codes so that scoping and aggregation need
  no other context's table (contexts talk through services, not each other's tables).
- ``risk_rescores``: a recorded single-venue re-score after a change (cause, actor, time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class RiskRun(Base):
    """One recorded assessment run."""

    __tablename__ = "risk_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(64), index=True)
    model_version: Mapped[str] = mapped_column(String(32))
    catalogue_version: Mapped[str] = mapped_column(String(32))
    snapshot_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    actor: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    venue_count: Mapped[int] = mapped_column(default=0)
    synthetic: Mapped[bool] = mapped_column(default=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    normaliser: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    indicator_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    input_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report_path: Mapped[str] = mapped_column(String(500), default="")


class RiskScore(Base):
    """The score of one venue in one run."""

    __tablename__ = "risk_scores"
    __table_args__ = (
        Index("ix_risk_scores_venue_run", "venue_id", "run_id"),
        Index("ix_risk_scores_run_path", "run_id", "jurisdiction_path"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("risk_runs.id", ondelete="CASCADE"), primary_key=True
    )
    venue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jurisdiction_path: Mapped[str] = mapped_column(String(120))
    town_code: Mapped[str] = mapped_column(String(32), default="")
    village_code: Mapped[str] = mapped_column(String(32), default="")
    grid_code: Mapped[str] = mapped_column(String(32), default="")
    category: Mapped[str] = mapped_column(String(40), default="")
    industry_code: Mapped[str] = mapped_column(String(16), default="")
    is_key_unit: Mapped[bool] = mapped_column(default=False)
    is_high_risk: Mapped[bool] = mapped_column(default=False)
    occupancy: Mapped[int] = mapped_column(default=0)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    three_colour: Mapped[str] = mapped_column(String(8))
    pct_in_category: Mapped[float | None] = mapped_column(Float, default=None)
    pct_in_town: Mapped[float | None] = mapped_column(Float, default=None)
    contributions: Mapped[list[float]] = mapped_column(JSON, default=list)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RiskRescore(Base):
    """A recorded re-score of one venue with a run's frozen normalisation."""

    __tablename__ = "risk_rescores"
    __table_args__ = (Index("ix_risk_rescores_venue_at", "venue_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("risk_runs.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int] = mapped_column(Integer)
    jurisdiction_path: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    three_colour: Mapped[str] = mapped_column(String(8))
    previous_score: Mapped[float | None] = mapped_column(Float, default=None)
    previous_grade: Mapped[str] = mapped_column(String(8), default="")
    pct_in_category: Mapped[float | None] = mapped_column(Float, default=None)
    pct_in_town: Mapped[float | None] = mapped_column(Float, default=None)
    contributions: Mapped[list[float]] = mapped_column(JSON, default=list)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cause: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    compute_ms: Mapped[float] = mapped_column(Float, default=0.0)
