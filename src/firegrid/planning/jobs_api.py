"""HTTP routes of the planning jobs: make a station plan, simulate a stored plan against a
year of calls, make a hydrant or a logistics plan — each a background job (202 and the
job), read with ``GET /planning/jobs/{id}``; a failed, retriable job is retried.

The work is done by :mod:`.jobs` (claimed by one runner: :mod:`.runner`); station,
hydrant and logistics plans are city-wide computations, so they need a city scope.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, UploadFile

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.core.errors import Forbidden, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.planning import jobs, store
from firegrid.planning.models import PlanningJob
from firegrid.planning.schemas import (
    HydrantPlanIn,
    JobListOut,
    JobOut,
    LogisticsPlanIn,
    StationPlanIn,
)

router = APIRouter(prefix="/planning", tags=["planning"])
Read = Annotated[Principal, Depends(require("planning:read"))]
Write = Annotated[Principal, Depends(require("planning:write"))]

#: the largest calls upload (a synthetic city year of 60,000 calls is about 15 MB)
MAX_CALLS_BYTES = 64 * 1024 * 1024
#: a stored year: a JSON-lines file of ``firegrid incidents generate`` in ``<data>/calls/``
STORED_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}\.jsonl$")
CHUNK_BYTES = 1024 * 1024


def _out(job: PlanningJob) -> JobOut:
    return JobOut.model_validate(jobs.view(job))


class _JobStarter:
    """Runs a submitted (or retried) job in the background of the request that made it."""

    def __init__(self, db: DbDep, settings: SettingsDep, background: BackgroundTasks) -> None:
        self.db = db
        self.settings = settings
        self.background = background

    def start(self, job: PlanningJob, principal: Principal) -> JobOut:
        """Queue ``job`` to run after the response; the job as answered (202)."""
        self.background.add_task(jobs.run_job, self.db, self.settings, job.id, principal)
        return _out(job)


JobStarter = Annotated[_JobStarter, Depends()]


def _city_wide(principal: Principal, what: str) -> None:
    if principal.scope_path.count("/") > 2:
        raise Forbidden(
            f"planning {what} is city-wide: ask a planner with a city scope",
            {"scope": principal.scope_code},
            text=TextCode.ACCESS_CITY_ONLY,
            params={"kind": "planning"},
        )


async def _save_upload(upload: UploadFile, target: Path) -> int:
    """Copy the upload to ``target`` (size-limited); the number of non-empty lines."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size, lines = 0, 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_CALLS_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise ValidationFailed(
                    f"the calls file is larger than {MAX_CALLS_BYTES // (1024 * 1024)} MB",
                    {"field": "calls", "max_bytes": MAX_CALLS_BYTES},
                    text=TextCode.VALIDATION_TOO_LARGE,
                    params={"field": "calls", "max_mb": MAX_CALLS_BYTES // (1024 * 1024)},
                )
            out.write(chunk)
    with target.open("rb") as back:
        lines = sum(1 for line in back if line.strip())
    if lines == 0:
        target.unlink(missing_ok=True)
        raise ValidationFailed(
            "the calls file holds no calls",
            {"field": "calls"},
            text=TextCode.VALIDATION_EMPTY,
            params={"field": "calls"},
        )
    return lines


