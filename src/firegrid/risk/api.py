"""HTTP routes of the risk context: runs, venue scores and explanations, rankings, grade
counts and trends — scoped to the caller's jurisdiction (out of scope = not found).

Thin: every rule lives in :mod:`firegrid.risk.service`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.risk import schemas as s
from firegrid.risk import service
from firegrid.risk.schemas import (
    AreaGradesOut,
    AreaHistoryOut,
    ChangesOut,
    RescoreIn,
    RunIn,
    SchedulesOut,
)

router = APIRouter(prefix="/risk", tags=["risk"])

Read = Annotated[Principal, Depends(require("risk:read"))]
Run = Annotated[Principal, Depends(require("risk:run"))]
RunId = Annotated[int | None, Query(description="Run id (default: the latest run).")]


@router.get("/runs", response_model=s.RunList, summary="Recorded assessment runs, newest first")
def list_runs(
    principal: Read,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"items": service.list_runs(session, limit)}


@router.get(
    "/runs/latest",
    response_model=s.RunSummary,
    summary="The latest run's summary, over your jurisdiction",
)
def latest_run(principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.scoped_summary(session, None, principal.scope_path)


@router.get(
    "/runs/{run_id}", response_model=s.RunSummary, summary="A run's summary, over your jurisdiction"
)
def get_run(run_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.scoped_summary(session, run_id, principal.scope_path)


@router.post(
    "/runs",
    response_model=s.RunSummary,
    status_code=201,
    summary="Run an assessment (recorded; synchronous)",
)
def start_run(
    body: RunIn, principal: Run, session: SessionDep, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    session.commit()  # release the request's transaction: the run writes in its own
    report_dir = service.report_dir_for(settings, "api") if body.report else None
    result = service.assess(
        db, settings, body.model, actor=principal.subject, report_dir=report_dir
    )
    # The run scores the whole city (normalisation needs every venue); the caller sees it
    # over its own jurisdiction only.
    with db.session() as own:
        return service.scoped_summary(own, int(result["run_id"]), principal.scope_path)


@router.get(
    "/venues/{venue_id}",
    response_model=s.VenueScore,
    summary="A venue's score and its contributions",
)
def venue_score(
    venue_id: int, principal: Read, session: SessionDep, run_id: RunId = None
) -> dict[str, Any]:
    return service.venue_score(session, venue_id, run_id=run_id, scope_path=principal.scope_path)


@router.get(
    "/venues/{venue_id}/explanation",
    response_model=s.ExplanationOut,
    summary="Why the venue scores as it does: contributions, what would lower the grade, peers",
)
def venue_explanation(
    venue_id: int, principal: Read, session: SessionDep, run_id: RunId = None
) -> dict[str, Any]:
    return service.explain(session, venue_id, run_id=run_id, scope_path=principal.scope_path)


@router.get(
    "/venues/{venue_id}/trend",
    response_model=s.VenueTrend,
    summary="A venue's score across runs and re-scores",
)
def venue_trend(venue_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.venue_trend(session, venue_id, scope_path=principal.scope_path)


@router.post(
    "/venues/{venue_id}/rescore",
    response_model=s.RescoreOut,
    status_code=201,
    summary="Re-score one venue now (latest run's normalisation; recorded)",
)
def rescore(
    venue_id: int,
    body: RescoreIn,
    principal: Run,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    session.commit()
    return service.rescore_venue(
        db,
        settings,
        venue_id,
        actor=principal.subject,
        cause=body.cause,
        scope_path=principal.scope_path,
        principal=principal,
    )


@router.get(
    "/rankings",
    response_model=s.RankingsOut,
    summary="Highest-risk areas of a level (or venues) in your scope",
)
def rankings(
    principal: Read,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(town|village|grid|industry|category|venue)$")] = "town",
    run_id: RunId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    return service.rankings(
        session, level, run_id=run_id, scope_path=principal.scope_path, limit=limit
    )


@router.get(
    "/grades",
    response_model=s.GradeCountsOut,
    summary="Venues per grade in every area of a level, in your scope",
)
def grades(
    principal: Read,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(city|town|village|grid|industry|category)$")] = "town",
    run_id: RunId = None,
) -> dict[str, Any]:
    return service.grade_counts(session, level, run_id=run_id, scope_path=principal.scope_path)


@router.get(
    "/areas/{level}/trend",
    response_model=s.AreaTrend,
    summary="An area's figures across runs, in your scope",
)
def area_trend(
    level: str,
    principal: Read,
    session: SessionDep,
    code: Annotated[str | None, Query(description="Area code (not for level city).")] = None,
) -> dict[str, Any]:
    return service.area_trend(session, level, code, scope_path=principal.scope_path)


# ---- area assessment ------------------------------------------------------------------------
Level = Annotated[str, Query(pattern="^(city|town|village|grid|industry|category)$")]


@router.get(
    "/areas",
    response_model=AreaGradesOut,
    summary="Area grades of a level (the area method, with drivers), in your scope",
)
def area_grades(
    principal: Read,
    session: SessionDep,
    settings: SettingsDep,
    level: Level = "town",
    run_id: RunId = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    from firegrid.risk.area_method import load_area_method
    from firegrid.risk.area_service import area_grades as read

    method = load_area_method(settings.risk_area_method)
    return read(
        session, level, run_id=run_id, scope_path=principal.scope_path, limit=limit, method=method
    )


@router.get(
    "/areas/{level}/history",
    response_model=AreaHistoryOut,
    summary="An area's score and grade in every run (the trend), in your scope",
)
def area_history(
    level: str,
    principal: Read,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=64, description="Area code.")],
) -> dict[str, Any]:
    from firegrid.risk.area_service import area_history as read

    return read(session, level, code, scope_path=principal.scope_path)


@router.get(
    "/changes",
    response_model=ChangesOut,
    summary="What changed since the previous run (areas and venues whose grade moved)",
)
def changes_since_previous(
    principal: Read, session: SessionDep, run_id: RunId = None
) -> dict[str, Any]:
    from firegrid.risk.area_service import changes_since_previous as read

    return read(session, run_id=run_id, scope_path=principal.scope_path)


@router.get(
    "/schedules",
    response_model=SchedulesOut,
    summary="The regular assessment's schedules: next run time and last run",
)
def schedules(principal: Read, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    from firegrid.risk.scheduler import load_schedule, schedule_status

    return {"items": schedule_status(db, load_schedule(settings.risk_schedule))["schedules"]}


@router.get(
    "/runs/{run_id}/report",
    response_class=FileResponse,
    responses={200: {"content": {"text/html": {}}}},
    summary="The run's HTML report (city-wide: for a caller whose scope is the city)",
)
def run_report(run_id: int, principal: Read, session: SessionDep) -> FileResponse:
    path = service.report_file(session, run_id, principal.scope_path)
    return FileResponse(path, media_type="text/html; charset=utf-8", filename="report.html")
