"""Background planning jobs: a station plan, a simulation of a stored plan, a hydrant plan,
a logistics plan. The route stores the job (``queued``) and answers 202; :func:`run_job`
claims it (:mod:`.runner`: a conditional update, one runner only) and does the work,
recording ``running`` → ``done`` (with the plan it made or simulated) or ``failed`` (with
the error envelope); a station plan reports the stage it is at. Every status change is
audited.

Any API process may run any job: the submitting process starts it at once (a background
task), and every process's runner thread takes jobs nobody started and jobs whose runner
died (lease expired: :mod:`.runner`). A failed, retriable job is queued again by
:func:`retry` — the uploaded calls of a simulation are kept on disk under the data
directory for that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, DomainError, NotFound
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.planning import runner, store
from firegrid.planning.models import PlanningJob

JOB_KINDS = ("stations", "simulate", "hydrants", "logistics")
#: the stages of a station plan, in order (``plan_stations``' progress), as codes
STATION_STAGES = ("inputs", "demand_candidates", "matrix", "solve", "after")
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
        actor=runner.actor_record(actor),
    )
    session.add(job)
    session.flush()
    record_change(session, actor, "planning.job.submit", "planning_job", job.id, None, view(job))
    return job


def get_job(session: Session, job_id: int, actor: Principal) -> PlanningJob:
    """A job in the caller's scope; ``NotFound`` otherwise (its existence does not leak)."""
    job = session.get(PlanningJob, job_id)
    if job is None or not actor.can_see_path(job.jurisdiction_path):
        raise NotFound(
            f"planning job {job_id} not found",
            {"job_id": job_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "planning_job", "id": job_id},
        )
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
        "stage": job.stage or None,
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


def run_job(
    database: Database, settings: Settings, job_id: int, actor: Principal | None = None
) -> None:
    """Claim job ``job_id`` and do it now (in the caller's thread); nothing when another
    runner has it. ``actor`` is not used (the job acts for its submitter); kept for callers."""
    me = runner.runner_identity()
    if runner.claim(database, me, job_id=job_id, view=view) is not None:
        execute(database, settings, job_id, me)


def execute(
    database: Database, settings: Settings, job_id: int, me: str, lease_s: float = runner.LEASE_S
) -> None:
    """Do a job ``me`` has claimed, renewing its lease; store the outcome while ``me``
    still holds it."""
    with database.session() as session:
        job = session.get(PlanningJob, job_id)
        if job is None or not runner.holds(session, job, me):
            runner.forget(database, job_id, me)
            return
        kind, parameters, plan_id = job.kind, dict(job.parameters), job.plan_id
        actor = runner.job_actor(job)
    try:
        with runner.Heartbeat(database, job_id, me, lease_s):
            made = _work(database, settings, job_id, me, kind, parameters, plan_id, actor)
    except DomainError as err:
        _finish(database, actor, job_id, me, None, err.envelope()["error"], retriable=False)
    except Exception as err:  # noqa: BLE001 - any failure is recorded on the job, never lost
        error = {"code": "internal", "message": f"{type(err).__name__}: {err}", "details": None}
        _finish(database, actor, job_id, me, None, error, retriable=True)
    else:
        _finish(database, actor, job_id, me, made, None, retriable=False)
    finally:
        runner.forget(database, job_id, me)


def _finish(
    database: Database,
    actor: Principal,
    job_id: int,
    me: str,
    plan_id: int | None,
    error: dict[str, Any] | None,
    *,
    retriable: bool,
) -> None:
    with database.session() as session:
        job = session.get(PlanningJob, job_id)
        if job is None or not runner.holds(session, job, me):
            return  # the lease was lost: the job's new runner records its outcome
        job.finished_at = utcnow()
        job.error = error
        job.retriable = retriable
        job.lease_until = None
        if plan_id is not None:
            job.plan_id = plan_id
        if error is None:
            job.progress_done = job.progress_total
            job.stage = ""
        _transition(session, actor, job, "failed" if error else "done", "finish")


