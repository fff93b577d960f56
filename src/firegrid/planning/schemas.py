"""API shapes of the planning context."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    cost: float = Field(1.0, ge=0)


class StationPlanIn(BaseModel):
    """Ask where the next stations go (the existing ones stay open)."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["lscp", "mclp", "pmedian", "pcenter", "backup", "mexclp"] = "mclp"
    add: int = Field(5, ge=0, le=500, description="New sites (P); not used by lscp.")
    minutes: float = Field(5.0, gt=0, le=60, description="Coverage threshold T (minutes).")
    spacing_m: float | None = Field(
        1000.0, ge=50, le=20000, description="Grid candidates every N m; null: only listed."
    )
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=20000)
    weighting: Literal["risk_occupancy", "risk", "occupancy", "uniform"] = "risk_occupancy"
    cell_m: float | None = Field(1000.0, ge=50, le=20000, description="null: one per venue.")
    incidents: bool = False
    coverage_share: float = Field(1.0, gt=0, le=1)
    busy_fraction: float | None = Field(None, ge=0, lt=1)
    time_limit_s: float = Field(60.0, gt=0, le=600)
    name: str = Field("", max_length=120)


class PlanSummaryOut(BaseModel):
    id: int
    kind: str
    model: str
    name: str
    created_by: str
    created_at: str
    parameters: dict[str, Any]
    sites: int
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    optimal: bool | None = None
    method: str | None = None
    coverage_before: float | None = None
    coverage_after: float | None = None
    simulated: bool
    simulation: dict[str, Any] | None = None


class PlanListOut(BaseModel):
    items: list[PlanSummaryOut]


class PlanOut(BaseModel):
    """A stored plan: its summary, the full answer and the what-if simulation."""

    summary: PlanSummaryOut
    result: dict[str, Any]
    simulation: dict[str, Any] | None = None


class CompareOut(BaseModel):
    plans: list[PlanSummaryOut]


class HydrantPlanIn(BaseModel):
    """Ask for new hydrants covering the GB 50974 gaps (a background job)."""

    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(60.0, gt=0, le=600, description="Exact solver, per cluster.")
    name: str = Field("", max_length=120)


class LogisticsPlanIn(BaseModel):
    """Ask where P logistics points go (p-median over the stations; a background job)."""

    model_config = ConfigDict(extra="forbid")

    p: int = Field(3, ge=1, le=100, description="Number of logistics points.")
    spacing_m: float = Field(2000.0, ge=50, le=20000, description="Grid candidates every N m.")
    time_limit_s: float = Field(60.0, gt=0, le=600)
    name: str = Field("", max_length=120)


class JobErrorOut(BaseModel):
    code: str
    message: str
    details: Any = None


class JobOut(BaseModel):
    """A background planning job: status, progress, and the plan it made or simulated."""

    id: int
    kind: Literal["stations", "simulate", "hydrants", "logistics"]
    status: Literal["queued", "running", "done", "failed"]
    parameters: dict[str, Any]
    plan_id: int | None = None
    progress_done: int
    progress_total: int
    progress_share: float | None = None
    stage: Literal["inputs", "demand_candidates", "matrix", "solve", "after"] | None = Field(
        None, description="A running station plan's stage (a code)."
    )
    error: JobErrorOut | None = None
    retriable: bool
    attempts: int
    created_by: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class JobListOut(BaseModel):
    items: list[JobOut]
