"""The monitoring centre's list tools: bulk acknowledgement of faults and CSV export.

A fault storm (a panel losing its loop, a battery row) fills the list with faults the operator
has read; acknowledging them one by one hides the fire that arrives in between. Bulk
acknowledgement takes only fault alarms in state ``new``: each alarm gets its own result and
its own recorded transition (time, actor, cause), and one refusal (another operator was
faster, a fire id slipped in) never undoes the others.

The export writes the alarms the list shows (same filters, same scope) as CSV; text cells a
spreadsheet would run as a formula are quoted (:func:`firegrid.core.text.neutralise_formula`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.lifecycle import transition
from firegrid.alarms.models import Alarm
from firegrid.alarms.states import AlarmStatus, parse_status
from firegrid.alarms.verification import actor_of, scoped_alarms
from firegrid.core.errors import Conflict
from firegrid.core.text import neutralise_formula

BULK_CAUSE = "acknowledged in bulk by the operator"
MAX_BULK = 500


def acknowledge_faults(
    session: Session, principal: Principal, alarm_ids: Iterable[int], now: datetime
) -> list[dict[str, Any]]:
    """Acknowledge each fault alarm of ``alarm_ids``; one result per id, in the given order.

    Results: ``acknowledged``; ``not_found`` (unknown or outside the caller's jurisdiction —
    the two are not told apart); ``not_fault`` (fire and supervisory alarms are acknowledged
    one by one, after reading them); ``not_new`` (already acknowledged or decided; the
    current status is given).
    """
    ids = list(dict.fromkeys(alarm_ids))
    found = {
        a.id: a for a in session.scalars(scoped_alarms(principal).where(Alarm.id.in_(ids))).all()
    }
    actor = actor_of(principal)
    results: list[dict[str, Any]] = []
    for alarm_id in ids:
        alarm = found.get(alarm_id)
        if alarm is None:
            results.append({"alarm_id": alarm_id, "result": "not_found", "status": None})
            continue
        if alarm.kind != "fault":
            results.append({"alarm_id": alarm_id, "result": "not_fault", "status": alarm.status})
            continue
        if alarm.status != AlarmStatus.NEW.value:
            results.append({"alarm_id": alarm_id, "result": "not_new", "status": alarm.status})
            continue
        try:
            with session.begin_nested():
                transition(
                    session,
                    alarm,
                    AlarmStatus.ACKNOWLEDGED,
                    actor=actor,
                    cause=BULK_CAUSE,
                    now=now,
                )
        except Conflict:
            session.refresh(alarm)
            results.append({"alarm_id": alarm_id, "result": "not_new", "status": alarm.status})
            continue
        results.append({"alarm_id": alarm_id, "result": "acknowledged", "status": "acknowledged"})
    return results


EXPORT_COLUMNS = (
    "alarm_id",
    "kind",
    "status",
    "priority",
    "venue_id",
    "venue_name",
    "venue_category",
    "device_kind",
    "jurisdiction_path",
    "opened_at",
    "last_event_at",
    "event_count",
    "acknowledged_at",
    "decided_at",
    "decided_by",
    "false_reason",
    "forwarded",
    "closed_at",
)


def export_query(
    principal: Principal,
    *,
    kind: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    area: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[Alarm]:
    """The caller's alarms matching the list's filters, newest first.

    ``area``: a jurisdiction path prefix (a town or village inside the caller's scope);
    ``text``: part of the venue name; ``since``/``until``: the opening time.
    """
    query = scoped_alarms(principal)
    if kind:
        query = query.where(Alarm.kind == kind)
    if status:
        query = query.where(Alarm.status == parse_status(status).value)
    if open_only:
        query = query.where(Alarm.status != AlarmStatus.CLOSED.value)
    if area:
        query = query.where(Alarm.jurisdiction_path.startswith(area, autoescape=True))
    if text:
        query = query.where(Alarm.venue_name.contains(text, autoescape=True))
    if since is not None:
        query = query.where(Alarm.opened_at >= since)
    if until is not None:
        query = query.where(Alarm.opened_at < until)
    return query.order_by(Alarm.id.desc())


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


def csv_rows(alarms: Iterable[dict[str, Any]], chunk_chars: int = 64_000) -> Iterator[str]:
    """The CSV text of ``alarms`` (``alarm_dict`` rows; header first), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for alarm in alarms:
        writer.writerow([_cell(alarm.get(name)) for name in EXPORT_COLUMNS])
        if buffer.tell() > chunk_chars:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
