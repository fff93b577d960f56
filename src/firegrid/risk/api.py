"""HTTP routes of the risk context: runs, venue scores and explanations, rankings, grade
counts and trends — scoped to the caller's jurisdiction (out of scope = not found).

Thin: every rule lives in :mod:`firegrid.risk.service`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.risk import service
from firegrid.risk.schemas import RescoreIn, RunIn

router = APIRouter(prefix="/risk", tags=["risk"])

Read = Annotated[Principal, Depends(require("risk:read"))]
Run = Annotated[Principal, Depends(require("risk:run"))]
RunId = Annotated[int | None, Query(description="Run id (default: the latest run).")]


@router.get("/runs", summary="Recorded assessment runs, newest first")
def list_runs(
    principal: Read,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"items": service.list_runs(session, limit)}


@router.get("/runs/latest", summary="The latest run's summary, over your jurisdiction")
def latest_run(principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.scoped_summary(session, None, principal.scope_path)


@router.get("/runs/{run_id}", summary="A run's summary, over your jurisdiction")
def get_run(run_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.scoped_summary(session, run_id, principal.scope_path)


@router.post("/runs", status_code=201, summary="Run an assessment (recorded; synchronous)")
def start_run(
    body: RunIn, principal: Run, session: SessionDep, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    session.commit()  # release the request's transaction: the run writes in its own
    result = service.assess(db, settings, body.model, actor=principal.subject)
    # The run scores the whole city (normalisation needs every venue); the caller sees it
    # over its own jurisdiction only.
    with db.session() as own:
        return service.scoped_summary(own, int(result["run_id"]), principal.scope_path)


@router.get("/venues/{venue_id}", summary="A venue's score and its contributions")
def venue_score(
    venue_id: int, principal: Read, session: SessionDep, run_id: RunId = None
) -> dict[str, Any]:
    return service.venue_score(session, venue_id, run_id=run_id, scope_path=principal.scope_path)


@router.get(
    "/venues/{venue_id}/explanation",
    summary="Why the venue scores as it does: contributions, what would lower the grade, peers",
)
def venue_explanation(
    venue_id: int, principal: Read, session: SessionDep, run_id: RunId = None
) -> dict[str, Any]:
    return service.explain(session, venue_id, run_id=run_id, scope_path=principal.scope_path)


@router.get("/venues/{venue_id}/trend", summary="A venue's score across runs and re-scores")
def venue_trend(venue_id: int, principal: Read, session: SessionDep) -> dict[str, Any]:
    return service.venue_trend(session, venue_id, scope_path=principal.scope_path)


@router.post(
    "/venues/{venue_id}/rescore",
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


@router.get("/rankings", summary="Highest-risk areas of a level (or venues) in your scope")
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


@router.get("/grades", summary="Venues per grade in every area of a level, in your scope")
def grades(
    principal: Read,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(city|town|village|grid|industry|category)$")] = "town",
    run_id: RunId = None,
) -> dict[str, Any]:
    return service.grade_counts(session, level, run_id=run_id, scope_path=principal.scope_path)


@router.get("/areas/{level}/trend", summary="An area's figures across runs, in your scope")
def area_trend(
    level: str,
    principal: Read,
    session: SessionDep,
    code: Annotated[str | None, Query(description="Area code (not for level city).")] = None,
) -> dict[str, Any]:
    return service.area_trend(session, level, code, scope_path=principal.scope_path)
