"""API shapes of the risk context: request bodies and the responses of its routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from firegrid.api.schemas import Timestamp
from firegrid.core.texts import ParamValue, TextCode


class RunIn(BaseModel):
    """Start an assessment run (synchronous: the response is the run's summary)."""

    model: str = Field("expert-ahp", min_length=1, max_length=64, description="Risk model name.")
    report: bool = Field(False, description="Also write the HTML report (downloadable).")


class RescoreIn(BaseModel):
    """Re-score one venue after a change, with the latest run's frozen normalisation."""

    cause: str = Field(
        ..., min_length=1, max_length=500, description="What changed (recorded with the score)."
    )


# Responses ---------------------------------------------------------------------------------

#: 风险等级 (red worst) and the three-colour status of a venue.
Grade = Literal["red", "orange", "yellow", "blue"]
ThreeColour = Literal["red", "yellow", "green"]


class RunInfo(BaseModel):
    """A recorded assessment run (its metadata)."""

    run_id: int
    model: str
    model_version: str
    catalogue_version: str
    snapshot_at: Timestamp | None
    created_at: Timestamp | None
    finished_at: Timestamp | None
    actor: str
    status: str
    venues: int | None
    synthetic: bool = Field(description="Scores rest on simulated incident history.")
    report_path: str | None


class RunList(BaseModel):
    items: list[RunInfo]


class GradeCount(BaseModel):
    red: int
    orange: int
    yellow: int
    blue: int


class SummaryCounts(BaseModel):
    venues: int
    grades: GradeCount
    three_colour: dict[str, int]


class AreaFigures(BaseModel):
    score_mean: float | None
    score_weighted: float | None
    score_p50: float | None
    score_p90: float | None
    score_max: float | None
    grade: str


class ServerTextOut(BaseModel):
    """A sentence for people: its code (``server.<code>`` in the console's locales), the
    parameters it is made of and the English message."""

    code: TextCode
    params: dict[str, ParamValue]
    message: str


class PopulationSourcesOut(BaseModel):
    """Where one level's population came from (jurisdictions counted per source)."""

    jurisdictions: int
    from_register: int = Field(description="Population = sum of the register's rows inside.")
    from_tree: int = Field(description="No register row inside: the jurisdiction tree's figure.")
    no_population: int = Field(description="Neither: unknown, its indicators are left out.")
    register_partial: int = Field(
        description="Of from_register: some grid inside has no register row (under-counted)."
    )
    text: ServerTextOut


class AreaPopulationOut(BaseModel):
    """The area assessment's population inputs (city-wide figures of the run)."""

    register_rows: int = Field(description="Live rows of the population register.")
    register_residents: int
    as_of: str | None = Field(description="The register's latest as_of (ISO date).")
    register_nested: int = Field(
        0,
        description="Jurisdictions with register rows of their own and rows inside them "
        "(summed; counted twice if the own row is a total).",
    )
    register_nested_paths: list[str] = Field(
        default_factory=list, description="The first of those jurisdictions' paths."
    )
    levels: dict[str, PopulationSourcesOut] = Field(description="By level: city, town, …")


class RunSummary(RunInfo):
    """A run's figures over the caller's jurisdiction."""

    scope_path: str
    counts: SummaryCounts
    area: AreaFigures
    levels: dict[str, dict[str, Any]] = Field(
        description="Per level: areas, area_grades, venue_grades and the highest rows."
    )
    top_units: list[dict[str, Any]]
    validation: Any
    warnings: list[str]
    sources: Any
    area_population: AreaPopulationOut | None = Field(
        None, description="Where each level's population came from (null: runs before it)."
    )
    timings_s: Any


class LatestRescore(BaseModel):
    score: float
    grade: Grade
    at: Timestamp
    cause: str
    actor: str


class VenueScore(BaseModel):
    run_id: int
    snapshot_at: Timestamp
    model: str
    venue_id: int
    town_code: str | None
    village_code: str | None
    grid_code: str | None
    category: str | None
    score: float
    grade: Grade
    three_colour: ThreeColour
    pct_in_category: float | None
    pct_in_town: float | None
    contributions: dict[str, float] = Field(description="Indicator key -> points, largest first.")
    inputs: dict[str, Any]
    synthetic: bool
    latest_rescore: LatestRescore | None


class Contribution(BaseModel):
    key: str
    name_zh: str
    name_en: str
    group: str
    source: str
    raw_value: Any
    risk: float
    weight: float
    points: float


class MinimalChange(BaseModel):
    column: str
    from_value: Any
    to_value: Any
    new_score: float
    new_grade: Grade


class WhatIf(BaseModel):
    indicator: str
    name_zh: str
    name_en: str
    action_zh: str
    action_en: str
    change: dict[str, Any]
    new_score: float
    delta: float
    new_grade: Grade
    lowers_grade: bool
    minimal: MinimalChange | None = None


class ExplanationOut(BaseModel):
    """Why a venue scores as it does, what would lower its grade, its peers and history."""

    venue_id: int
    score: float
    grade: Grade
    three_colour: ThreeColour
    contributions: list[Contribution]
    what_if: list[WhatIf]
    peers: dict[str, Any]
    history: list[dict[str, Any]]
    run_id: int
    snapshot_at: Timestamp
    stored_score: float
    stored_contributions: dict[str, float]
    contributions_total: float
    synthetic: bool


class TrendRun(BaseModel):
    run_id: int
    snapshot_at: Timestamp
    model: str
    score: float
    grade: Grade


class TrendRescore(BaseModel):
    run_id: int
    at: Timestamp
    score: float
    grade: Grade
    cause: str
    actor: str


class VenueTrend(BaseModel):
    venue_id: int
    runs: list[TrendRun]
    rescores: list[TrendRescore]


class RescoreOut(BaseModel):
    """A venue re-scored with the latest run's normalisation (recorded)."""

    rescore_id: int
    run_id: int
    venue_id: int
    score: float
    grade: Grade
    three_colour: ThreeColour
    previous_score: float | None
    previous_grade: Grade | None
    delta: float | None
    pct_in_category: float | None
    pct_in_town: float | None
    contributions: dict[str, float]
    cause: str
    actor: str
    at: Timestamp
    compute_ms: float
    snapshot_at: Timestamp
    warnings: list[str]


class RankingsOut(BaseModel):
    run_id: int
    level: Literal["town", "village", "grid", "industry", "category", "venue"]
    items: list[dict[str, Any]] = Field(
        description="Ranked rows: venues (level venue) or areas with their weighted score."
    )


class GradeCountRow(BaseModel):
    key: str | None
    n_venues: int
    red: int
    orange: int
    yellow: int
    blue: int
    grade: str | None = Field(
        description="The area's grade by the area method; null for an area with no stored grade."
    )


class GradeCountsOut(BaseModel):
    run_id: int
    level: Literal["city", "town", "village", "grid", "industry", "category"]
    items: list[GradeCountRow]


class AreaTrendRun(BaseModel):
    run_id: int
    snapshot_at: Timestamp
    model: str
    n_venues: int
    score_mean: float
    score_weighted: float
    n_red: int
    n_orange: int
    n_yellow: int
    n_blue: int


class AreaTrend(BaseModel):
    level: str
    code: str | None
    runs: list[AreaTrendRun]


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
