"""Work orders: faults, offline devices and low batteries become work with a due date.

A work order goes to the venue manager (a ``venue_manager`` user linked to the venue) or,
if the venue has none, to the grid worker of the venue's grid. A reminder timer fires at
the due time and then every ``reminder_interval_s`` until the order is closed with its
evidence (note and photo). Open orders past their due time are overdue and raise the
venue's three-colour status (:mod:`firegrid.alarms.colours`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms import feed
from firegrid.alarms.directory import Assignee, grid_worker_for, venue_manager_for
from firegrid.alarms.lifecycle import REMINDER, iso, schedule, transition
from firegrid.alarms.models import Alarm, WorkOrder
from firegrid.alarms.rules import Policy
from firegrid.alarms.states import UNDECIDED, AlarmStatus
from firegrid.core.errors import Conflict, NotFound
from firegrid.core.texts import TextCode


def work_order_dict(order: WorkOrder, now: datetime | None = None) -> dict[str, Any]:
    overdue = order.status == "open" and now is not None and order.due_at < now
    return {
        "id": order.id,
        "kind": order.kind,
        "status": order.status,
        "overdue": overdue,
        "title": order.title,
        "alarm_id": order.alarm_id,
        "venue_id": order.venue_id,
        "device_id": order.device_id,
        "jurisdiction_path": order.jurisdiction_path,
        "assignee_kind": order.assignee_kind,
        "assignee_id": order.assignee_id,
        "assignee_name": order.assignee_name,
        "opened_at": iso(order.opened_at),
        "due_at": iso(order.due_at),
        "reminders_sent": order.reminders_sent,
        "closed_at": iso(order.closed_at),
        "closed_by": order.closed_by,
        "closure_note": order.closure_note,
        "closure_photo": order.closure_photo,
    }


def new_order_row(
    alarm: Alarm, kind: str, assignee: Assignee, *, policy: Policy, now: datetime
) -> dict[str, Any]:
    """Column values of a new work order for a fault alarm (defaults for the rest)."""
    return {
        "kind": kind,
        "alarm_id": alarm.id,
        "venue_id": alarm.venue_id,
        "device_id": alarm.device_id,
        "jurisdiction_path": alarm.jurisdiction_path,
        "assignee_kind": assignee.kind,
        "assignee_id": assignee.id,
        "assignee_name": assignee.name,
        "title": f"{kind.replace('_', ' ')}: {alarm.device_kind or 'device'} "
        f"{alarm.external_id} at {alarm.venue_name or alarm.venue_id}"[:200],
        "opened_at": now,
        "due_at": now + timedelta(seconds=policy.work_order_due_for(kind)),
    }


def new_order(
    alarm: Alarm, kind: str, assignee: Assignee, *, policy: Policy, now: datetime
) -> WorkOrder:
    """A work order for a fault alarm (the caller adds it and schedules its reminder)."""
    return WorkOrder(**new_order_row(alarm, kind, assignee, policy=policy, now=now))


def open_for_alarm(
    session: Session,
    alarm: Alarm,
    kind: str,
    *,
    policy: Policy,
    now: datetime,
    jurisdiction_id: int | None,
) -> WorkOrder:
    """One work order for a fault alarm, assigned and with its reminder timer."""
    assignee_kind, assignee_id, assignee_name = "grid_worker", None, ""
    manager = venue_manager_for(session, alarm.venue_id) if alarm.venue_id else None
    if manager is not None:
        assignee_kind, assignee_id, assignee_name = "venue_manager", manager[0], manager[1]
    elif jurisdiction_id is not None:
        worker = grid_worker_for(session, jurisdiction_id)
        if worker is not None:
            assignee_id, assignee_name = worker.id, worker.name
    due = now + timedelta(seconds=policy.work_order_due_for(kind))
    order = WorkOrder(
        kind=kind,
        alarm_id=alarm.id,
        venue_id=alarm.venue_id,
        device_id=alarm.device_id,
        jurisdiction_path=alarm.jurisdiction_path,
        assignee_kind=assignee_kind,
        assignee_id=assignee_id,
        assignee_name=assignee_name,
        title=f"{kind.replace('_', ' ')}: {alarm.device_kind or 'device'} "
        f"{alarm.external_id} at {alarm.venue_name or alarm.venue_id}"[:200],
        opened_at=now,
        due_at=due,
    )
    session.add(order)
    session.flush()
    schedule(session, REMINDER, due, now, work_order_id=order.id)
    return order


def scoped_orders(principal: Principal) -> Select[WorkOrder]:
    query = select(WorkOrder).where(principal.scope_filter(WorkOrder.jurisdiction_path))
    if principal.role == "venue_manager":
        query = query.where(WorkOrder.venue_id.in_(sorted(principal.venue_ids)))
    return query


def list_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    overdue: bool | None,
    now: datetime,
    limit: int = 100,
    after_id: int | None = None,
) -> list[WorkOrder]:
    query = scoped_orders(principal)
    if status:
        query = query.where(WorkOrder.status == status)
    if overdue is True:
        query = query.where(WorkOrder.status == "open", WorkOrder.due_at < now)
    if after_id is not None:
        query = query.where(WorkOrder.id > after_id)
    return list(session.scalars(query.order_by(WorkOrder.id).limit(limit)).all())


def get_order(session: Session, principal: Principal, order_id: int) -> WorkOrder:
    order = session.scalars(scoped_orders(principal).where(WorkOrder.id == order_id)).first()
    if order is None:
        raise NotFound(
            f"work order {order_id} not found",
            {"id": order_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "work_order", "id": order_id},
        )
    return order


def close_order(
    session: Session,
    order: WorkOrder,
    *,
    actor: str,
    note: str,
    photo_path: str,
    now: datetime,
) -> WorkOrder:
    """Close with evidence; the fault alarm behind it is closed too."""
    if order.status != "open":
        raise Conflict(
            f"work order {order.id} is already {order.status}",
            {"id": order.id},
            text=TextCode.WORK_ORDER_NOT_OPEN,
            params={"order_id": order.id, "status": order.status},
        )
    if not note.strip() and not photo_path:
        from firegrid.core.errors import ValidationFailed

        raise ValidationFailed(
            "closing a work order needs evidence: a note or a photo",
            {"field": "note"},
            text=TextCode.WORK_ORDER_NEEDS_EVIDENCE,
            params={},
        )
    order.status = "done"
    order.closed_at = now
    order.closed_by = actor[:80]
    order.closure_note = note
    order.closure_photo = photo_path
    feed.append(
        session, "workorder.closed", order.jurisdiction_path, work_order_dict(order, now), now
    )
    if order.alarm_id is not None:
        alarm = session.get(Alarm, order.alarm_id)
        if alarm is not None and alarm.status != AlarmStatus.CLOSED:
            cause = f"work order {order.id} closed by {actor}"
            if alarm.status in UNDECIDED:
                transition(session, alarm, AlarmStatus.FAULT, actor=actor, cause=cause, now=now)
            transition(session, alarm, AlarmStatus.CLOSED, actor=actor, cause=cause, now=now)
    return order
