"""The operator's and the grid worker's actions on an alarm.

Acknowledge, start verification, record a call to the venue contact, ask the grid worker
of the venue's grid for an on-site check (a task with photo and note), confirm, declare a
false alarm (with its reason) or a device fault, forward, close. The first decisive
verification wins; later ones are recorded and change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms import feed
from firegrid.alarms.directory import grid_worker_for
from firegrid.alarms.lifecycle import (
    AUTO_FORWARD,
    TASK_OVERDUE,
    cancel_timers,
    decide,
    forward_alarm,
    iso,
    schedule,
    transition,
)
from firegrid.alarms.models import Alarm, AlarmVerification, VerificationTask
from firegrid.alarms.rules import Policy
from firegrid.alarms.states import UNDECIDED, AlarmKind, AlarmStatus, parse_reason
from firegrid.core import uploads
from firegrid.core.clock import ensure_aware
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode

CALL_OUTCOMES = ("fire", "false_alarm", "no_answer")
TASK_RESULTS = ("fire", "false_alarm", "fault")
MAX_PHOTO_BYTES = uploads.MAX_PHOTO_BYTES


def actor_of(principal: Principal) -> str:
    return f"{principal.subject} ({principal.username})"


def scoped_alarms(principal: Principal) -> Select[Alarm]:
    query = select(Alarm).where(principal.scope_filter(Alarm.jurisdiction_path))
    if principal.role == "venue_manager":
        query = query.where(Alarm.venue_id.in_(sorted(principal.venue_ids)))
    return query


def get_alarm(session: Session, principal: Principal, alarm_id: int) -> Alarm:
    """The alarm if the caller may see it; otherwise not found (its existence does not leak)."""
    alarm = session.scalars(scoped_alarms(principal).where(Alarm.id == alarm_id)).first()
    if alarm is None:
        raise NotFound(
            f"alarm {alarm_id} not found",
            {"id": alarm_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "alarm", "id": alarm_id},
        )
    return alarm


def verification_dict(row: AlarmVerification) -> dict[str, Any]:
    return {
        "id": row.id,
        "alarm_id": row.alarm_id,
        "method": row.method,
        "outcome": row.outcome,
        "reason": row.reason or None,
        "note": row.note,
        "actor": row.actor,
        "at": iso(row.at),
        "decisive": row.decisive,
        "task_id": row.task_id,
    }


def task_dict(task: VerificationTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "alarm_id": task.alarm_id,
        "venue_id": task.venue_id,
        "grid_worker_id": task.grid_worker_id,
        "jurisdiction_path": task.jurisdiction_path,
        "status": task.status,
        "created_at": iso(task.created_at),
        "created_by": task.created_by,
        "due_at": iso(task.due_at),
        "result": task.result or None,
        "reason": task.reason or None,
        "note": task.note,
        "photo": task.photo_path or None,
        "submitted_at": iso(task.submitted_at),
        "submitted_by": task.submitted_by,
    }


# Operator actions --------------------------------------------------------------------------


def acknowledge(session: Session, principal: Principal, alarm: Alarm, now: datetime) -> Alarm:
    transition(
        session,
        alarm,
        AlarmStatus.ACKNOWLEDGED,
        actor=actor_of(principal),
        cause="acknowledged by the operator",
        now=now,
    )
    return alarm


def start_verification(
    session: Session, principal: Principal, alarm: Alarm, now: datetime, note: str = ""
) -> Alarm:
    transition(
        session,
        alarm,
        AlarmStatus.VERIFYING,
        actor=actor_of(principal),
        cause="verification started" + (f": {note}" if note else ""),
        now=now,
    )
    return alarm


def _ensure_verifying(
    session: Session, principal: Principal, alarm: Alarm, now: datetime, why: str
) -> None:
    if alarm.status in (AlarmStatus.NEW, AlarmStatus.ACKNOWLEDGED):
        transition(
            session, alarm, AlarmStatus.VERIFYING, actor=actor_of(principal), cause=why, now=now
        )


def record_call(
    session: Session,
    principal: Principal,
    alarm: Alarm,
    *,
    outcome: str,
    reason: str,
    note: str,
    now: datetime,
    policy: Policy,
) -> AlarmVerification:
    """The outcome of a call to the venue contact (``no_answer`` decides nothing)."""
    if outcome not in CALL_OUTCOMES:
        raise ValidationFailed(
            f"call outcome must be one of {', '.join(CALL_OUTCOMES)}",
            {"outcome": outcome},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "outcome", "value": outcome, "allowed": CALL_OUTCOMES},
        )
    if outcome == "false_alarm":
        reason = parse_reason(reason or "unknown").value
    _ensure_verifying(session, principal, alarm, now, "calling the venue contact")
    return decide(
        session,
        alarm,
        outcome,
        method="call",
        actor=actor_of(principal),
        now=now,
        policy=policy,
        reason=reason,
        note=note,
    )


def operator_decision(
    session: Session,
    principal: Principal,
    alarm: Alarm,
    *,
    outcome: str,
    reason: str = "",
    note: str = "",
    forward: bool = True,
    now: datetime,
    policy: Policy,
) -> AlarmVerification:
    """Confirm (``fire``), declare ``false_alarm`` with a reason, or ``fault``."""
    if outcome == "false_alarm":
        reason = parse_reason(reason or "unknown").value
    if outcome not in ("fire", "false_alarm", "fault"):
        raise ValidationFailed(
            "outcome must be fire, false_alarm or fault",
            {"outcome": outcome},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "outcome", "value": outcome, "allowed": "fire, false_alarm, fault"},
        )
    if alarm.status == AlarmStatus.CLOSED:
        raise Conflict(
            f"alarm {alarm.id} is closed",
            {"alarm_id": alarm.id},
            text=TextCode.ALARM_CLOSED,
            params={"alarm_id": alarm.id},
        )
    return decide(
        session,
        alarm,
        outcome,
        method="operator",
        actor=actor_of(principal),
        now=now,
        policy=policy,
        reason=reason,
        note=note,
        forward=forward,
    )


def forward(
    session: Session, principal: Principal, alarm: Alarm, *, now: datetime, policy: Policy
) -> Alarm:
    if alarm.forwarded_at is not None:
        raise Conflict(
            f"alarm {alarm.id} was already forwarded at {alarm.forwarded_at.isoformat()}",
            {"alarm_id": alarm.id},
            text=TextCode.ALARM_ALREADY_FORWARDED,
            params={"alarm_id": alarm.id, "at": alarm.forwarded_at.isoformat()},
        )
    forward_alarm(session, alarm, policy=policy, now=now, probable=False, actor=actor_of(principal))
    return alarm


def close(
    session: Session, principal: Principal, alarm: Alarm, *, note: str, now: datetime
) -> Alarm:
    transition(
        session,
        alarm,
        AlarmStatus.CLOSED,
        actor=actor_of(principal),
        cause="closed" + (f": {note}" if note else ""),
        now=now,
    )
    for task in session.scalars(
        select(VerificationTask).where(
            VerificationTask.alarm_id == alarm.id, VerificationTask.status == "open"
        )
    ).all():
        task.status = "cancelled"
    return alarm


# Grid-worker tasks -------------------------------------------------------------------------


def create_task(
    session: Session,
    principal: Principal,
    alarm: Alarm,
    *,
    note: str,
    now: datetime,
    policy: Policy,
) -> VerificationTask:
    """Ask the grid worker of the venue's grid to check on site."""
    if alarm.status == AlarmStatus.CLOSED:
        raise Conflict(
            f"alarm {alarm.id} is closed",
            {"alarm_id": alarm.id},
            text=TextCode.ALARM_CLOSED,
            params={"alarm_id": alarm.id},
        )
    grid_worker_id = None
    if alarm.venue_id is not None:
        from firegrid.places.public import Venue

        venue = session.get(Venue, alarm.venue_id)
        if venue is not None:
            worker = grid_worker_for(session, venue.jurisdiction_id)
            grid_worker_id = worker.id if worker else None
    _ensure_verifying(session, principal, alarm, now, "on-site check asked of the grid worker")
    task = VerificationTask(
        alarm_id=alarm.id,
        venue_id=alarm.venue_id,
        grid_worker_id=grid_worker_id,
        jurisdiction_path=alarm.jurisdiction_path,
        status="open",
        created_at=now,
        created_by=actor_of(principal)[:80],
        due_at=now + timedelta(seconds=policy.task_due_s),
        note=note,
    )
    session.add(task)
    session.flush()
    holds = policy.task_pauses_auto_forward and alarm.kind == AlarmKind.FIRE
    if holds and alarm.status in UNDECIDED:
        cancel_timers(session, alarm.id, (AUTO_FORWARD,), now, f"held by on-site task {task.id}")
    schedule(
        session,
        TASK_OVERDUE,
        task.due_at,
        now,
        alarm_id=alarm.id,
        task_id=task.id,
        task_due_s=policy.task_due_s,
        holds_auto_forward=holds,
    )
    feed.append(session, "task.new", task.jurisdiction_path, task_dict(task), now, alarm.id)
    return task


