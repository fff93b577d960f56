"""Reading alarms: lists and the full record of one alarm (history, transitions, work)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.cause_texts import cause_text
from firegrid.alarms.lifecycle import alarm_dict, iso
from firegrid.alarms.models import (
    Alarm,
    AlarmEvent,
    AlarmForward,
    AlarmTransition,
    AlarmVerification,
    VerificationTask,
    WorkOrder,
)
from firegrid.alarms.states import parse_status
from firegrid.alarms.verification import scoped_alarms, task_dict, verification_dict
from firegrid.alarms.workorders import work_order_dict


def list_alarms(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    kind: str | None = None,
    venue_id: int | None = None,
    open_only: bool = False,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Alarm]:
    """Alarms in scope, newest first (``after_id`` pages towards older ones)."""
    query = scoped_alarms(principal)
    if status:
        query = query.where(Alarm.status == parse_status(status).value)
    if open_only:
        query = query.where(Alarm.status != "closed")
    if kind:
        query = query.where(Alarm.kind == kind)
    if venue_id is not None:
        query = query.where(Alarm.venue_id == venue_id)
    if after_id is not None:
        query = query.where(Alarm.id < after_id)
    return list(session.scalars(query.order_by(Alarm.id.desc()).limit(limit)).all())


def event_line_dict(line: AlarmEvent) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "device_id": line.device_id,
        "device_kind": line.device_kind,
        "component": line.component,
        "zone": line.zone,
        "description": line.description,
        "count": line.count,
        "first_at": iso(line.first_at),
        "last_at": iso(line.last_at),
        "first_event_id": line.first_event_id,
        "last_event_id": line.last_event_id,
        "values": line.values,
    }


def alarm_detail(session: Session, alarm: Alarm) -> dict[str, Any]:
    events = session.scalars(
        select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id).order_by(AlarmEvent.id)
    ).all()
    transitions = session.scalars(
        select(AlarmTransition)
        .where(AlarmTransition.alarm_id == alarm.id)
        .order_by(AlarmTransition.id)
    ).all()
    verifications = session.scalars(
        select(AlarmVerification)
        .where(AlarmVerification.alarm_id == alarm.id)
        .order_by(AlarmVerification.id)
    ).all()
    tasks = session.scalars(
        select(VerificationTask)
        .where(VerificationTask.alarm_id == alarm.id)
        .order_by(VerificationTask.id)
    ).all()
    orders = session.scalars(
        select(WorkOrder).where(WorkOrder.alarm_id == alarm.id).order_by(WorkOrder.id)
    ).all()
    forward = session.scalars(select(AlarmForward).where(AlarmForward.alarm_id == alarm.id)).first()
    return {
        **alarm_dict(alarm),
        "events": [event_line_dict(line) for line in events],
        "transitions": [
            {
                "from": t.from_status,
                "to": t.to_status,
                "at": iso(t.at),
                "actor": t.actor,
                "cause": t.cause,
                **_cause_code(t.cause),
                "reason": t.reason or None,
            }
            for t in transitions
        ],
        "verifications": [verification_dict(v) for v in verifications],
        "tasks": [task_dict(t) for t in tasks],
        "work_orders": [work_order_dict(o) for o in orders],
        "forward": None
        if forward is None
        else {
            "id": forward.id,
            "forwarded_at": iso(forward.forwarded_at),
            "probable": forward.probable,
            "incident_kind": forward.incident_kind,
            "consumed_at": iso(forward.consumed_at),
            "incident_id": forward.incident_id,
        },
    }


def _cause_code(cause: str) -> dict[str, Any]:
    """``cause_code``/``cause_params`` of a transition's cause (``None``/``{}`` if free text)."""
    text = cause_text(cause)
    if text is None:
        return {"cause_code": None, "cause_params": {}}
    return {"cause_code": text.code.value, "cause_params": dict(text.params)}
