"""HTTP routes of the planning context: make a station plan, list, read, compare and
export stored plans. Thin: the rules live in :mod:`.stations`, :mod:`.store` and
:mod:`.export`.

Plans are read within the caller's scope (a plan carries its maker's scope); making one is
a city-wide computation (the whole city's demand and stations), so it needs a city scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.core.errors import Forbidden, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.planning import store
from firegrid.planning.export import FORMATS, render_plan
from firegrid.planning.schemas import (
    CompareOut,
    PlanListOut,
    PlanOut,
    PlanSummaryOut,
    StationPlanIn,
)

router = APIRouter(prefix="/planning", tags=["planning"])
Read = Annotated[Principal, Depends(require("planning:read"))]
Write = Annotated[Principal, Depends(require("planning:write"))]


@router.get("/plans", response_model=PlanListOut, summary="Stored plans in your scope")
def list_plans(
    principal: Read,
    session: SessionDep,
    kind: Annotated[str | None, Query(pattern="^(stations|hydrants|logistics)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PlanListOut:
    items = store.list_plans(session, principal, kind, limit)
    return PlanListOut(items=[PlanSummaryOut(**item) for item in items])


@router.post(
    "/plans",
    status_code=201,
    response_model=PlanOut,
    summary="Where the next stations go (existing ones fixed open); stored",
)
def create_station_plan(
    body: StationPlanIn, principal: Write, session: SessionDep, db: DbDep, settings: SettingsDep
) -> PlanOut:
    from firegrid.planning.stations import StationParams, plan_stations

    if principal.scope_path.count("/") > 2:
        raise Forbidden(
            "planning stations is city-wide: ask a planner with a city scope",
            {"scope": principal.scope_code},
            text=TextCode.ACCESS_CITY_ONLY,
            params={"kind": "station_plan"},
        )
    params = StationParams(
        model=body.model,
        add=body.add,
        minutes=body.minutes,
        spacing_m=body.spacing_m,
        candidate_points=tuple((c.code, c.lon, c.lat, c.cost) for c in body.candidates),
        weighting=body.weighting,
        cell_m=body.cell_m,
        incidents=body.incidents,
        coverage_share=body.coverage_share,
        busy_fraction=body.busy_fraction,
        time_limit_s=body.time_limit_s,
    )
    result = plan_stations(db, settings, params)
    plan = store.save_plan(session, principal, result, body.name)
    return PlanOut(summary=PlanSummaryOut(**store.summary(plan)), result=plan.result)


@router.get("/compare", response_model=CompareOut, summary="Plans side by side")
def compare_plans(
    principal: Read,
    session: SessionDep,
    ids: Annotated[str, Query(description="Plan ids, comma-separated (2 to 10).")],
) -> CompareOut:
    try:
        plan_ids = [int(part) for part in ids.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed(
            "ids must be plan ids separated by commas",
            {"ids": ids},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "ids", "value": ids, "expected": "1,2,3"},
        ) from None
    found = store.compare_plans(session, principal, plan_ids)
    return CompareOut(plans=[PlanSummaryOut(**p) for p in found["plans"]])


@router.get("/plans/{plan_id}", response_model=PlanOut, summary="A stored plan")
def get_plan(plan_id: int, principal: Read, session: SessionDep) -> PlanOut:
    plan = store.get_plan(session, plan_id, principal)
    return PlanOut(
        summary=PlanSummaryOut(**store.summary(plan)),
        result=plan.result,
        simulation=plan.simulation,
    )


@router.get(
    "/plans/{plan_id}/export",
    response_class=Response,
    response_model=None,
    responses={200: {"content": {media: {} for media, _ in FORMATS.values()}}},
    summary="A plan as GeoJSON, xlsx or an HTML report with its map",
)
def export_plan(
    plan_id: int,
    principal: Read,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(geojson|xlsx|html)$")] = "geojson",
) -> Response:
    plan = store.get_plan(session, plan_id, principal)
    media, suffix = FORMATS[format]
    return Response(
        render_plan(plan.id, plan.result, plan.simulation, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="plan-{plan.id}{suffix}"'},
    )