def scoped_tasks(principal: Principal) -> Select[VerificationTask]:
    return select(VerificationTask).where(
        principal.scope_filter(VerificationTask.jurisdiction_path)
    )


def list_tasks(
    session: Session, principal: Principal, *, status: str | None, limit: int = 100
) -> list[VerificationTask]:
    query = scoped_tasks(principal)
    if status:
        query = query.where(VerificationTask.status == status)
    return list(session.scalars(query.order_by(VerificationTask.id.desc()).limit(limit)).all())


def get_task(session: Session, principal: Principal, task_id: int) -> VerificationTask:
    task = session.scalars(scoped_tasks(principal).where(VerificationTask.id == task_id)).first()
    if task is None:
        raise NotFound(
            f"task {task_id} not found",
            {"id": task_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "task", "id": task_id},
        )
    return task


def store_photo(data_dir: Path, prefix: str, content_type: str, content: bytes) -> str:
    """Save an on-site check photo under ``data_dir/alarms/photos``; its relative path."""
    return uploads.store_photo(data_dir, "alarms", prefix, content_type, content)


def submit_task(
    session: Session,
    principal: Principal,
    task: VerificationTask,
    *,
    result: str,
    reason: str,
    note: str,
    photo_path: str,
    now: datetime,
    policy: Policy,
) -> tuple[VerificationTask, AlarmVerification]:
    """The grid worker's on-site result; the first decisive verification wins."""
    if result not in TASK_RESULTS:
        raise ValidationFailed(
            f"result must be one of {', '.join(TASK_RESULTS)}",
            {"result": result},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "result", "value": result, "allowed": TASK_RESULTS},
        )
    if task.status != "open":
        raise Conflict(
            f"task {task.id} is {task.status}",
            {"id": task.id},
            text=TextCode.TASK_NOT_OPEN,
            params={"task_id": task.id, "status": task.status},
        )
    if result == "false_alarm":
        reason = parse_reason(reason or "unknown").value
    task.status = "done"
    task.result = result
    task.reason = reason
    task.note = note or task.note
    task.photo_path = photo_path
    task.submitted_at = now
    task.submitted_by = actor_of(principal)[:80]
    alarm = session.get(Alarm, task.alarm_id)
    assert alarm is not None
    verification = decide(
        session,
        alarm,
        result,
        method="onsite",
        actor=actor_of(principal),
        now=now,
        policy=policy,
        reason=reason,
        note=note,
        task_id=task.id,
    )
    feed.append(session, "task.done", task.jurisdiction_path, task_dict(task), now, alarm.id)
    return task, verification


def task_response_times(
    session: Session, principal: Principal, start: datetime, end: datetime
) -> list[tuple[int | None, str, float, bool]]:
    """On-site check tasks created in [start, end) and submitted: (grid worker id, path,
    seconds from the task's creation to its submission, submitted after its due time)."""
    rows = session.execute(
        select(
            VerificationTask.grid_worker_id,
            VerificationTask.jurisdiction_path,
            VerificationTask.created_at,
            VerificationTask.submitted_at,
            VerificationTask.due_at,
        ).where(
            principal.scope_filter(VerificationTask.jurisdiction_path),
            VerificationTask.created_at >= start,
            VerificationTask.created_at < end,
            VerificationTask.submitted_at.is_not(None),
        )
    ).all()
    result: list[tuple[int | None, str, float, bool]] = []
    for worker, path, created, done, due in rows:
        if done is None:
            continue
        response_s = (ensure_aware(done) - ensure_aware(created)).total_seconds()
        result.append((worker, str(path), response_s, ensure_aware(done) > ensure_aware(due)))
    return result
