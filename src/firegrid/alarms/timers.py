"""Timers that survive restarts: escalation, auto-forward and work-order reminders.

Timers are rows of ``alarm_timers`` with a ``due_at``. :func:`fire_due_timers` picks due
ones and fires each in its own transaction after claiming it with a compare-and-set
(``UPDATE … SET fired_at = now WHERE id = ? AND fired_at IS NULL``): on PostgreSQL the
second process blocks on the row lock and then finds it fired; on SQLite writers are
serialised. The action and the claim commit together, so a process killed mid-way leaves
the timer pending and the next run fires it. Time comes from an injectable clock.

- ``ack_escalation``: nobody acknowledged within ``acknowledge_timeout_s``; notify the next
  level (village → town → city), record it, schedule the next step.
- ``auto_forward``: a fire alarm not verified within its category's ``verify_timeout_s`` is
  confirmed by the timer and forwarded to the 119 command centre as a probable fire.
- ``reminder``: an open work order reached its due time (and every interval after).
- ``task_overdue``: a grid worker's on-site check was not reported by its due time; the
  alarm escalates one level (recorded as a non-decisive ``no_answer`` verification by the
  system, a notification and a feed entry) and, when the policy lets the task hold the
  auto-forward, is forwarded as a probable fire.

Timers that fell due while no timer loop ran (an outage) fire in due order when it comes
back, and the next escalation step counts from the due time of the previous one, so every
level that fell due during the outage is caught up in the same pass, each recorded with
its due time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from firegrid.alarms import feed
from firegrid.alarms.lifecycle import (
    ACK_ESCALATION,
    AUTO_FORWARD,
    REMINDER,
    TASK_OVERDUE,
    Clock,
    decide,
    emit,
    schedule,
)
from firegrid.alarms.models import (
    Alarm,
    AlarmNotification,
    AlarmTimer,
    VerificationTask,
    WorkOrder,
)
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import level_path
from firegrid.alarms.states import UNDECIDED, AlarmKind, AlarmStatus
from firegrid.alarms.verification import task_dict
from firegrid.alarms.workorders import work_order_dict
from firegrid.core.db import Database

log = logging.getLogger(__name__)


def due_timers(session: Session, now: datetime, limit: int) -> list[tuple[int, int | None]]:
    """(id, alarm id) of pending timers due by ``now``, in due order.

    A timer another worker is firing right now is listed too (a plain read; it used to be
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL): the caller's claim of it then waits for that
    worker and fails, which holds the alarm's later timers for a round (see
    :func:`fire_due_timers`). Skipped, it was invisible: a second worker went straight to the
    alarm's auto-forward while the first was still catching up its escalations, and the
    escalations then found a decided alarm.
    """
    query = (
        select(AlarmTimer.id, AlarmTimer.alarm_id)
        .where(AlarmTimer.fired_at.is_(None), AlarmTimer.due_at <= now)
        .order_by(AlarmTimer.due_at, AlarmTimer.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def due_timer_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return [timer_id for timer_id, _ in due_timers(session, now, limit)]


def claim(session: Session, timer_id: int, now: datetime, worker: str) -> AlarmTimer | None:
    """Compare-and-set the timer as fired by ``worker``; ``None`` if another got it."""
    result = session.execute(
        update(AlarmTimer)
        .where(AlarmTimer.id == timer_id, AlarmTimer.fired_at.is_(None))
        .values(fired_at=now, fired_by=worker[:80])
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return session.get(AlarmTimer, timer_id, populate_existing=True)


def fire_timer(session: Session, timer: AlarmTimer, policy: Policy, now: datetime) -> str:
    """Do what a claimed timer asks; returns its outcome (recorded on the timer)."""
    if timer.kind == REMINDER:
        return _remind(session, timer, policy, now)
    alarm = session.get(Alarm, timer.alarm_id) if timer.alarm_id is not None else None
    if alarm is None:
        return "alarm gone"
    if timer.kind == ACK_ESCALATION:
        return _escalate(session, timer, alarm, policy, now)
    if timer.kind == TASK_OVERDUE:
        return _task_overdue(session, timer, alarm, policy, now)
    if timer.kind == AUTO_FORWARD:
        if alarm.status not in UNDECIDED or alarm.kind != AlarmKind.FIRE:
            return f"nothing to do: alarm is {alarm.status}"
        timeout = timer.payload.get("timeout_s", "?")
        decide(
            session,
            alarm,
            "fire",
            method="timer",
            actor="timer:auto_forward",
            now=now,
            policy=policy,
            probable=True,
            note=f"not verified within {timeout} s: forwarded as a probable fire",
        )
        return "forwarded as probable fire"
    return f"unknown timer kind {timer.kind}"


def _escalate(
    session: Session, timer: AlarmTimer, alarm: Alarm, policy: Policy, now: datetime
) -> str:
    if alarm.status != AlarmStatus.NEW:
        return f"nothing to do: alarm is {alarm.status}"
    levels = policy.escalation_levels
    step = int(timer.payload.get("level", 0)) + 1
    if step >= len(levels):
        return "already at the top level"
    level = levels[step]
    _notify_level(
        session,
        alarm,
        levels[step - 1],
        level,
        now,
        kind="escalation",
        due_at=timer.due_at,
        reason_code="not_acknowledged",
        reason=f"not acknowledged within {policy.acknowledge_timeout_s:g} s",
        timeout_s=policy.acknowledge_timeout_s,
    )
    if step + 1 < len(levels):
        # From the due time, not from now: after an outage the next level may be due too.
        schedule(
            session,
            ACK_ESCALATION,
            timer.due_at + timedelta(seconds=policy.acknowledge_timeout_s),
            now,
            alarm_id=alarm.id,
            level=step,
        )
    return f"escalated to {level}"


def _notify_level(
    session: Session,
    alarm: Alarm,
    previous: str,
    level: str,
    now: datetime,
    *,
    kind: str,
    due_at: datetime,
    reason_code: str,
    reason: str,
    **params: object,
) -> None:
    """Move the alarm to ``level``, notify that level and announce it (with the due time)."""
    alarm.escalation_level = level
    alarm.updated_at = now
    session.add(
        AlarmNotification(
            alarm_id=alarm.id,
            kind=kind,
            level=level,
            target_path=level_path(alarm.jurisdiction_path, level),
            at=now,
            payload={
                "alarm_id": alarm.id,
                "from": previous,
                "to": level,
                "due_at": due_at.isoformat(),
                "reason_code": reason_code,
                "reason": reason,
                "params": params,
                "actor": "system",
                "venue": alarm.venue_name,
            },
        )
    )
    emit(
        session,
        alarm,
        "alarm.escalated",
        now,
        level=level,
        due_at=due_at.isoformat(),
        reason_code=reason_code,
    )


def _task_overdue(
    session: Session, timer: AlarmTimer, alarm: Alarm, policy: Policy, now: datetime
) -> str:
    task_id = timer.payload.get("task_id")
    task = session.get(VerificationTask, task_id) if task_id is not None else None
    if task is None or task.status != "open":
        return "nothing to do: task " + ("gone" if task is None else task.status)
    if alarm.status not in UNDECIDED:
        return f"nothing to do: alarm is {alarm.status}"
    due_s = timer.payload.get("task_due_s", policy.task_due_s)
    cause = f"on-site check {task.id} not reported within {float(due_s):g} s"
    decide(
        session,
        alarm,
        "no_answer",
        method="onsite",
        actor="system:task_overdue",
        now=now,
        policy=policy,
        note=cause,
        task_id=task.id,
    )
    feed.append(
        session,
        "task.overdue",
        task.jurisdiction_path,
        {**task_dict(task), "overdue_since": timer.due_at.isoformat()},
        now,
        alarm.id,
    )
    outcome = "task overdue"
    levels = list(policy.escalation_levels)
    current = alarm.escalation_level if alarm.escalation_level in levels else levels[0]
    step = levels.index(current) + 1
    if step < len(levels):
        _notify_level(
            session,
            alarm,
            current,
            levels[step],
            now,
            kind="task_overdue",
            due_at=timer.due_at,
            reason_code="task_overdue",
            reason=cause,
            task_id=task.id,
            task_due_s=due_s,
        )
        outcome = f"task overdue: escalated to {levels[step]}"
    if timer.payload.get("holds_auto_forward") and alarm.kind == AlarmKind.FIRE:
        decide(
            session,
            alarm,
            "fire",
            method="timer",
            actor="timer:task_overdue",
            now=now,
            policy=policy,
            probable=True,
            note=cause + ": forwarded as a probable fire",
        )
        outcome += "; forwarded as probable fire"
    return outcome


def _remind(session: Session, timer: AlarmTimer, policy: Policy, now: datetime) -> str:
    order = session.get(WorkOrder, timer.work_order_id) if timer.work_order_id else None
    if order is None or order.status != "open":
        return "nothing to do: work order closed"
    order.reminders_sent += 1
    session.add(
        AlarmNotification(
            alarm_id=order.alarm_id,
            work_order_id=order.id,
            kind="reminder",
            level=order.assignee_kind,
            target_path=order.jurisdiction_path,
            at=now,
            payload={
                "work_order_id": order.id,
                "title": order.title,
                "due_at": order.due_at.isoformat(),
                "assignee": order.assignee_name,
            },
        )
    )
    feed.append(
        session, "workorder.overdue", order.jurisdiction_path, work_order_dict(order, now), now
    )
    schedule(
        session,
        REMINDER,
        now + timedelta(seconds=policy.reminder_interval_s),
        now,
        work_order_id=order.id,
    )
    return f"reminder {order.reminders_sent} sent"


def fire_due_timers(
    db: Database,
    policy: Policy,
    clock: Clock,
    *,
    worker: str = "timers",
    limit: int = 200,
    max_rounds: int = 50,
) -> list[tuple[int, str]]:
    """Fire every due timer in due order; returns (timer id, outcome) of those this call
    fired.

    An escalation whose next step is already due (the loop was down) holds the alarm's
    other due timers until a next round, which fires that step first: an alarm whose
    town and city escalations fell due during an outage gets both, in order, before its
    auto-forward (at most ``max_rounds`` rounds a call; the next call goes on). A timer
    another worker claimed first holds the alarm's other timers likewise, for one round.
    """
    now = clock()
    follow_up_s = timedelta(seconds=policy.acknowledge_timeout_s)
    fired: list[tuple[int, str]] = []
    failed: set[int] = set()
    for _ in range(max_rounds):
        with db.session() as session:
            due = [(i, a) for i, a in due_timers(session, now, limit) if i not in failed]
        held: set[int] = set()
        for timer_id, alarm_id in due:
            if alarm_id is not None and alarm_id in held:
                continue
            try:
                with db.session() as session:
                    timer = claim(session, timer_id, now, worker)
                    if timer is None:
                        # another worker fired it, maybe an escalation it is catching up:
                        # this round leaves the alarm's later timers (its auto-forward) to
                        # the next, so they still fire after the escalations in due order
                        if alarm_id is not None:
                            held.add(alarm_id)
                        continue
                    outcome = fire_timer(session, timer, policy, now)
                    timer.outcome = outcome[:120]
                    caught_up = (
                        timer.kind == ACK_ESCALATION
                        and outcome.startswith("escalated")
                        and timer.due_at + follow_up_s <= now
                    )
                fired.append((timer_id, outcome))
                if caught_up and alarm_id is not None:
                    held.add(alarm_id)
            except Exception:  # one broken timer must not stop the others
                failed.add(timer_id)
                log.exception("alarm timer %s failed; it stays pending", timer_id)
        if not held and len(due) < limit:
            break
    if fired:
        feed.notify()
    return fired
