"""Grid-worker performance (网格员绩效) per worker, grid, village or town and month.

For a period (a calendar month, local Asia/Shanghai days):

- ``planned`` — the visits the plan rules required: ``period_days // interval_days`` per
  venue; a venue whose interval is longer than the period counts 1 when its next visit
  (last inspection before the period + interval; never inspected: the period's first day)
  falls before the period's end, else 0. The rule is chosen with the venue's *current*
  grade and colour (historical grades and colours are not reconstructed).
- ``done`` — inspections recorded in the period; ``visits_missed`` — per venue,
  ``max(planned - done, 0)``.
- ``hazards_found`` in the period; ``hazards_rectified_on_time`` of those (rectified by
  the deadline); ``hazards_overdue`` — hazards whose deadline fell in the period and were
  not rectified by it.
- ``alarm_checks`` — on-site check tasks (alarm verification) created in the period and
  submitted; their mean and 90th-percentile response time (creation → submission) and
  ``alarm_checks_late`` (submitted after the task's due time), from the monitoring centre.
- ``tasks_overdue`` = visits_missed + hazards_overdue + alarm_checks_late.

At worker level a venue's planned visits and missed visits are shared evenly among the
active grid workers of its grid; visits, hazards and checks count for the worker recorded
on them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.public import task_response_times
from firegrid.core.clock import CHINA_TZ, ensure_aware
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.inspections.models import Hazard, Inspection
from firegrid.inspections.plan_rules import PlanRules, default_plan_rules
from firegrid.inspections.plans import compute_plans, local_day, path_codes
from firegrid.places.public import GridWorker

Level = Literal["worker", "grid", "village", "town"]
LEVELS: tuple[Level, ...] = ("worker", "grid", "village", "town")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    code: str
    first_day: date
    end_day: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), CHINA_TZ)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(), CHINA_TZ)


def parse_period(code: str) -> Period:
    match = _PERIOD.match(code)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed(
            "period must be a month, YYYY-MM (e.g. 2026-11)",
            {"period": code},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "period", "value": code, "expected": "YYYY-MM"},
        )
    year, month = int(match.group(1)), int(match.group(2))
    first = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(code, first, end)


@dataclass
class Kpi:
    planned: float = 0.0
    done: int = 0
    visits_missed: float = 0.0
    hazards_found: int = 0
    hazards_rectified_on_time: int = 0
    hazards_overdue: int = 0
    alarm_checks_late: int = 0
    response_times_s: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.response_times_s)
        return {
            "planned": round(self.planned, 2),
            "done": self.done,
            "completion": round(self.done / self.planned, 4) if self.planned else None,
            "visits_missed": round(self.visits_missed, 2),
            "hazards_found": self.hazards_found,
            "hazards_rectified_on_time": self.hazards_rectified_on_time,
            "rectified_on_time_rate": (
                round(self.hazards_rectified_on_time / self.hazards_found, 4)
                if self.hazards_found
                else None
            ),
            "hazards_overdue": self.hazards_overdue,
            "alarm_checks": len(times),
            "alarm_check_mean_s": round(sum(times) / len(times), 1) if times else None,
            "alarm_check_p90_s": round(_percentile(times, 0.9), 1) if times else None,
            "alarm_checks_late": self.alarm_checks_late,
            "tasks_overdue": round(
                self.visits_missed + self.hazards_overdue + self.alarm_checks_late, 2
            ),
        }


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def planned_visits(interval_days: int, last_before: datetime | None, period: Period) -> int:
    whole = period.days // interval_days
    if whole >= 1:
        return whole
    due_on = (
        period.first_day
        if last_before is None
        else local_day(last_before) + timedelta(days=interval_days)
    )
    return 1 if due_on < period.end_day else 0


def _unit_of_path(path: str, level: Level) -> str:
    town, village, grid = path_codes(path)
    return {"town": town, "village": village, "grid": grid}.get(level, grid)


def performance(
    session: Session,
    principal: Principal,
    period: Period,
    level: Level,
    now: datetime,
    rules: PlanRules | None = None,
) -> list[dict[str, Any]]:
    """KPIs of every unit of ``level`` in the caller's scope for ``period``, sorted by unit."""
    if level not in LEVELS:
        raise ValidationFailed(
            f"level must be one of {', '.join(LEVELS)}",
            {"level": level},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": LEVELS},
        )
    rules = rules or default_plan_rules()
    scope = principal.scope_filter(Inspection.jurisdiction_path)
    last_before = {
        int(v): ensure_aware(at)
        for v, at in session.execute(
            select(Inspection.venue_id, func.max(Inspection.inspected_at))
            .where(scope, Inspection.inspected_at < period.start)
            .group_by(Inspection.venue_id)
        ).all()
        if at is not None
    }
    visits = session.execute(
        select(Inspection.venue_id, Inspection.grid_worker_id, Inspection.jurisdiction_path).where(
            scope, Inspection.inspected_at >= period.start, Inspection.inspected_at < period.end
        )
    ).all()
    done_by_venue = Counter(int(v) for v, _, _ in visits)
    kpis: dict[str, Kpi] = defaultdict(Kpi)

    def key(path: str, worker_id: int | None) -> str | None:
        if level == "worker":
            return None if worker_id is None else str(worker_id)
        return _unit_of_path(path, level)

    for plan in compute_plans(session, principal, now, rules=rules).values():
        for entry in plan.entries:
            planned = planned_visits(entry.interval_days, last_before.get(entry.venue_id), period)
            missed = max(planned - done_by_venue.get(entry.venue_id, 0), 0)
            if level == "worker":
                workers = entry.grid_worker_ids
                for worker_id in workers:
                    kpis[str(worker_id)].planned += planned / len(workers)
                    kpis[str(worker_id)].visits_missed += missed / len(workers)
            else:
                unit = _unit_of_path(entry.jurisdiction_path, level)
                kpis[unit].planned += planned
                kpis[unit].visits_missed += missed
    for _, visitor_id, visit_path in visits:
        visit_unit = key(visit_path, visitor_id)
        if visit_unit is not None:
            kpis[visit_unit].done += 1
    _add_hazards(session, principal, period, kpis, key)
    for checker_id, check_path, response_s, late in task_response_times(
        session, principal, period.start, period.end
    ):
        check_unit = key(check_path, checker_id)
        if check_unit is not None:
            kpis[check_unit].response_times_s.append(response_s)
            kpis[check_unit].alarm_checks_late += int(late)
    return _rows(session, kpis, level, period)


