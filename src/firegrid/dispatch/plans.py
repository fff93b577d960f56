"""Response plans (等级调派方案) as data: incident type x venue category x level -> units.

The ``response_plans`` table is seeded from ``response_plans.yaml`` the first time it is
needed and is edited by administrators afterwards. A plan is a list of requirements, each a
vehicle type or a capability with a count; a unit fills one slot only.

Matching (:func:`match_plan`): the venue category's own plans if it has any for the type,
else the type's ``"*"`` plans; among them the highest level not above the incident's level
(the lowest level when the incident's level is below every plan's).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.problems import Found, Problem, first_of
from firegrid.core.texts import TextCode
from firegrid.dispatch.incident_models import ResponsePlan
from firegrid.dispatch.models import VehicleType

ANY_CATEGORY = "*"

#: incident types (警情类型); ``building_fire`` is refined by the venue category (occupancy)
INCIDENT_TYPES: tuple[str, ...] = (
    "building_fire",
    "hazmat_fire",  # 危化品火灾: a fire at a hazardous-chemicals site (foam, hazmat units)
    "vehicle_fire",
    "outdoor_fire",
    "wildland",
    "hazmat",
    "rescue",
    "flood",
    "social_assistance",
)
LEVELS = range(1, 6)


@dataclass(frozen=True)
class Requirement:
    """``count`` units of a vehicle type (``kind="vehicle_type"``) or with a capability."""

    kind: str
    value: str
    count: int

    def accepts(self, vehicle_type: str, capabilities: Iterable[str]) -> bool:
        if self.kind == "vehicle_type":
            return vehicle_type == self.value
        return self.value in capabilities

    def as_dict(self) -> dict[str, Any]:
        return {self.kind: self.value, "count": self.count}

    @property
    def label(self) -> str:
        return self.value if self.kind == "vehicle_type" else f"capability:{self.value}"


@dataclass(frozen=True)
class Plan:
    """The plan chosen for an incident, and which row it came from."""

    incident_type: str
    venue_category: str
    level: int
    requirements: tuple[Requirement, ...]
    plan_id: int | None = None

    @property
    def slots(self) -> int:
        return sum(r.count for r in self.requirements)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "incident_type": self.incident_type,
            "venue_category": self.venue_category,
            "level": self.level,
            "requirements": [r.as_dict() for r in self.requirements],
        }


def parse_requirements(items: Sequence[Mapping[str, Any]]) -> tuple[Requirement, ...]:
    """Validate requirement dicts (``{"vehicle_type": "pumper", "count": 2}``), naming each
    problem."""
    problems: list[Found] = []
    out: list[Requirement] = []
    known_types = {t.value for t in VehicleType}
    for i, item in enumerate(items):
        kinds = [k for k in ("vehicle_type", "capability") if k in item]
        count = item.get("count", 1)
        if len(kinds) != 1:
            problems.append(
                Found(
                    f"requirements[{i}]",
                    Problem.ONE_OF_FIELDS,
                    f"#{i}: give exactly one of vehicle_type or capability",
                    {"fields": "vehicle_type, capability"},
                )
            )
            continue
        value = str(item[kinds[0]])
        if kinds[0] == "vehicle_type" and value not in known_types:
            problems.append(
                Found(
                    f"requirements[{i}].vehicle_type",
                    Problem.ENUM,
                    f"#{i}: unknown vehicle type {value!r}",
                    {"expected": sorted(known_types)},
                )
            )
        if not isinstance(count, int) or not 1 <= count <= 50:
            problems.append(
                Found(
                    f"requirements[{i}].count",
                    Problem.INTERVAL,
                    f"#{i}: count must be an integer 1..50, got {count!r}",
                    {"interval": "[1, 50]"},
                )
            )
            continue
        out.append(Requirement(kinds[0], value, count))
    if not out and not problems:
        message = "a plan needs at least one requirement"
        problems.append(Found("requirements", Problem.TOO_SHORT, message, {"min_length": 1}))
    if problems:
        raise ValidationFailed(
            "invalid response plan: " + "; ".join(p.message for p in problems),
            [p.message for p in problems],
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "response_plan", **first_of(problems)},
        )
    return tuple(out)


def check_key(incident_type: str, level: int, what: str = "incident type or level") -> None:
    """Refuse an unknown incident type or a level outside 1..5 (``what`` names it)."""
    problems = {}
    if incident_type not in INCIDENT_TYPES:
        problems["incident_type"] = f"unknown; one of {', '.join(INCIDENT_TYPES)}"
    if level not in LEVELS:
        problems["level"] = "must be 1..5"
    if problems:
        raise ValidationFailed(
            f"invalid {what}",
            problems,
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )


@cache
def yaml_plans() -> tuple[dict[str, Any], ...]:
    """The packaged default plans as table rows."""
    text = (files("firegrid.dispatch") / "response_plans.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    rows = []
    for entry in doc["plans"]:
        reqs: list[dict[str, Any]] = [
            {"vehicle_type": k, "count": v} for k, v in (entry.get("units") or {}).items()
        ]
        reqs += [
            {"capability": k, "count": v} for k, v in (entry.get("capabilities") or {}).items()
        ]
        parse_requirements(reqs)
        check_key(entry["type"], entry["level"])
        rows.append(
            {
                "incident_type": entry["type"],
                "venue_category": entry.get("category", ANY_CATEGORY),
                "level": int(entry["level"]),
                "requirements": reqs,
                "note": entry.get("note", ""),
            }
        )
    return tuple(rows)


def ensure_plans(session: Session) -> int:
    """Seed the table from the YAML file if it is empty; returns the rows added.

    On a fresh database two processes (the alarm services and ingest, say) may both find
    it empty: the seed runs in a savepoint, and the one that loses the race sees the other's
    rows instead of failing its transaction."""
    if session.scalar(select(func.count(ResponsePlan.id))):
        return 0
    try:
        with session.begin_nested():
            for row in yaml_plans():
                session.add(ResponsePlan(**row, updated_by="seed"))
            session.flush()
    except IntegrityError:
        return 0
    return len(yaml_plans())


def to_plan(row: ResponsePlan | Mapping[str, Any]) -> Plan:
    values: Mapping[str, Any] = (
        row
        if isinstance(row, Mapping)
        else {
            k: getattr(row, k)
            for k in ("id", "incident_type", "venue_category", "level", "requirements")
        }
    )
    return Plan(
        incident_type=str(values["incident_type"]),
        venue_category=str(values["venue_category"]),
        level=int(values["level"]),
        requirements=parse_requirements(values["requirements"]),
        plan_id=values.get("id"),
    )


def match_plan(plans: Iterable[Plan], incident_type: str, venue_category: str, level: int) -> Plan:
    """The plan for an incident (see the module docstring for the rule)."""
    of_type = [p for p in plans if p.incident_type == incident_type]
    own = [p for p in of_type if venue_category and p.venue_category == venue_category]
    candidates = own or [p for p in of_type if p.venue_category == ANY_CATEGORY]
    if not candidates:
        raise NotFound(
            f"no response plan for incident type {incident_type!r}",
            {"incident_type": incident_type},
            text=TextCode.RESPONSE_PLAN_NONE,
            params={"incident_type": incident_type},
        )
    below = [p for p in candidates if p.level <= level]
    if below:
        return max(below, key=lambda p: p.level)
    return min(candidates, key=lambda p: p.level)


class PlanBook:
    """All plans of a database, in memory (reloaded when the table changes)."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = tuple(plans)

    @classmethod
    def load(cls, session: Session) -> PlanBook:
        ensure_plans(session)
        rows = session.scalars(select(ResponsePlan).order_by(ResponsePlan.id)).all()
        return cls([to_plan(r) for r in rows])

    def match(self, incident_type: str, venue_category: str, level: int) -> Plan:
        return match_plan(self.plans, incident_type, venue_category, level)