def _copy_stored(data_dir: Path, name: str, target: Path) -> int:
    if not STORED_NAME.match(name):
        raise ValidationFailed(
            "stored must name a .jsonl file (letters, digits, '_', '-', '.')",
            {"stored": name},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "stored", "value": name, "expected": "NAME.jsonl"},
        )
    source = data_dir / "calls" / name
    if not source.is_file():
        raise ValidationFailed(
            f"no stored year {name!r} (firegrid incidents generate --out <data>/calls/{name})",
            {"stored": name},
            text=TextCode.FILE_NOT_FOUND,
            params={"file": name},
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    with target.open("rb") as back:
        return sum(1 for line in back if line.strip())


@router.post(
    "/plans/{plan_id}/simulate",
    status_code=202,
    response_model=JobOut,
    summary="Replay a year of calls without and with a plan's sites (a background job)",
)
async def simulate_plan_job(
    plan_id: int,
    principal: Write,
    session: SessionDep,
    settings: SettingsDep,
    starter: JobStarter,
    calls: Annotated[
        UploadFile | None, File(description="Calls as JSON lines (firegrid incidents generate).")
    ] = None,
    stored: Annotated[
        str | None, Form(description="Or a stored year: a .jsonl file in <data>/calls/.")
    ] = None,
    seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int | None, Form(ge=1)] = None,
) -> JobOut:
    plan = store.get_plan(session, plan_id, principal)
    if plan.kind != "stations":
        raise ValidationFailed(
            "only a station plan can be simulated",
            {"plan_id": plan_id, "kind": plan.kind},
            text=TextCode.PLANNING_ONLY_STATION_PLANS,
            params={"plan_id": plan_id},
        )
    if (calls is None) == (stored is None):
        raise ValidationFailed(
            "give either a calls file or a stored year",
            {"field": "calls"},
            text=TextCode.PLANNING_CALLS_SOURCE,
            params={},
        )
    name = (calls.filename or "upload")[:120] if calls is not None else str(stored)
    parameters = {"seed": seed, "limit": limit, "calls_name": name}
    job = jobs.submit(session, principal, "simulate", parameters, plan_id=plan_id)
    target = jobs.calls_path(settings, job.id)
    if calls is not None:
        total = await _save_upload(calls, target)
    else:
        total = _copy_stored(Path(settings.data_dir), name, target)
    job.progress_total = min(total, limit) if limit else total
    session.flush()
    return starter.start(job, principal)


@router.post(
    "/stations",
    status_code=202,
    response_model=JobOut,
    summary="Where the next stations go, existing ones fixed open (a background job; "
    "the plan is stored)",
)
def station_plan_job(
    body: StationPlanIn, principal: Write, session: SessionDep, starter: JobStarter
) -> JobOut:
    from firegrid.planning.stations import StationParams

    _city_wide(principal, "stations")
    parameters = body.model_dump()
    StationParams(  # bad parameters are refused now, not by a failed job
        **{k: v for k, v in parameters.items() if k not in ("name", "candidates")}
    ).check()
    job = jobs.submit(session, principal, "stations", parameters, total=len(jobs.STATION_STAGES))
    return starter.start(job, principal)


@router.post(
    "/hydrants",
    status_code=202,
    response_model=JobOut,
    summary="New hydrants for the GB 50974 gaps by an optimal cover (a background job)",
)
def hydrant_plan_job(
    body: HydrantPlanIn, principal: Write, session: SessionDep, starter: JobStarter
) -> JobOut:
    _city_wide(principal, "hydrants")
    job = jobs.submit(session, principal, "hydrants", body.model_dump())
    return starter.start(job, principal)


@router.post(
    "/logistics",
    status_code=202,
    response_model=JobOut,
    summary="Logistics points by p-median over the stations (a background job)",
)
def logistics_plan_job(
    body: LogisticsPlanIn, principal: Write, session: SessionDep, starter: JobStarter
) -> JobOut:
    _city_wide(principal, "logistics")
    job = jobs.submit(session, principal, "logistics", body.model_dump())
    return starter.start(job, principal)


@router.get("/jobs", response_model=JobListOut, summary="Planning jobs in your scope")
def list_jobs(
    principal: Read, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> JobListOut:
    return JobListOut(items=[_out(job) for job in jobs.list_jobs(session, principal, limit)])


@router.get("/jobs/{job_id}", response_model=JobOut, summary="A planning job's status")
def get_job(job_id: int, principal: Read, session: SessionDep) -> JobOut:
    return _out(jobs.get_job(session, job_id, principal))


@router.post(
    "/jobs/{job_id}/retry",
    status_code=202,
    response_model=JobOut,
    summary="Run a failed, retriable job again (one a restart cut short)",
)
def retry_job(job_id: int, principal: Write, session: SessionDep, starter: JobStarter) -> JobOut:
    job = jobs.retry(session, principal, jobs.get_job(session, job_id, principal))
    return starter.start(job, principal)