def _progress_writer(
    database: Database, job_id: int, me: str
) -> Callable[[int | None, str | None], None]:
    """Writes progress (done count and/or stage) at most once a second, while ``me`` holds
    the job; a stage change is written at once."""
    last = [0.0]

    def write(done: int | None, stage: str | None) -> None:
        now = time.monotonic()
        if stage is None and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        with database.session() as session:
            job = session.get(PlanningJob, job_id)
            if job is None or not runner.holds(session, job, me):
                return
            if done is not None:
                job.progress_done = done
            if stage is not None:
                job.stage = stage

    return write


def _work(
    database: Database,
    settings: Settings,
    job_id: int,
    me: str,
    kind: str,
    parameters: dict[str, Any],
    plan_id: int | None,
    actor: Principal,
) -> int:
    """The job's computation; returns the id of the plan it stored or simulated."""
    write = _progress_writer(database, job_id, me)
    if kind == "simulate":
        return _simulate(database, settings, job_id, parameters, plan_id, actor, write)
    if kind == "stations":
        result = _stations(database, settings, parameters, write)
    elif kind == "hydrants":
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


def _stations(
    database: Database,
    settings: Settings,
    parameters: dict[str, Any],
    write: Callable[[int | None, str | None], None],
) -> dict[str, Any]:
    """A station plan (``plan_stations``), its stage written as it goes."""
    from firegrid.planning.stations import StationParams, plan_stations

    fields = {k: v for k, v in parameters.items() if k not in ("name", "candidates")}
    points = tuple(
        (str(c["code"]), float(c["lon"]), float(c["lat"]), float(c.get("cost", 1.0)))
        for c in parameters.get("candidates") or ()
    )
    params = StationParams(**fields, candidate_points=points)
    stages = iter(enumerate(STATION_STAGES))

    def progress(_: str) -> None:
        step, code = next(stages, (len(STATION_STAGES) - 1, STATION_STAGES[-1]))
        write(step, code)

    return plan_stations(database, settings, params, progress)


def _simulate(
    database: Database,
    settings: Settings,
    job_id: int,
    parameters: dict[str, Any],
    plan_id: int | None,
    actor: Principal,
    write: Callable[[int | None, str | None], None],
) -> int:
    from firegrid.planning.simulate import simulate_plan

    if plan_id is None:
        raise NotFound(
            "the job names no plan",
            {"job_id": job_id},
            text=TextCode.PLANNING_JOB_NO_PLAN,
            params={"job_id": job_id},
        )
    with database.session() as session:
        result = dict(store.get_plan(session, plan_id, actor).result)

    def progress(done: int) -> None:
        write(done, None)

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


def recover_interrupted(database: Database) -> int:
    """Jobs whose runner died (lease expired, or held by no lease at all): each is claimed
    again by the next runner round; those out of attempts are failed and retriable now.
    How many are waiting to run again."""
    now = utcnow()
    with database.session() as session:
        stale = session.scalars(
            select(PlanningJob).where(
                PlanningJob.status == "running",
                or_(PlanningJob.lease_until.is_(None), PlanningJob.lease_until <= now),
            )
        ).all()
        again = 0
        for job in stale:
            if job.attempts >= runner.MAX_ATTEMPTS:
                runner.give_up(session, job, now)
            else:
                again += 1
        return again


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
    job.runner, job.lease_until, job.stage = "", None, ""
    _transition(session, actor, job, "queued", "retry")
    return job


def recover_interrupted_jobs(database: Database) -> int:
    """At start-up: how many jobs the last stop cut short will run again (see
    :func:`recover_interrupted`)."""
    return recover_interrupted(database)


def start_job_runner(
    database: Database,
    settings: Settings,
    *,
    poll_s: float = runner.POLL_S,
    grace_s: float = runner.QUEUED_GRACE_S,
    lease_s: float = runner.LEASE_S,
) -> runner.JobRunner:
    """The API process's runner thread (:class:`.runner.JobRunner`), started."""

    def run(job_id: int, me: str) -> None:
        execute(database, settings, job_id, me, lease_s)

    job_runner = runner.JobRunner(run, database, poll_s=poll_s, grace_s=grace_s, lease_s=lease_s)
    job_runner.start()
    return job_runner
