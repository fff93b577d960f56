"""API shapes of the risk context (request bodies; responses are the services' dicts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RunIn(BaseModel):
    """Start an assessment run (synchronous: the response is the run's summary)."""

    model: str = Field("expert-ahp", min_length=1, max_length=64, description="Risk model name.")
    report: bool = Field(False, description="Also write the HTML report (downloadable).")


class RescoreIn(BaseModel):
    """Re-score one venue after a change, with the latest run's frozen normalisation."""

    cause: str = Field(
        ..., min_length=1, max_length=500, description="What changed (recorded with the score)."
    )


# ---- area assessment (responses) -----------------------------------------------------------
class AreaDriverOut(BaseModel):
    """An indicator that pushes the area's grade up (risk >= 0.5)."""

    indicator: str
    group: str
    value: float | None
    unit: str
    good: float
    bad: float
    risk: float | None
    action: str = Field(description="Code of the countermeasure (translated in the console).")


class AreaRowOut(BaseModel):
    rank: int
    level: str
    code: str
    jurisdiction_path: str
    n_venues: int
    area_score: float
    grade: str
    score_weighted: float | None
    venue_grades: dict[str, int]
    drivers: list[AreaDriverOut]
    missing: list[str]
    values: dict[str, float | None]
    risks: dict[str, float | None]


class AreaGradesOut(BaseModel):
    run_id: int
    level: str
    synthetic: bool
    thresholds: dict[str, float]
    area_grades: dict[str, int]
    items: list[AreaRowOut]


class AreaRunOut(BaseModel):
    run_id: int
    snapshot_at: str
    area_score: float
    grade: str
    drivers: list[str]
    venue_grades: dict[str, int]


class AreaHistoryOut(BaseModel):
    level: str
    code: str
    runs: list[AreaRunOut]


class IndicatorMoveOut(BaseModel):
    indicator: str
    risk_delta: float


class AreaChangeOut(BaseModel):
    level: str
    code: str
    grade_before: str
    grade_after: str
    direction: str
    score_before: float
    score_after: float
    indicators_moved: list[IndicatorMoveOut]


class VenueChangeOut(BaseModel):
    venue_id: int
    grade_before: str
    grade_after: str
    score_before: float
    score_after: float


class VenueChangesOut(BaseModel):
    up: int = 0
    down: int = 0
    listed_up: list[VenueChangeOut] = Field(default_factory=list)
    listed_down: list[VenueChangeOut] = Field(default_factory=list)


class ChangesOut(BaseModel):
    run_id: int
    previous_run_id: int | None
    areas: list[AreaChangeOut]
    venues: VenueChangesOut


class ScheduleOut(BaseModel):
    name: str
    kind: str
    model: str
    next_run_at: str | None
    last_run_at: str | None
    last_run_id: int | None
    last_status: str | None
    last_error: str | None
    last_cause: str | None


class SchedulesOut(BaseModel):
    items: list[ScheduleOut]
