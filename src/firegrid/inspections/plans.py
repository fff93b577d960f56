"""Differentiated inspection plans (差异化管理), derived — never stored.

Per venue: the rule of :mod:`firegrid.inspections.plan_rules` for its category, latest risk
grade and three-colour status gives a visit interval; the next visit is due on the local
(Asia/Shanghai) day of the last inspection plus the interval, or today when never
inspected. Because the plan is computed from the current grade, colour and inspections, a
grade or colour change reschedules on the next read. A visit overdue by more than the
rules' ``village_after_days`` is escalated to the village, by more than ``town_after_days``
to the town. Due lists are ordered red status first, then by risk grade, then due date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.public import venue_colours
from firegrid.core.clock import CHINA_TZ, ensure_aware
from firegrid.core.errors import NotFound
from firegrid.core.texts import TextCode
from firegrid.inspections.models import Inspection
from firegrid.inspections.plan_rules import PlanRules, VenueFacts, default_plan_rules
from firegrid.places.public import GridWorker, Venue, load_taxonomy
from firegrid.risk.public import latest_venue_grades

GRADE_RANK = {"red": 0, "orange": 1, "yellow": 2, "blue": 3, "none": 4}
COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2}


@dataclass(frozen=True)
class PlanEntry:
    """One venue's place in the plan."""

    venue_id: int
    venue_code: str
    venue_name: str
    category: str
    town_code: str
    village_code: str
    grid_code: str
    jurisdiction_path: str
    grade: str
    colour: str
    rule: str
    interval_days: int
    checklist: str
    last_inspected_at: datetime | None
    due_on: date
    overdue_days: int
    escalation: str  # "", "village" or "town"
    grid_worker_ids: tuple[int, ...]
    lon: float | None = None
    lat: float | None = None
    address: str = ""

    @property
    def status(self) -> str:
        if self.overdue_days > 0:
            return "overdue"
        return "due" if self.overdue_days == 0 else "upcoming"

    def sort_key(self) -> tuple[int, int, date, int]:
        return (COLOUR_RANK[self.colour], GRADE_RANK[self.grade], self.due_on, self.venue_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "venue_id": self.venue_id,
            "venue_code": self.venue_code,
            "venue_name": self.venue_name,
            "category": self.category,
            "grid_code": self.grid_code,
            "grade": self.grade,
            "colour": self.colour,
            "rule": self.rule,
            "interval_days": self.interval_days,
            "checklist": self.checklist,
            "last_inspected_at": self.last_inspected_at,
            "due_on": self.due_on,
            "status": self.status,
            "overdue_days": max(self.overdue_days, 0),
            "escalation": self.escalation,
            "grid_worker_ids": list(self.grid_worker_ids),
            "lon": self.lon,
            "lat": self.lat,
            "address": self.address,
        }


@dataclass
class GridPlan:
    grid_code: str
    village_code: str
    town_code: str
    grid_worker_ids: set[int] = field(default_factory=set)
    entries: list[PlanEntry] = field(default_factory=list)

    def due(self) -> list[PlanEntry]:
        """Visits due today or overdue, most urgent first."""
        return sorted((e for e in self.entries if e.overdue_days >= 0), key=PlanEntry.sort_key)

    def summary(self, *, with_due_list: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "grid_code": self.grid_code,
            "village_code": self.village_code,
            "town_code": self.town_code,
            "grid_worker_ids": sorted(self.grid_worker_ids),
            "venues": len(self.entries),
            "due_today": sum(1 for e in self.entries if e.overdue_days == 0),
            "overdue": sum(1 for e in self.entries if e.overdue_days > 0),
            "escalated_village": sum(1 for e in self.entries if e.escalation == "village"),
            "escalated_town": sum(1 for e in self.entries if e.escalation == "town"),
        }
        if with_due_list:
            data["due"] = [e.as_dict() for e in self.due()]
        return data


def local_day(moment: datetime) -> date:
    return ensure_aware(moment).astimezone(CHINA_TZ).date()


def path_codes(path: str) -> tuple[str, str, str]:
    """(town, village, grid) codes of a venue path ``/city/town/village/grid/``."""
    parts = [p for p in path.split("/") if p]
    padded = [*parts, "", "", "", ""]
    return padded[1], padded[2], padded[3]


def escalation_of(overdue_days: int, rules: PlanRules) -> str:
    if overdue_days > rules.escalation.town_after_days:
        return "town"
    if overdue_days > rules.escalation.village_after_days:
        return "village"
    return ""


