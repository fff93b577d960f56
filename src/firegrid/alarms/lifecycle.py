"""Changing an alarm: transitions, decisions (first one wins), timers and feed entries.

Everything here runs inside the caller's transaction. A transition is a compare-and-set on
the alarm's status, so two operators (or an operator and a timer) deciding at once cannot
both win: the loser's verification is recorded but does not change the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from firegrid.alarms import bulk, feed
from firegrid.alarms.forwarding import create_forward
from firegrid.alarms.models import Alarm, AlarmTimer, AlarmTransition, AlarmVerification
from firegrid.alarms.rules import Policy
from firegrid.alarms.states import (
    UNDECIDED,
    AlarmKind,
    AlarmStatus,
    FalseReason,
    check_transition,
)
from firegrid.core.errors import Conflict
from firegrid.core.texts import TextCode

Clock = Callable[[], datetime]

ACK_ESCALATION = "ack_escalation"
AUTO_FORWARD = "auto_forward"
REMINDER = "reminder"
TASK_OVERDUE = "task_overdue"
TIMER_TABLE: Table = AlarmTimer.__table__  # type: ignore[assignment]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alarm_dict(alarm: Alarm) -> dict[str, Any]:
    """The JSON shape of an alarm in lists, the feed and the CLI."""
    return {
        "alarm_id": alarm.id,
        "kind": alarm.kind,
        "status": alarm.status,
        "priority": alarm.priority,
        "venue_id": alarm.venue_id,
        "venue_name": alarm.venue_name,
        "venue_category": alarm.venue_category,
        "device_id": alarm.device_id,
        "device_kind": alarm.device_kind,
        "external_id": alarm.external_id,
        "jurisdiction_path": alarm.jurisdiction_path,
        "lon": alarm.lon,
        "lat": alarm.lat,
        "opened_at": iso(alarm.opened_at),
        "first_received_at": iso(alarm.first_received_at),
        "last_event_at": iso(alarm.last_event_at),
        "event_count": alarm.event_count,
        "component_count": alarm.component_count,
        "acknowledged_at": iso(alarm.acknowledged_at),
        "decided_at": iso(alarm.decided_at),
        "decided_by": alarm.decided_by,
        "false_reason": alarm.false_reason or None,
        "forwarded": alarm.forwarded_at is not None,
        "forwarded_at": iso(alarm.forwarded_at),
        "forward_probable": alarm.forward_probable,
        "closed_at": iso(alarm.closed_at),
        "cleared_at": iso(alarm.cleared_at),
        "escalation_level": alarm.escalation_level,
        "suppressed": alarm.suppressed,
        "rule_hits": list(alarm.rule_hits or []),
    }


def emit(session: Session, alarm: Alarm, type_: str, now: datetime, **extra: Any) -> None:
    """A feed entry with the alarm's current shape (``alarm`` must have an id)."""
    feed.append(
        session, type_, alarm.jurisdiction_path, {**alarm_dict(alarm), **extra}, now, alarm.id
    )


