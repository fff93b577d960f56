"""Planning jobs with more than one runner (API process): each job is claimed once, a job
whose runner died is taken over when its lease runs out (and failed after too many
attempts), a runner that lost its lease cannot write the outcome, and a stopping process
queues its jobs again. Real threads on the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from firegrid.accounts.models import AuditEntry
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.planning import jobs, runner
from firegrid.planning.models import PlanningJob, PlanningPlan
from tests.dispatch.city import DCity

LOGISTICS = {"p": 1, "spacing_m": 4000.0, "time_limit_s": 30.0, "name": ""}


def _queue(db: Database, pcity: DCity, count: int, kind: str = "logistics") -> list[int]:
    ids = []
    with db.session() as session:
        for _ in range(count):
            job = PlanningJob(
                kind=kind,
                status="queued",
                parameters=dict(LOGISTICS),
                jurisdiction_path=pcity.paths["city"],
                created_by="planner",
                created_at=utcnow() - timedelta(minutes=1),
            )
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids


def _actions(db: Database, job_id: int) -> list[str]:
    with db.session() as session:
        rows = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.resource_type == "planning_job")
            .where(AuditEntry.resource_id == str(job_id))
            .order_by(AuditEntry.id)
        ).all()
    return list(rows)


def test_two_runners_racing_claim_each_job_once(db: Database, pcity: DCity) -> None:
    ids = _queue(db, pcity, 8)
    claimed: dict[str, list[int]] = {"A": [], "B": []}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        barrier.wait()
        while True:
            got = runner.claim(db, name, queued_before=utcnow(), view=jobs.view)
            if got is None:
                return
            claimed[name].append(got)

    threads = [threading.Thread(target=work, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = claimed["A"] + claimed["B"]
    assert sorted(every) == ids  # each job claimed, none twice
    assert Counter(every).most_common(1)[0][1] == 1
    with db.session() as session:
        rows = session.scalars(select(PlanningJob).where(PlanningJob.id.in_(ids))).all()
        assert {(r.status, r.attempts) for r in rows} == {("running", 1)}
        assert {r.id: r.runner for r in rows} == {
            job_id: name for name, got in claimed.items() for job_id in got
        }
    assert all(_actions(db, job_id) == ["planning.job.start"] for job_id in ids)
    # nothing is left to claim, by either
    assert runner.claim(db, "A", queued_before=utcnow(), view=jobs.view) is None
    for job_id in ids:
        runner.forget(db, job_id, "A")
        runner.forget(db, job_id, "B")


def test_two_runners_one_job_it_runs_once(db: Database, settings: Settings, pcity: DCity) -> None:
    (job_id,) = _queue(db, pcity, 1)
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        jobs.run_job(db, settings, job_id)  # each thread a runner of its own

    threads = [threading.Thread(target=run) for _ in range(2)]
    original = runner.runner_identity
    names = iter(["host:1:aaaa", "host:2:bbbb"])
    lock = threading.Lock()

    def identity() -> str:
        with lock:
            return next(names, "host:3:cccc")

    runner.runner_identity = identity
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        runner.runner_identity = original
    with db.session() as session:
        job = session.get(PlanningJob, job_id)
        assert job is not None
        assert (job.status, job.attempts) == ("done", 1)
        plans = session.scalars(select(PlanningPlan).where(PlanningPlan.kind == "logistics"))
        assert [p.id for p in plans] == [job.plan_id]
    assert _actions(db, job_id) == ["planning.job.start", "planning.job.finish"]


def test_an_expired_lease_is_taken_over_and_the_old_runner_cannot_finish(
    db: Database, settings: Settings, pcity: DCity
) -> None:
    (job_id,) = _queue(db, pcity, 1)
    assert runner.claim(db, "A", job_id=job_id, lease_s=5.0, view=jobs.view) == job_id
    # B cannot take it while A's lease holds; A renews it once (shortly), then "dies"
    assert runner.claim(db, "B", job_id=job_id, view=jobs.view) is None
    assert runner.renew(db, job_id, "A", lease_s=0.2)
    time.sleep(0.4)
    assert runner.claim(db, "B", job_id=job_id, view=jobs.view) == job_id
    assert not runner.renew(db, job_id, "A")  # A learns it lost the job
    actor = runner.job_actor(PlanningJob(created_by="planner", jurisdiction_path="/"))
    jobs._finish(db, actor, job_id, "A", None, {"code": "x", "message": "x"}, retriable=False)
    with db.session() as session:
        job = session.get(PlanningJob, job_id)
        assert job is not None
        assert (job.status, job.runner, job.attempts, job.error) == ("running", "B", 2, None)
    jobs.execute(db, settings, job_id, "B")
    with db.session() as session:
        job = session.get(PlanningJob, job_id)
        assert job is not None
        assert (job.status, job.attempts) == ("done", 2)
    assert _actions(db, job_id) == [
        "planning.job.start",
        "planning.job.reclaim",
        "planning.job.finish",
    ]
    runner.forget(db, job_id, "A")


def test_out_of_attempts_the_job_fails_retriable(db: Database, pcity: DCity) -> None:
    (job_id,) = _queue(db, pcity, 1)
    with db.session() as session:
        job = session.get(PlanningJob, job_id)
        assert job is not None
        job.status, job.attempts, job.runner = "running", runner.MAX_ATTEMPTS, "gone:1:x"
    assert jobs.recover_interrupted(db) == 0
    with db.session() as session:
        job = session.get(PlanningJob, job_id)
        assert job is not None
        assert (job.status, job.retriable) == ("failed", True)
        assert job.error is not None
        assert job.error["code"] == "interrupted"
    assert runner.claim(db, "A", queued_before=utcnow(), view=jobs.view) is None


def test_a_stopping_process_queues_its_jobs_again(db: Database, pcity: DCity) -> None:
    first, second = _queue(db, pcity, 2)
    me = runner.runner_identity()
    assert runner.claim(db, me, job_id=first, view=jobs.view) == first
    job_runner = runner.JobRunner(lambda job_id, name: None, db, poll_s=0.05, grace_s=0.0)
    job_runner.start()  # takes the second job (and "runs" it: nothing, still held)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with db.session() as session:
            job = session.get(PlanningJob, second)
            assert job is not None
            if job.status == "running":
                break
        time.sleep(0.05)
    job_runner.stop()
    with db.session() as session:
        rows = session.scalars(select(PlanningJob).where(PlanningJob.id.in_([first, second])))
        assert {(r.status, r.runner) for r in rows} == {("queued", "")}
    assert _actions(db, first)[-1] == "planning.job.requeue"
    assert _actions(db, second) == ["planning.job.start", "planning.job.requeue"]