_book_lock = threading.Lock()
_books: dict[str, tuple[tuple[Any, ...], PlanBook]] = {}


def plan_book(session: Session) -> PlanBook:
    """The plans of the session's database, reloaded when the table changed."""
    key = str(session.get_bind().engine.url)
    stamp = tuple(
        session.execute(
            select(func.count(ResponsePlan.id), func.max(ResponsePlan.updated_at))
        ).one()
    )
    with _book_lock:
        cached = _books.get(key)
    if cached is None or cached[0] != stamp or not stamp[0]:
        book = PlanBook.load(session)
        stamp = tuple(
            session.execute(
                select(func.count(ResponsePlan.id), func.max(ResponsePlan.updated_at))
            ).one()
        )
        cached = (stamp, book)
        with _book_lock:
            _books[key] = cached
    return cached[1]


def planned_incident_types(session: Session) -> frozenset[str]:
    """The incident types that have at least one response plan (the public answer to
    "may an incident of this type be opened and matched?", e.g. for the alarms policy)."""
    return frozenset(
        plan.incident_type
        for plan in plan_book(session).plans
        if plan.incident_type in INCIDENT_TYPES
    )


def plan_for(session: Session, incident_type: str, venue_category: str, level: int) -> Plan:
    check_key(incident_type, level)
    return plan_book(session).match(incident_type, venue_category, level)


def upsert_plan(
    session: Session,
    actor: Principal,
    *,
    incident_type: str,
    venue_category: str,
    level: int,
    requirements: Sequence[Mapping[str, Any]],
    note: str = "",
) -> ResponsePlan:
    """Create or replace the plan of one (type, category, level), audited."""
    from firegrid.accounts.public import record_change

    check_key(incident_type, level)
    reqs = [r.as_dict() for r in parse_requirements(requirements)]
    ensure_plans(session)
    row = session.scalars(
        select(ResponsePlan).where(
            ResponsePlan.incident_type == incident_type,
            ResponsePlan.venue_category == (venue_category or ANY_CATEGORY),
            ResponsePlan.level == level,
        )
    ).first()
    before = None
    if row is None:
        row = ResponsePlan(
            incident_type=incident_type,
            venue_category=venue_category or ANY_CATEGORY,
            level=level,
            requirements=reqs,
        )
        session.add(row)
    else:
        before = {"requirements": row.requirements, "note": row.note}
        row.requirements = reqs
    row.note = note
    row.updated_by = actor.username
    session.flush()
    record_change(
        session,
        actor,
        "response_plan.update" if before else "response_plan.create",
        "response_plan",
        row.id,
        before,
        {"requirements": reqs, "note": note},
    )
    return row


def delete_plan(session: Session, actor: Principal, plan_id: int) -> None:
    from firegrid.accounts.public import record_change

    row = session.get(ResponsePlan, plan_id)
    if row is None:
        raise NotFound(
            f"response plan {plan_id} not found",
            {"id": plan_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "response_plan", "id": plan_id},
        )
    record_change(
        session,
        actor,
        "response_plan.delete",
        "response_plan",
        plan_id,
        {"requirements": row.requirements},
        None,
    )
    session.delete(row)
    session.flush()
