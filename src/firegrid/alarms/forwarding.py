"""Forwarding confirmed fires to the dispatch context through an outbox.

A confirmed fire writes one ``alarm_forwards`` row in the transaction that confirmed it,
and records an ``alarm.forwarded`` change (:mod:`firegrid.core.changes`) with it. The
dispatch context, a consumer of the change stream, takes :func:`pending_forwards`, creates
its incident and calls :func:`mark_forward_consumed`. Until then the alarm shows as
forwarded with its time. This contract is fixed (the dispatch context depends on it,
through :mod:`firegrid.alarms.public`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from firegrid.alarms.models import Alarm, AlarmForward
from firegrid.core.changes import record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound
from firegrid.core.texts import TextCode

#: the kind of change recorded with every new forward (key: the forward's id)
ALARM_FORWARDED = "alarm.forwarded"


@dataclass(frozen=True)
class ForwardRequest:
    """A confirmed fire waiting for the dispatch context to open an incident."""

    id: int
    alarm_id: int
    venue_id: int | None
    lon: float | None
    lat: float | None
    jurisdiction_path: str
    incident_kind: str
    venue_category: str
    probable: bool  # True: forwarded automatically, nobody verified it in time
    forwarded_at: datetime


def _request(row: AlarmForward) -> ForwardRequest:
    return ForwardRequest(
        id=row.id,
        alarm_id=row.alarm_id,
        venue_id=row.venue_id,
        lon=row.lon,
        lat=row.lat,
        jurisdiction_path=row.jurisdiction_path,
        incident_kind=row.incident_kind,
        venue_category=row.venue_category,
        probable=row.probable,
        forwarded_at=row.forwarded_at,
    )


def create_forward(
    session: Session, alarm: Alarm, *, incident_kind: str, probable: bool, now: datetime
) -> AlarmForward:
    """Put ``alarm`` in the outbox (once: a second call returns the existing row)."""
    existing = session.scalars(
        select(AlarmForward).where(AlarmForward.alarm_id == alarm.id)
    ).first()
    if existing is not None:
        return existing
    row = AlarmForward(
        alarm_id=alarm.id,
        venue_id=alarm.venue_id,
        lon=alarm.lon,
        lat=alarm.lat,
        jurisdiction_path=alarm.jurisdiction_path,
        incident_kind=incident_kind,
        venue_category=alarm.venue_category,
        probable=probable,
        forwarded_at=now,
    )
    session.add(row)
    alarm.forwarded_at = now
    alarm.forward_probable = probable
    session.flush()
    record_change(
        session,
        ALARM_FORWARDED,
        row.id,
        actor="system:alarms",
        cause=f"alarm {alarm.id} forwarded" + (" (probable fire)" if probable else ""),
        payload={"alarm_id": alarm.id, "incident_kind": incident_kind},
    )
    return row


def pending_forwards(session: Session, limit: int = 100) -> list[ForwardRequest]:
    """Forwarded fires not yet consumed by dispatch, oldest first."""
    rows = session.scalars(
        select(AlarmForward)
        .where(AlarmForward.consumed_at.is_(None))
        .order_by(AlarmForward.id)
        .limit(limit)
    ).all()
    return [_request(row) for row in rows]


def mark_forward_consumed(session: Session, forward_id: int, incident_id: int) -> None:
    """Record that dispatch opened ``incident_id`` for forward ``forward_id``.

    Idempotent for the same incident; a forward already consumed by another incident is a
    :class:`Conflict`.
    """
    row = session.get(AlarmForward, forward_id)
    if row is None:
        raise NotFound(
            f"alarm forward {forward_id} not found",
            {"forward_id": forward_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "alarm_forward", "id": forward_id},
        )
    if row.consumed_at is not None:
        if row.incident_id == incident_id:
            return
        raise Conflict(
            f"alarm forward {forward_id} was already consumed by incident {row.incident_id}",
            {"forward_id": forward_id, "incident_id": row.incident_id},
            text=TextCode.ALARM_FORWARD_CONSUMED,
            params={"forward_id": forward_id, "incident_id": row.incident_id},
        )
    result = session.execute(
        update(AlarmForward)
        .where(AlarmForward.id == forward_id, AlarmForward.consumed_at.is_(None))
        .values(consumed_at=utcnow(), incident_id=incident_id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise Conflict(
            f"alarm forward {forward_id} was consumed concurrently",
            text=TextCode.ALARM_FORWARD_CONSUMED,
            params={"forward_id": forward_id, "incident_id": None},
        )
    session.expire(row)
