"""Response bodies of the inspection plan and performance API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class PlanEntryOut(BaseModel):
    """One venue's next visit: the rule that set it, its checklist, when it is due."""

    venue_id: int
    venue_code: str
    venue_name: str
    category: str
    grid_code: str
    grade: str  # red/orange/yellow/blue, or none when never assessed
    colour: str  # red/yellow/green
    rule: str
    interval_days: int
    checklist: str
    last_inspected_at: datetime | None
    due_on: date
    status: str  # due, overdue or upcoming
    overdue_days: int
    escalation: str  # "", village or town
    grid_worker_ids: list[int]
    lon: float | None = None  # WGS-84, for the phone's map
    lat: float | None = None
    address: str = ""


class GridPlanOut(BaseModel):
    grid_code: str
    village_code: str
    town_code: str
    grid_worker_ids: list[int]
    venues: int
    due_today: int
    overdue: int
    escalated_village: int
    escalated_town: int
    due: list[PlanEntryOut]


class PlanOut(BaseModel):
    grids: list[GridPlanOut]
    count: int


class DueListOut(BaseModel):
    """Visits due today or overdue in the caller's jurisdiction, most urgent first."""

    items: list[PlanEntryOut]
    count: int


class PerformanceRowOut(BaseModel):
    period: str
    level: str
    unit: str
    worker_id: int | None = None
    worker_code: str | None = None
    worker_name: str | None = None
    planned: float
    done: int
    completion: float | None
    visits_missed: float
    hazards_found: int
    hazards_rectified_on_time: int
    rectified_on_time_rate: float | None
    hazards_overdue: int
    alarm_checks: int
    alarm_check_mean_s: float | None
    alarm_check_p90_s: float | None
    alarm_checks_late: int
    tasks_overdue: float


class PerformanceOut(BaseModel):
    period: str
    level: str
    items: list[PerformanceRowOut]
    count: int
