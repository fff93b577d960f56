"""HTTP routes of inspection plans and grid-worker performance.

Mounted before :mod:`firegrid.inspections.api` so ``/inspections/plan`` is not taken for
an inspection id. Every route needs ``inspections:read`` and sees only the caller's
jurisdiction (a grid worker: its grid).
"""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.core.clock import utcnow
from firegrid.inspections import performance as kpis
from firegrid.inspections.plan_rules import default_plan_rules
from firegrid.inspections.plan_schemas import (
    DueListOut,
    GridPlanOut,
    PerformanceOut,
    PerformanceRowOut,
    PlanEntryOut,
    PlanOut,
)
from firegrid.inspections.plans import compute_plans, due_list
from firegrid.inspections.schemas import ChecklistOut, ChecklistsOut

router = APIRouter(tags=["inspections"])

Reader = Annotated[Principal, Depends(require("inspections:read"))]
PeriodQuery = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="A month, YYYY-MM.")]
LevelQuery = Annotated[
    Literal["worker", "grid", "village", "town"], Query(description="Unit of the figures.")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/inspections/plan",
    summary="Inspection plans per grid: due today, overdue, escalated, the due list",
)
def inspection_plan(
    principal: Reader,
    session: SessionDep,
    grid: Annotated[str | None, Query(max_length=32, description="Only this grid (code).")] = None,
) -> PlanOut:
    plans = compute_plans(session, principal, utcnow(), grid_code=grid)
    grids = [GridPlanOut.model_validate(plans[code].summary()) for code in sorted(plans)]
    return PlanOut(grids=grids, count=len(grids))


@router.get(
    "/inspections/checklists",
    summary="The inspection checklists (data-declared), item codes with zh/en text",
)
def inspection_checklists(_principal: Reader) -> ChecklistsOut:
    declared = default_plan_rules().checklists
    items = [
        ChecklistOut.model_validate({"code": code, **declared[code].model_dump(mode="json")})
        for code in sorted(declared)
    ]
    return ChecklistsOut(items=items, count=len(items))


@router.get(
    "/inspections/due",
    summary="Visits due today or overdue in your jurisdiction, red status and high risk first",
)
def inspections_due(
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> DueListOut:
    entries = due_list(session, principal, utcnow())[:limit]
    items = [PlanEntryOut.model_validate(e.as_dict()) for e in entries]
    return DueListOut(items=items, count=len(items))


@router.get(
    "/inspections/performance",
    summary="Grid-worker performance for a month per worker, grid, village or town",
)
def inspection_performance(
    principal: Reader, session: SessionDep, period: PeriodQuery, level: LevelQuery = "grid"
) -> PerformanceOut:
    rows = kpis.performance(session, principal, kpis.parse_period(period), level, utcnow())
    items = [PerformanceRowOut.model_validate(row) for row in rows]
    return PerformanceOut(period=period, level=level, items=items, count=len(items))


@router.get(
    "/inspections/performance.xlsx",
    summary="Grid-worker performance for a month as an Excel workbook",
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX: {}}}},
)
def inspection_performance_xlsx(
    principal: Reader, session: SessionDep, period: PeriodQuery, level: LevelQuery = "grid"
) -> StreamingResponse:
    rows = kpis.performance(session, principal, kpis.parse_period(period), level, utcnow())
    buffer = io.BytesIO()
    kpis.write_xlsx(rows, buffer)
    buffer.seek(0)
    filename = f"performance-{period}-{level}.xlsx"
    return StreamingResponse(
        buffer,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
