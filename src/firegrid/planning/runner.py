"""Who runs a planning job: any API process, each job exactly once.

* **Claim** (:func:`claim`): one conditional ``UPDATE`` moves a job from ``queued`` (or
  ``running`` with an expired lease) to ``running`` under this runner's name; it succeeds
  for one runner only — the ``WHERE`` is evaluated again on the row the update locks (on
  PostgreSQL the candidate row is first picked with ``SELECT … FOR UPDATE SKIP LOCKED``, so
  concurrent runners do not queue on the same row; on SQLite writers are serialised). A
  runner whose update touched no row did not get the job.
* **Lease**: a claim holds the job until ``lease_until``; the runner renews it every third
  of :data:`LEASE_S` while it works (:class:`Heartbeat`). A runner that dies stops renewing;
  once the lease has run out, another runner — or the same service after its restart —
  claims the job again (``planning.job.reclaim``), at most :data:`MAX_ATTEMPTS` attempts
  in all, then the job is failed and ``retriable`` (:func:`give_up`).
* **Finish**: results and progress are written only while this runner still holds the job
  (``WHERE runner = me``), so a runner that lost its lease cannot overwrite the job's new
  run.
* **Runner thread** (:class:`JobRunner`, started by the API): polls for jobs nobody took —
  queued for longer than :data:`QUEUED_GRACE_S` (the submitting process normally starts its
  own job at once) or with an expired lease; at shutdown, the jobs this process holds are
  queued again (``planning.job.requeue``) for the next runner.

Every status change is audited with time, actor and cause.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from firegrid.accounts.public import Principal, record_change, system_principal
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.planning.models import PlanningJob

log = logging.getLogger(__name__)

#: how long a claim holds a job without renewal
LEASE_S = 60.0
#: attempts (claims) before a job whose runner keeps dying is failed
MAX_ATTEMPTS = 3
#: a queued job older than this was not started by its own process: any runner takes it
QUEUED_GRACE_S = 10.0
#: how often the runner thread looks for such jobs
POLL_S = 2.0

_identity: tuple[int, str] | None = None
_held: set[tuple[str, int, str]] = set()  # (database url, job id, runner)
_held_lock = threading.Lock()


def runner_identity() -> str:
    """This process's runner name: host, pid and a random tail (new after a fork)."""
    global _identity
    if _identity is None or _identity[0] != os.getpid():
        tail = uuid.uuid4().hex[:8]
        _identity = (os.getpid(), f"{socket.gethostname()[:60]}:{os.getpid()}:{tail}")
    return _identity[1]


def job_actor(job: PlanningJob) -> Principal:
    """Who the runner acts for: the job's submitter (its scope and role)."""
    a = job.actor or {}
    return Principal(
        subject=str(a.get("subject", f"system:{job.created_by}")),
        username=str(a.get("username", job.created_by)),
        role=str(a.get("role", "admin")),
        scope_path=str(a.get("scope_path", job.jurisdiction_path)),
        scope_code=str(a.get("scope_code", "")),
        auth_method="job",
    )


def actor_record(principal: Principal) -> dict[str, Any]:
    """What a job keeps of its submitter (:func:`job_actor` reads it back)."""
    return {
        "subject": principal.subject,
        "username": principal.username or principal.subject,
        "role": principal.role,
        "scope_path": principal.scope_path,
        "scope_code": principal.scope_code,
    }


def _claimable(now: datetime) -> ColumnElement[bool]:
    expired = and_(
        PlanningJob.status == "running",
        or_(PlanningJob.lease_until.is_(None), PlanningJob.lease_until <= now),
    )
    return or_(PlanningJob.status == "queued", expired)


