"""Stored plans: save, list, read, compare, attach a simulation (every change audited).

A plan is read within the reader's scope: its ``jurisdiction_path`` is the scope of the
planner who made it (city-wide plans are made by city-scoped planners), so a town-scoped
reader sees its own town's plans and not the city's (which show other towns' sites).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.planning.models import PlanningPlan

KINDS = ("stations", "hydrants", "logistics")
#: what a plan's summary (list, compare) shows of its result
SUMMARY_KEYS = ("objective", "bound", "gap", "optimal", "method")


def save_plan(
    session: Session, actor: Principal, result: dict[str, Any], name: str = ""
) -> PlanningPlan:
    """Store a plan's answer (from :func:`firegrid.planning.stations.plan_stations` or the
    hydrant / logistics planners)."""
    kind = str(result.get("kind", ""))
    if kind not in KINDS:
        raise ValidationFailed(
            f"a plan's kind must be one of {', '.join(KINDS)}",
            {"kind": kind},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": KINDS},
        )
    plan = PlanningPlan(
        kind=kind,
        model=str(result.get("model", "")),
        name=name[:120],
        parameters=dict(result.get("parameters") or {}),
        result=result,
        jurisdiction_path=actor.scope_path,
        created_by=actor.username or actor.subject,
        created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    record_change(
        session,
        actor,
        "planning.plan.create",
        "planning_plan",
        plan.id,
        None,
        summary(plan),
    )
    return plan


def get_plan(session: Session, plan_id: int, actor: Principal) -> PlanningPlan:
    """A plan in the caller's scope; ``NotFound`` otherwise (its existence does not leak)."""
    plan = session.get(PlanningPlan, plan_id)
    if plan is None or not actor.can_see_path(plan.jurisdiction_path):
        raise NotFound(
            f"plan {plan_id} not found",
            {"plan_id": plan_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "plan", "id": plan_id},
        )
    return plan


def list_plans(
    session: Session, actor: Principal, kind: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    stmt = select(PlanningPlan).where(actor.scope_filter(PlanningPlan.jurisdiction_path))
    if kind is not None:
        stmt = stmt.where(PlanningPlan.kind == kind)
    rows = session.scalars(stmt.order_by(PlanningPlan.id.desc()).limit(limit)).all()
    return [summary(p) for p in rows]


def summary(plan: PlanningPlan) -> dict[str, Any]:
    """A plan's headline figures: what was asked, the answer's quality, before/after."""
    result = plan.result or {}
    coverage = result.get("coverage") or {}
    return {
        "id": plan.id,
        "kind": plan.kind,
        "model": plan.model,
        "name": plan.name,
        "created_by": plan.created_by,
        "created_at": plan.created_at.isoformat(),
        "parameters": plan.parameters,
        "sites": len(result.get("sites") or []),
        **{key: result.get(key) for key in SUMMARY_KEYS},
        "coverage_before": (coverage.get("before") or {}).get("covered_share"),
        "coverage_after": (coverage.get("after") or {}).get("covered_share"),
        "simulated": plan.simulation is not None,
        "simulation": (plan.simulation or {}).get("comparison"),
    }


def compare_plans(session: Session, actor: Principal, plan_ids: list[int]) -> dict[str, Any]:
    """The summaries of several plans side by side (each must be in the caller's scope)."""
    if not 2 <= len(plan_ids) <= 10:
        raise ValidationFailed(
            "compare 2 to 10 plans",
            {"ids": plan_ids},
            text=TextCode.VALIDATION_RANGE,
            params={"field": "ids", "min": 2, "max": 10},
        )
    return {"plans": [summary(get_plan(session, i, actor)) for i in plan_ids]}


def attach_simulation(
    session: Session, actor: Principal, plan: PlanningPlan, simulation: dict[str, Any]
) -> PlanningPlan:
    before = summary(plan)
    plan.simulation = simulation
    plan.simulated_at = utcnow()
    plan.simulated_by = actor.username or actor.subject
    session.flush()
    record_change(
        session, actor, "planning.plan.simulate", "planning_plan", plan.id, before, summary(plan)
    )
    return plan
