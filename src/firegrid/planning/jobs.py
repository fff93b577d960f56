"""Background planning jobs: a simulation of a stored plan, a hydrant plan, a logistics
plan. The route stores the job (``queued``) and answers 202; :func:`run_job` does the work
and records ``running`` → ``done`` (with the plan it made or simulated) or ``failed`` (with
the error envelope). Every status change is audited.

Jobs run in the API process (a worker thread). A job still ``queued`` or ``running`` when
the service starts again was cut short by the restart: :func:`recover_interrupted` marks it
``failed`` and ``retriable`` (never lost silently) and :func:`retry` queues it again — the
uploaded calls of a simulation are kept on disk under the data directory for that.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, DomainError, NotFound
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.planning import store
from firegrid.planning.models import PlanningJob

JOB_KINDS = ("simulate", "hydrants", "logistics")
OPEN = ("queued", "running")
#: at most one progress write a second
PROGRESS_EVERY_S = 1.0


def calls_path(settings: Settings, job_id: int) -> Path:
    """Where a simulation job keeps its uploaded calls (kept for a retry)."""
    return Path(settings.data_dir) / "planning" / "calls" / f"job-{job_id}.jsonl"


def submit(
    session: Session,
    actor: Principal,
    kind: str,
    parameters: dict[str, Any],
    plan_id: int | None = None,
    total: int = 0,
) -> PlanningJob:
    job = PlanningJob(
        kind=kind,
        status="queued",
        parameters=parameters,
        plan_id=plan_id,
        progress_total=total,
        jurisdiction_path=actor.scope_path,
        created_by=actor.username or actor.subject,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    record_change(session, actor, "planning.job.submit", "planning_job", job.id, None, view(job))
    return job


def get_job(session: Session, job_id: int, actor: Principal) -> PlanningJob:
    """A job in the caller's scope; ``NotFound`` otherwise (its existence does not leak)."""
    job = session.get(PlanningJob, job_id)
    if job is None or not actor.can_see_path(job.jurisdiction_path):
        raise NotFound(f"planning job {job_id} not found", {"job_id": job_id})
    return job


def list_jobs(session: Session, actor: Principal, limit: int = 50) -> list[PlanningJob]:
    stmt = select(PlanningJob).where(actor.scope_filter(PlanningJob.jurisdiction_path))
    return list(session.scalars(stmt.order_by(PlanningJob.id.desc()).limit(limit)).all())


def view(job: PlanningJob) -> dict[str, Any]:
    """What a caller sees of a job."""
    share = job.progress_done / job.progress_total if job.progress_total else None
    if job.status == "done":
        share = 1.0
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "parameters": job.parameters,
        "plan_id": job.plan_id,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "progress_share": share,
        "error": job.error,
        "retriable": job.retriable,
        "attempts": job.attempts,
        "created_by": job.created_by,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _transition(
    session: Session, actor: Principal, job: PlanningJob, status: str, cause: str
) -> None:
    before = view(job)
    job.status = status
    session.flush()
    record_change(
        session, actor, f"planning.job.{cause}", "planning_job", job.id, before, view(job)
    )


def run_job(database: Database, settings: Settings, job_id: int, actor: Principal) -> None:
    """Do a queued job now (in the caller's thread); its outcome is stored on the job."""
    with database.session() as session:
        job = session.get(PlanningJob, job_id)
        if job is None or job.status != "queued":
            return
        job.attempts += 1
        job.started_at = utcnow()
        job.progress_done = 0
        _transition(session, actor, job, "running", "start")
        kind, parameters, plan_id = job.kind, dict(job.parameters), job.plan_id
    try:
        made = _work(database, settings, job_id, kind, parameters, plan_id, actor)
    except DomainError as err:
        _finish(database, actor, job_id, None, err.envelope()["error"], retriable=False)
    except Exception as err:  # noqa: BLE001 - any failure is recorded on the job, never lost
        error = {"code": "internal", "message": f"{type(err).__name__}: {err}", "details": None}
        _finish(database, actor, job_id, None, error, retriable=True)
    else:
        _finish(database, actor, job_id, made, None, retriable=False)


