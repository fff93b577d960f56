"""HTTP routes of installation programmes (thin: the rules live in the service).

Reading needs ``installations:read``, recording ``installations:write``, creating a
programme ``installations:manage``; everything is scoped to the caller's jurisdiction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.api.pagination import decode_cursor, encode_cursor
from firegrid.installations import schemas, service
from firegrid.installations.export import report_csv

router = APIRouter(tags=["installations"])

Reader = Annotated[Principal, Depends(require("installations:read"))]
Writer = Annotated[Principal, Depends(require("installations:write"))]
Manager = Annotated[Principal, Depends(require("installations:manage"))]
ProgrammeId = Annotated[int, Path(ge=1, le=2_147_483_647)]
PeriodQuery = Annotated[
    str, Query(pattern=r"^\d{4}(-\d{2})?$", description="A month YYYY-MM or a year YYYY.")
]
LevelQuery = Annotated[str, Query(pattern="^(town|village|grid)$", description="Unit.")]
ProgrammeQuery = Annotated[int | None, Query(ge=1, le=2_147_483_647)]


@router.post(
    "/installations/programmes", status_code=201, summary="Create an installation programme"
)
def create_programme(
    principal: Manager, session: SessionDep, body: schemas.ProgrammeIn
) -> schemas.ProgrammeOut:
    row = service.create_programme(
        session,
        principal,
        code=body.code,
        name=body.name,
        scope_code=body.scope_code,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        target_count=body.target_count,
    )
    return schemas.ProgrammeOut.model_validate(service.programme_dict(row, 0))


@router.get("/installations/programmes", summary="Installation programmes you may see")
def list_programmes(principal: Reader, session: SessionDep) -> schemas.ProgrammeList:
    counts = service.programme_counts(session, principal)
    items = [
        schemas.ProgrammeOut.model_validate(service.programme_dict(p, counts.get(p.id, 0)))
        for p in service.list_programmes(session, principal)
    ]
    return schemas.ProgrammeList(items=items, count=len(items))


@router.post(
    "/installations/programmes/{programme_id}/installations",
    status_code=201,
    summary="Record an installation (a connected device is bound: registered, same grid)",
)
def record_installation(
    principal: Writer,
    session: SessionDep,
    programme_id: ProgrammeId,
    body: schemas.InstallationIn,
) -> schemas.InstallationOut:
    programme = service.get_programme(session, principal, programme_id)
    row = service.record_installation(
        session,
        principal,
        programme,
        service.InstallationSpec(
            device_type=body.device_type,
            unit_kind=body.unit_kind,
            installed_at=body.installed_at,
            installer=body.installer,
            venue_id=body.venue_id,
            grid_code=body.grid_code,
            address=body.address,
            household=body.household,
            device_id=body.device_id,
        ),
    )
    return schemas.InstallationOut.model_validate(service.installation_dict(row))


@router.get("/installations", summary="Installations in your jurisdiction")
def list_installations(
    principal: Reader,
    session: SessionDep,
    programme_id: ProgrammeQuery = None,
    period: Annotated[
        str | None, Query(pattern=r"^\d{4}(-\d{2})?$", description="YYYY-MM or YYYY.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="Cursor from the previous page.")] = None,
) -> schemas.InstallationPage:
    rows = service.list_installations(
        session,
        principal,
        programme_id=programme_id,
        period=service.parse_period(period) if period else None,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    items = [
        schemas.InstallationOut.model_validate(service.installation_dict(r)) for r in rows[:limit]
    ]
    return schemas.InstallationPage(items=items, next_cursor=next_cursor, count=len(items))


@router.get(
    "/installations/report",
    summary="Installations per town, village or grid and month of a month or a year",
)
def installations_report(
    principal: Reader,
    session: SessionDep,
    period: PeriodQuery,
    level: LevelQuery = "town",
    programme_id: ProgrammeQuery = None,
) -> schemas.ReportOut:
    rows = service.report(
        session, principal, service.parse_period(period), level, programme_id=programme_id
    )
    return schemas.ReportOut.model_validate(
        {
            "period": period,
            "level": level,
            "items": rows,
            "totals": service.totals(rows),
            "count": len(rows),
        }
    )


@router.get(
    "/installations/report.csv",
    summary="The installation figures as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def installations_report_csv(
    principal: Reader,
    session: SessionDep,
    period: PeriodQuery,
    level: LevelQuery = "town",
    programme_id: ProgrammeQuery = None,
) -> Response:
    rows = service.report(
        session, principal, service.parse_period(period), level, programme_id=programme_id
    )
    return Response(
        report_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="installations-{period}-{level}.csv"'
        },
    )