def claim(
    database: Database,
    runner: str,
    *,
    job_id: int | None = None,
    queued_before: datetime | None = None,
    lease_s: float = LEASE_S,
    view: Callable[[PlanningJob], dict[str, Any]],
) -> int | None:
    """Claim one job for ``runner`` (``job_id``: that one only; else the oldest claimable,
    queued ones only if queued before ``queued_before``). The job's id, or ``None`` when
    there is none or another runner got it first."""
    for _ in range(20):  # skip jobs given up on (too many attempts), then stop
        now = utcnow()
        with database.session() as session:
            stmt = select(PlanningJob).where(_claimable(now))
            if job_id is not None:
                stmt = stmt.where(PlanningJob.id == job_id)
            elif queued_before is not None:
                stmt = stmt.where(
                    or_(PlanningJob.status == "running", PlanningJob.created_at <= queued_before)
                )
            stmt = stmt.order_by(PlanningJob.id).limit(1)
            if not database.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            job = session.scalars(stmt).first()
            if job is None:
                return None
            before = view(job)
            reclaim = job.status == "running"
            if reclaim and job.attempts >= MAX_ATTEMPTS:
                give_up(session, job, now, before)
                if job_id is not None:
                    return None
                continue
            taken = session.execute(
                update(PlanningJob)
                .where(PlanningJob.id == job.id, _claimable(now))
                .values(
                    status="running",
                    runner=runner,
                    lease_until=now + timedelta(seconds=lease_s),
                    attempts=PlanningJob.attempts + 1,
                    started_at=now,
                    progress_done=0,
                    stage="",
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another runner was first
            session.refresh(job)
            actor = system_principal("planning-jobs") if reclaim else job_actor(job)
            action = "planning.job.reclaim" if reclaim else "planning.job.start"
            record_change(
                session, actor, action, "planning_job", job.id, before, view(job), runner=runner
            )
            with _held_lock:
                _held.add((database.url, job.id, runner))
            return int(job.id)
    return None


def give_up(
    session: Session, job: PlanningJob, now: datetime, before: dict[str, Any] | None = None
) -> None:
    """A job whose runners died ``MAX_ATTEMPTS`` times: failed and retriable."""
    from firegrid.planning.jobs import view

    before = before or view(job)
    job.status = "failed"
    job.retriable = True
    job.finished_at = now
    job.lease_until = None
    job.error = {
        "code": "interrupted",
        "message": f"the job was cut short (its service stopped) {job.attempts} time(s); retry it",
        "details": {"attempts": job.attempts, "runner": job.runner},
    }
    session.flush()
    record_change(
        session,
        system_principal("planning-jobs"),
        "planning.job.interrupted",
        "planning_job",
        job.id,
        before,
        view(job),
    )


def renew(database: Database, job_id: int, runner: str, lease_s: float = LEASE_S) -> bool:
    """Extend the lease while ``runner`` still holds the job; whether it does."""
    with database.session() as session:
        done = session.execute(
            update(PlanningJob)
            .where(
                PlanningJob.id == job_id,
                PlanningJob.runner == runner,
                PlanningJob.status == "running",
            )
            .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def holds(session: Session, job: PlanningJob, runner: str) -> bool:
    """Whether ``runner`` still holds ``job`` (read in ``session``)."""
    return job.status == "running" and job.runner == runner


def forget(database: Database, job_id: int, runner: str) -> None:
    """The job is no longer held by ``runner`` (finished, or its lease lost)."""
    with _held_lock:
        _held.discard((database.url, job_id, runner))


class Heartbeat:
    """Renews a job's lease every third of the lease while the job runs (a thread)."""

    def __init__(self, database: Database, job_id: int, runner: str, lease_s: float) -> None:
        self.database, self.job_id, self.runner, self.lease_s = database, job_id, runner, lease_s
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not renew(self.database, self.job_id, self.runner, self.lease_s):
                    self.lost = True
                    log.warning("planning job lease lost", extra={"job_id": self.job_id})
                    return
            except Exception:  # a failed renewal is retried next beat
                log.exception("planning job lease not renewed", extra={"job_id": self.job_id})


def requeue_held(database: Database, cause: str = "shutdown") -> int:
    """Queue again the jobs this process holds (at shutdown): the next runner takes them."""
    from firegrid.planning.jobs import view

    with _held_lock:
        held = sorted((j, r) for url, j, r in _held if url == database.url)
        _held.difference_update({(database.url, j, r) for j, r in held})
    count = 0
    for job_id, runner in held:
        with database.session() as session:
            job = session.get(PlanningJob, job_id)
            if job is None or not holds(session, job, runner):
                continue
            before = view(job)
            job.status, job.runner, job.lease_until, job.stage = "queued", "", None, ""
            session.flush()
            record_change(
                session,
                system_principal("planning-jobs"),
                "planning.job.requeue",
                "planning_job",
                job.id,
                before,
                view(job),
                cause=cause,
            )
            count += 1
    return count


class JobRunner:
    """The API process's runner thread (see the module docstring)."""

    def __init__(
        self,
        execute: Callable[[int, str], None],
        database: Database,
        *,
        poll_s: float = POLL_S,
        grace_s: float = QUEUED_GRACE_S,
        lease_s: float = LEASE_S,
    ) -> None:
        from firegrid.planning.jobs import view

        self.execute, self.database = execute, database
        self.poll_s, self.grace_s, self.lease_s = poll_s, grace_s, lease_s
        self.view = view
        self.runner = runner_identity()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Claim and run one job nobody took; its id, or ``None``."""
        job_id = claim(
            self.database,
            self.runner,
            queued_before=utcnow() - timedelta(seconds=self.grace_s),
            lease_s=self.lease_s,
            view=self.view,
        )
        if job_id is not None:
            self.execute(job_id, self.runner)
        return job_id

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # a database hiccup: try again next round
                log.exception("planning job runner round failed")
                ran = None
            if ran is None:
                self._stop.wait(self.poll_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="planning-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop polling; the jobs this process still holds are queued again."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        try:
            requeue_held(self.database)
        except Exception:  # their leases run out and they are reclaimed
            log.exception("planning jobs not requeued at shutdown")