def _finish(
    database: Database,
    actor: Principal,
    job_id: int,
    plan_id: int | None,
    error: dict[str, Any] | None,
    *,
    retriable: bool,
) -> None:
    with database.session() as session:
        job = session.get(PlanningJob, job_id)
        if job is None:
            return
        job.finished_at = utcnow()
        job.error = error
        job.retriable = retriable
        if plan_id is not None:
            job.plan_id = plan_id
        if error is None:
            job.progress_done = job.progress_total
        _transition(session, actor, job, "failed" if error else "done", "finish")


def _work(
    database: Database,
    settings: Settings,
    job_id: int,
    kind: str,
    parameters: dict[str, Any],
    plan_id: int | None,
    actor: Principal,
) -> int:
    """The job's computation; returns the id of the plan it stored or simulated."""
    if kind == "simulate":
        return _simulate(database, settings, job_id, parameters, plan_id, actor)
    if kind == "hydrants":
        from firegrid.planning.hydrants import plan_hydrants

        result = plan_hydrants(database, settings, time_limit_s=parameters["time_limit_s"])
    else:
        from firegrid.planning.logistics import plan_logistics

        result = plan_logistics(
            database,
            settings,
            parameters["p"],
            spacing_m=parameters["spacing_m"],
            time_limit_s=parameters["time_limit_s"],
        )
    with database.session() as session:
        return store.save_plan(session, actor, result, str(parameters.get("name", ""))).id


def _simulate(
    database: Database,
    settings: Settings,
    job_id: int,
    parameters: dict[str, Any],
    plan_id: int | None,
    actor: Principal,
) -> int:
    from firegrid.planning.simulate import simulate_plan

    if plan_id is None:
        raise NotFound("the job names no plan", {"job_id": job_id})
    with database.session() as session:
        result = dict(store.get_plan(session, plan_id, actor).result)
    last_write = [0.0]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last_write[0] < PROGRESS_EVERY_S:
            return
        last_write[0] = now
        with database.session() as session:
            job = session.get(PlanningJob, job_id)
            if job is not None:
                job.progress_done = done

    report = simulate_plan(
        database,
        settings,
        result,
        calls_path(settings, job_id),
        seed=int(parameters.get("seed", 0)),
        limit=parameters.get("limit"),
        progress=progress,
    )
    report["calls_file"] = str(parameters.get("calls_name", "upload"))
    with database.session() as session:
        plan = store.get_plan(session, plan_id, actor)
        store.attach_simulation(session, actor, plan, report)
    return plan_id


def recover_interrupted(database: Database, actor: Principal) -> int:
    """Mark the jobs a restart cut short as failed and retriable; how many."""
    with database.session() as session:
        jobs = session.scalars(select(PlanningJob).where(PlanningJob.status.in_(OPEN))).all()
        for job in jobs:
            job.error = {
                "code": "interrupted",
                "message": "the service stopped while the job was running; retry it",
                "details": {"was": job.status},
            }
            job.retriable = True
            job.finished_at = utcnow()
            _transition(session, actor, job, "failed", "interrupted")
        return len(jobs)


def retry(session: Session, actor: Principal, job: PlanningJob) -> PlanningJob:
    """Queue a failed, retriable job again."""
    if job.status != "failed" or not job.retriable:
        raise Conflict(
            "only a failed, retriable job can be retried",
            {"job_id": job.id, "status": job.status, "retriable": job.retriable},
            text=TextCode.JOB_NOT_RETRIABLE,
            params={"job_id": job.id},
        )
    job.error = None
    job.retriable = False
    job.finished_at = None
    _transition(session, actor, job, "queued", "retry")
    return job


def recover_interrupted_jobs(database: Database) -> int:
    """At start-up: the jobs the last stop cut short become failed and retriable."""
    from firegrid.accounts.public import system_principal

    return recover_interrupted(database, system_principal("planning-jobs"))