def transition(
    session: Session,
    alarm: Alarm,
    target: AlarmStatus,
    *,
    actor: str,
    cause: str,
    now: datetime,
    reason: str = "",
) -> None:
    """Move ``alarm`` to ``target`` (compare-and-set) and record the transition.

    Illegal transitions and lost races raise :class:`Conflict` with a clear message.
    """
    current = check_transition(alarm.id, alarm.status, target)
    result = session.execute(
        update(Alarm)
        .where(Alarm.id == alarm.id, Alarm.status == current.value)
        .values(status=target.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        session.refresh(alarm)
        raise Conflict(
            f"alarm {alarm.id} changed meanwhile: it is now {alarm.status}",
            {"alarm_id": alarm.id, "status": alarm.status, "wanted": target.value},
            text=TextCode.ALARM_CHANGED_MEANWHILE,
            params={"alarm_id": alarm.id, "status": alarm.status},
        )
    session.add(
        AlarmTransition(
            alarm_id=alarm.id,
            from_status=current.value,
            to_status=target.value,
            at=now,
            actor=actor[:80],
            cause=cause[:300],
            reason=reason,
        )
    )
    # Keep the in-memory object in step without a second UPDATE of the status.
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(alarm, "status", target.value)
    if target is AlarmStatus.ACKNOWLEDGED:
        alarm.acknowledged_at = now
    elif target is AlarmStatus.VERIFYING:
        alarm.verifying_at = now
        if alarm.acknowledged_at is None:
            alarm.acknowledged_at = now
    elif target is AlarmStatus.CLOSED:
        alarm.closed_at = now
    if target in (AlarmStatus.CONFIRMED, AlarmStatus.FALSE_ALARM, AlarmStatus.FAULT):
        alarm.decided_at = now
        alarm.decided_by = actor[:80]
        cancel_timers(session, alarm.id, (ACK_ESCALATION, AUTO_FORWARD), now, f"{target}")
    elif target is AlarmStatus.ACKNOWLEDGED:
        cancel_timers(session, alarm.id, (ACK_ESCALATION,), now, "acknowledged")
    alarm.updated_at = now
    emit(session, alarm, "alarm.status", now, cause=cause, actor=actor, previous=current.value)


def schedule(
    session: Session,
    kind: str,
    due_at: datetime,
    now: datetime,
    *,
    alarm_id: int | None = None,
    work_order_id: int | None = None,
    **payload: Any,
) -> None:
    """A timer in the caller's transaction (queued for one bulk insert inside
    :func:`firegrid.alarms.bulk.collect`)."""
    row = {
        "kind": kind,
        "alarm_id": alarm_id,
        "work_order_id": work_order_id,
        "due_at": due_at,
        "created_at": now,
        "payload": payload,
    }
    if not bulk.queue(session, TIMER_TABLE, row):
        session.add(AlarmTimer(**row))


def cancel_timers(
    session: Session, alarm_id: int, kinds: Iterable[str], now: datetime, why: str
) -> None:
    bulk.flush(session, TIMER_TABLE)  # timers queued in this transaction are cancelled too
    session.execute(
        update(AlarmTimer)
        .where(
            AlarmTimer.alarm_id == alarm_id,
            AlarmTimer.kind.in_(list(kinds)),
            AlarmTimer.fired_at.is_(None),
        )
        .values(fired_at=now, fired_by="cancelled", outcome=f"cancelled: {why}"[:120])
        .execution_options(synchronize_session=False)
    )


def schedule_alarm_timers(
    session: Session, alarm: Alarm, policy: Policy, now: datetime, tags: Iterable[str] = ()
) -> None:
    """Escalation (fire and supervisory) and auto-forward (fire) timers of a new alarm.

    Due times count from the arrival of the alarm's first event, so a correlator that lags
    (or restarts) still escalates and forwards on time.
    """
    base = alarm.first_received_at
    if alarm.kind in (AlarmKind.FIRE, AlarmKind.SUPERVISORY) and len(policy.escalation_levels):
        schedule(
            session,
            ACK_ESCALATION,
            base + timedelta(seconds=policy.acknowledge_timeout_s),
            now,
            alarm_id=alarm.id,
            level=0,
        )
    if alarm.kind == AlarmKind.FIRE:
        timeout = policy.verify_timeout_for(alarm.venue_category, tags)
        schedule(
            session,
            AUTO_FORWARD,
            base + timedelta(seconds=timeout),
            now,
            alarm_id=alarm.id,
            timeout_s=timeout,
        )


OUTCOME_STATUS = {
    "fire": AlarmStatus.CONFIRMED,
    "false_alarm": AlarmStatus.FALSE_ALARM,
    "fault": AlarmStatus.FAULT,
}


def decide(
    session: Session,
    alarm: Alarm,
    outcome: str,
    *,
    method: str,
    actor: str,
    now: datetime,
    policy: Policy,
    reason: str = "",
    note: str = "",
    task_id: int | None = None,
    forward: bool = True,
    probable: bool = False,
) -> AlarmVerification:
    """Record a verification; the first decisive one decides the alarm.

    ``outcome`` is ``fire``, ``false_alarm``, ``fault`` or ``no_answer`` (never decisive).
    A later confirmation is recorded with ``decisive=False`` and changes nothing.
    """
    if outcome == "false_alarm":
        reason = FalseReason(reason or "unknown").value
    verification = AlarmVerification(
        alarm_id=alarm.id,
        method=method,
        outcome=outcome,
        reason=reason,
        note=note,
        actor=actor[:80],
        at=now,
        decisive=False,
        task_id=task_id,
    )
    session.add(verification)
    target = OUTCOME_STATUS.get(outcome)
    if target is None or alarm.status not in UNDECIDED:
        return verification
    cause = f"{method} by {actor}: {outcome}" + (f" ({reason})" if reason else "")
    try:
        transition(
            session,
            alarm,
            target,
            actor=actor,
            cause=cause + (f": {note}" if note else ""),
            now=now,
            reason=reason,
        )
    except Conflict:
        return verification  # somebody decided first: recorded, not decisive
    verification.decisive = True
    if outcome == "false_alarm":
        alarm.false_reason = reason
    if target is AlarmStatus.CONFIRMED and forward:
        forward_alarm(session, alarm, policy=policy, now=now, probable=probable, actor=actor)
    return verification


def forward_alarm(
    session: Session, alarm: Alarm, *, policy: Policy, now: datetime, probable: bool, actor: str
) -> None:
    """Put a confirmed fire in the dispatch outbox (idempotent) and announce it."""
    if alarm.forwarded_at is not None:
        return
    if alarm.status != AlarmStatus.CONFIRMED:
        raise Conflict(
            f"alarm {alarm.id} is {alarm.status}: only a confirmed fire is forwarded",
            {"alarm_id": alarm.id, "status": alarm.status},
            text=TextCode.ALARM_NOT_CONFIRMED,
            params={"alarm_id": alarm.id, "status": alarm.status},
        )
    create_forward(
        session,
        alarm,
        incident_kind=policy.incident_kind_for(alarm.venue_category),
        probable=probable,
        now=now,
    )
    emit(session, alarm, "alarm.forwarded", now, actor=actor)