def last_inspections(session: Session, principal: Principal) -> dict[int, datetime]:
    rows = session.execute(
        select(Inspection.venue_id, func.max(Inspection.inspected_at))
        .where(principal.scope_filter(Inspection.jurisdiction_path))
        .group_by(Inspection.venue_id)
    ).all()
    return {int(venue_id): ensure_aware(at) for venue_id, at in rows if at is not None}


def grid_workers(session: Session, principal: Principal) -> dict[int, list[int]]:
    """Active grid workers by grid (jurisdiction id)."""
    workers: dict[int, list[int]] = defaultdict(list)
    for worker_id, grid_id in session.execute(
        select(GridWorker.id, GridWorker.grid_id)
        .where(principal.scope_filter(GridWorker.jurisdiction_path), GridWorker.active)
        .order_by(GridWorker.id)
    ).all():
        workers[int(grid_id)].append(int(worker_id))
    return workers


def compute_plans(
    session: Session,
    principal: Principal,
    now: datetime,
    *,
    grid_code: str | None = None,
    rules: PlanRules | None = None,
) -> dict[str, GridPlan]:
    """The plan of every grid in the caller's scope (or of one grid), keyed by grid code."""
    rules = rules or default_plan_rules()
    taxonomy = load_taxonomy()
    today = local_day(now)
    grades = latest_venue_grades(session, principal.scope_path)
    colours = venue_colours(session, principal, now)
    last = last_inspections(session, principal)
    workers = grid_workers(session, principal)
    query = select(
        Venue.id,
        Venue.code,
        Venue.name,
        Venue.category,
        Venue.is_key_unit,
        Venue.jurisdiction_id,
        Venue.jurisdiction_path,
        Venue.lon,
        Venue.lat,
        Venue.address,
    ).where(principal.scope_filter(Venue.jurisdiction_path))
    if grid_code is not None:
        query = query.where(Venue.jurisdiction_path.contains(f"/{grid_code}/", autoescape=True))
    plans: dict[str, GridPlan] = {}
    decisions: dict[VenueFacts, Any] = {}
    for (
        venue_id,
        code,
        name,
        category,
        key_unit,
        grid_id,
        path,
        lon,
        lat,
        address,
    ) in session.execute(query):
        town, village, grid = path_codes(path)
        category_def = taxonomy.categories.get(category)
        facts = VenueFacts(
            category=category,
            venue_class=category_def.venue_class if category_def else "general",
            is_key_unit=bool(key_unit),
            grade=grades.get(venue_id, "none"),
            colour=colours.get(venue_id, "green"),
        )
        decision = decisions.get(facts)
        if decision is None:
            decision = decisions[facts] = rules.decide(facts)
        last_at = last.get(venue_id)
        due_on = (
            today
            if last_at is None
            else local_day(last_at) + timedelta(days=decision.interval_days)
        )
        overdue_days = (today - due_on).days
        plan = plans.get(grid)
        if plan is None:
            plan = plans[grid] = GridPlan(grid, village, town)
        grid_worker_ids = tuple(workers.get(grid_id, ()))
        plan.grid_worker_ids.update(grid_worker_ids)
        plan.entries.append(
            PlanEntry(
                venue_id=venue_id,
                venue_code=code,
                venue_name=name,
                category=category,
                town_code=town,
                village_code=village,
                grid_code=grid,
                jurisdiction_path=path,
                grade=facts.grade,
                colour=facts.colour,
                rule=decision.rule,
                interval_days=decision.interval_days,
                checklist=decision.checklist,
                last_inspected_at=last_at,
                due_on=due_on,
                overdue_days=overdue_days,
                escalation=escalation_of(overdue_days, rules),
                grid_worker_ids=grid_worker_ids,
                lon=lon,
                lat=lat,
                address=address or "",
            )
        )
    if grid_code is not None:
        plans = {code: plan for code, plan in plans.items() if code == grid_code}
    if grid_code is not None and grid_code not in plans:
        raise NotFound(
            f"no venues in grid {grid_code!r} in your jurisdiction",
            {"grid": grid_code},
            text=TextCode.ENTITY_NOT_IN_SCOPE,
            params={"kind": "grid", "id": grid_code},
        )
    return plans


def due_list(session: Session, principal: Principal, now: datetime) -> list[PlanEntry]:
    """Everything due today or overdue in the caller's scope, most urgent first."""
    entries = [e for plan in compute_plans(session, principal, now).values() for e in plan.due()]
    return sorted(entries, key=PlanEntry.sort_key)