def _add_hazards(
    session: Session,
    principal: Principal,
    period: Period,
    kpis: dict[str, Kpi],
    key: Any,
) -> None:
    columns = (
        Hazard.jurisdiction_path,
        Inspection.grid_worker_id,
        Hazard.found_at,
        Hazard.deadline,
        Hazard.rectified_at,
    )
    base = (
        select(*columns)
        .join(Inspection, Inspection.id == Hazard.inspection_id)
        .where(principal.scope_filter(Hazard.jurisdiction_path))
    )
    for path, worker_id, _, deadline, rectified_at in session.execute(
        base.where(Hazard.found_at >= period.start, Hazard.found_at < period.end)
    ).all():
        unit = key(path, worker_id)
        if unit is None:
            continue
        kpis[unit].hazards_found += 1
        if rectified_at is not None and ensure_aware(rectified_at) <= ensure_aware(deadline):
            kpis[unit].hazards_rectified_on_time += 1
    for due_path, due_worker_id, _, deadline, rectified_at in session.execute(
        base.where(Hazard.deadline >= period.start, Hazard.deadline < period.end)
    ).all():
        unit = key(due_path, due_worker_id)
        late = rectified_at is None or ensure_aware(rectified_at) > ensure_aware(deadline)
        if unit is not None and late:
            kpis[unit].hazards_overdue += 1


def _rows(
    session: Session, kpis: dict[str, Kpi], level: Level, period: Period
) -> list[dict[str, Any]]:
    names: dict[str, tuple[str, str]] = {}
    if level == "worker" and kpis:
        ids = [int(k) for k in kpis]
        for worker_id, code, name in session.execute(
            select(GridWorker.id, GridWorker.code, GridWorker.name).where(GridWorker.id.in_(ids))
        ).all():
            names[str(worker_id)] = (str(code), str(name))
    rows = []
    for unit in sorted(kpis, key=lambda k: (int(k) if level == "worker" else 0, k)):
        row: dict[str, Any] = {"period": period.code, "level": level, "unit": unit}
        if level == "worker":
            row["worker_id"] = int(unit)
            row["worker_code"], row["worker_name"] = names.get(unit, ("", ""))
        row.update(kpis[unit].as_dict())
        rows.append(row)
    return rows


XLSX_COLUMNS = (
    "period",
    "level",
    "unit",
    "planned",
    "done",
    "completion",
    "visits_missed",
    "hazards_found",
    "hazards_rectified_on_time",
    "rectified_on_time_rate",
    "hazards_overdue",
    "alarm_checks",
    "alarm_check_mean_s",
    "alarm_check_p90_s",
    "alarm_checks_late",
    "tasks_overdue",
)


def write_xlsx(rows: list[dict[str, Any]], target: Any) -> None:
    """Write the KPI rows as one sheet (a path or a binary file object)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "performance"
    columns = list(XLSX_COLUMNS)
    if rows and rows[0]["level"] == "worker":
        columns[3:3] = ["worker_code", "worker_name"]
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    book.save(target)
