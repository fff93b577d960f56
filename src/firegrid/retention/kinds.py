"""The record kinds the retention job handles: their table, age column, key and the rule
that keeps rows still in play (an open alarm keeps its events, history and device events;
an open incident its timeline; an event log row is kept until every consumer has read it).

Tables are reached through ``Base.metadata`` (Core), so a context that is not installed
simply has no table and its kind is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, true
from sqlalchemy.orm import Session

from firegrid.core.db import Base

#: statuses of alarms and incidents that are finished
CLOSED = "closed"


@dataclass(frozen=True)
class TableKind:
    """Rows of ``table`` older than the window (by ``age_column``) and not ``held``."""

    name: str
    table_name: str
    age_column: str
    key_column: str
    held: Callable[[Session, Table], ColumnElement[bool]]
    description: str

    def table(self) -> Table | None:
        import firegrid.schema  # noqa: F401 - every context's tables in the metadata

        return Base.metadata.tables.get(self.table_name)


def _table(name: str) -> Table | None:
    import firegrid.schema  # noqa: F401

    return Base.metadata.tables.get(name)


def _open_alarm_ids() -> Any:
    alarms = _table("alarms")
    assert alarms is not None
    return select(alarms.c.id).where(alarms.c.status != CLOSED)


def _alarm_closed(_session: Session, table: Table) -> ColumnElement[bool]:
    return and_(table.c.status == CLOSED, table.c.closed_at.is_not(None))


def _of_closed_alarm(_session: Session, table: Table) -> ColumnElement[bool]:
    return table.c.alarm_id.not_in(_open_alarm_ids())


def _event_released(session: Session, table: Table) -> ColumnElement[bool]:
    """Read by every consumer, and not of a device with an open alarm."""
    clauses: list[ColumnElement[bool]] = []
    consumers = _table("event_consumers")
    if consumers is not None:
        low = session.execute(
            select(func.min(consumers.c.offset)).where(consumers.c.backend == "database")
        ).scalar()
        if low is not None:
            clauses.append(table.c.id <= low)
    events = _table("alarm_events")
    if events is not None:
        held_devices = select(events.c.device_id).where(
            events.c.alarm_id.in_(_open_alarm_ids()), events.c.device_id.is_not(None)
        )
        clauses.append(or_(table.c.device_id.is_(None), table.c.device_id.not_in(held_devices)))
    return and_(true(), *clauses)


def _never_held(_session: Session, _table: Table) -> ColumnElement[bool]:
    return true()


def _of_closed_incident(_session: Session, table: Table) -> ColumnElement[bool]:
    incidents = _table("incidents")
    assert incidents is not None
    closed = select(incidents.c.id).where(incidents.c.status == CLOSED)
    clause: ColumnElement[bool] = table.c.incident_id.in_(closed)
    if table.c.incident_id.nullable:
        clause = or_(table.c.incident_id.is_(None), clause)
    return clause


TABLE_KINDS: dict[str, TableKind] = {
    k.name: k
    for k in (
        TableKind("alarms", "alarms", "closed_at", "id", _alarm_closed, "closed alarms"),
        TableKind(
            "alarm_events",
            "alarm_events",
            "last_at",
            "id",
            _of_closed_alarm,
            "history lines of alarms no longer open",
        ),
        TableKind(
            "alarm_transitions",
            "alarm_transitions",
            "at",
            "id",
            _of_closed_alarm,
            "state changes of alarms no longer open",
        ),
        TableKind(
            "device_events",
            "device_events",
            "received_at",
            "id",
            _event_released,
            "device events read by every consumer, of devices without an open alarm",
        ),
        TableKind(
            "incident_timeline",
            "incident_timeline",
            "at",
            "id",
            _of_closed_incident,
            "timelines of closed incidents",
        ),
        TableKind(
            "vehicle_status_log",
            "vehicle_status_log",
            "at",
            "id",
            _of_closed_incident,
            "unit status changes outside open incidents",
        ),
        TableKind(
            "submission_keys",
            "inspection_submission_keys",
            "created_at",
            "id",
            _never_held,
            "idempotency keys of the grid phones' submissions",
        ),
    )
}
UPLOADS = "uploads"
