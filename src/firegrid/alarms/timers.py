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
    Clock,
    decide,
    emit,
    schedule,
)
from firegrid.alarms.models import Alarm, AlarmNotification, AlarmTimer, WorkOrder
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import level_path
from firegrid.alarms.states import UNDECIDED, AlarmKind, AlarmStatus
from firegrid.alarms.workorders import work_order_dict
from firegrid.core.db import Database

log = logging.getLogger(__name__)


def due_timer_ids(session: Session, now: datetime, limit: int) -> list[int]:
    query = (
        select(AlarmTimer.id)
        .where(AlarmTimer.fired_at.is_(None), AlarmTimer.due_at <= now)
        .order_by(AlarmTimer.due_at, AlarmTimer.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query).all())


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
    alarm.escalation_level = level
    alarm.updated_at = now
    session.add(
        AlarmNotification(
            alarm_id=alarm.id,
            kind="escalation",
            level=level,
            target_path=level_path(alarm.jurisdiction_path, level),
            at=now,
            payload={
                "alarm_id": alarm.id,
                "from": levels[step - 1],
                "to": level,
                "reason": f"not acknowledged within {policy.acknowledge_timeout_s:g} s",
                "venue": alarm.venue_name,
            },
        )
    )
    emit(session, alarm, "alarm.escalated", now, level=level)
    if step + 1 < len(levels):
        schedule(
            session,
            ACK_ESCALATION,
            now + timedelta(seconds=policy.acknowledge_timeout_s),
            now,
            alarm_id=alarm.id,
            level=step,
        )
    return f"escalated to {level}"


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
    db: Database, policy: Policy, clock: Clock, *, worker: str = "timers", limit: int = 200
) -> list[tuple[int, str]]:
    """Fire every due timer once; returns (timer id, outcome) of those this call fired."""
    now = clock()
    with db.session() as session:
        ids = due_timer_ids(session, now, limit)
    fired: list[tuple[int, str]] = []
    for timer_id in ids:
        try:
            with db.session() as session:
                timer = claim(session, timer_id, now, worker)
                if timer is None:
                    continue
                outcome = fire_timer(session, timer, policy, now)
                timer.outcome = outcome[:120]
            fired.append((timer_id, outcome))
        except Exception:  # one broken timer must not stop the others
            log.exception("alarm timer %s failed; it stays pending", timer_id)
    if fired:
        feed.notify()
    return fired
