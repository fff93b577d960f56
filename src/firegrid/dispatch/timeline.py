"""The incident timeline: every step with its time (tz-aware), actor and cause, and the
intervals computed from it (call processing, turnout, travel, response).

Milestones are also kept on the incident row (first occurrence wins) so that lists and
percentiles need no join; the timeline stays the full record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import Params, Text, TextCode, params_of
from firegrid.dispatch.incident_models import Incident, TimelineEntry, VehicleStatusChange
from firegrid.live import writer as live_writer

#: timeline kind -> incident column holding its first occurrence
MILESTONES: dict[str, str] = {
    "call_received": "call_received_at",
    "dispatched": "dispatched_at",
    "turnout": "turnout_at",
    "arrived": "arrived_at",
    "under_control": "under_control_at",
    "extinguished": "extinguished_at",
    "closed": "closed_at",
}

KINDS = frozenset(
    {
        *MILESTONES,
        "created",
        "call_merged",
        "en_route",
        "on_scene",
        "returning",
        "released",
        "escalated",
        "level_changed",
        "aid_requested",
        "aid_answered",
        "reinforcement_requested",
        "notified",
        "possibly_related",
        # the 110 link (interop/): a follow-up from 110, a transfer to 110
        "note_110",
        "transferred_to_110",
        "location_110",
        "status_110",
        "note",
        "attachment",
    }
)

Actor = Principal | str


def actor_name(actor: Actor) -> str:
    """How an actor is written in the records: ``username (subject)`` or the given text."""
    if isinstance(actor, Principal):
        return f"{actor.username} ({actor.subject})"[:120]
    return actor[:120]


def check_aware(at: datetime, what: str = "time") -> datetime:
    if at.tzinfo is None:
        raise ValidationFailed(
            f"{what} must be timezone-aware",
            {"at": at.isoformat()},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": what},
        )
    return at


def record(
    incident: Incident,
    kind: str,
    at: datetime,
    actor: Actor,
    cause: str = "",
    *,
    vehicle_id: int | None = None,
    details: dict[str, Any] | None = None,
    cause_text: Text | None = None,
) -> dict[str, Any]:
    """A timeline row for ``incident`` (its milestone column is set on first occurrence);
    write it with :func:`write`.

    A cause the server writes itself passes ``cause_text`` (its code and parameters, kept in
    ``details`` under :data:`CAUSE_CODE`/:data:`CAUSE_PARAMS`; see :func:`cause_of`); a cause
    a person typed is their own words and has no code."""
    if kind not in KINDS:
        raise ValidationFailed(
            f"unknown timeline kind {kind!r}",
            {"kinds": sorted(KINDS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": sorted(KINDS)},
        )
    check_aware(at)
    column = MILESTONES.get(kind)
    if column is not None and getattr(incident, column) is None:
        setattr(incident, column, at)
    return {
        "incident_id": incident.id,
        "at": at,
        "kind": kind,
        "actor": actor_name(actor),
        "cause": cause[:300],
        "vehicle_id": vehicle_id,
        "details": _with_cause(details, cause_text),
    }


#: where a row's cause code and parameters are kept (inside ``details``)
CAUSE_CODE = "cause_code"
CAUSE_PARAMS = "cause_params"


def cause(code: TextCode, message: str, **params: Any) -> Text:
    """A cause the server writes: its English ``message``, code and parameters."""
    return Text(code, message, params_of(params))


def _with_cause(details: dict[str, Any] | None, text: Text | None) -> dict[str, Any] | None:
    if text is None:
        return details
    return {**(details or {}), CAUSE_CODE: text.code.value, CAUSE_PARAMS: dict(text.params)}


def cause_of(details: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None, Params]:
    """``(details without the cause code, cause code or None, its parameters)`` of a row."""
    if not details or CAUSE_CODE not in details:
        return details, None, {}
    rest = {k: v for k, v in details.items() if k not in (CAUSE_CODE, CAUSE_PARAMS)}
    return rest or None, str(details[CAUSE_CODE]), dict(details.get(CAUSE_PARAMS) or {})


def entry_out(entry: Any) -> dict[str, Any]:
    """A timeline row (model or dict made by :func:`record`) as the API shows it."""
    fields = ("at", "kind", "actor", "cause", "vehicle_id", "details")
    row: dict[str, Any] = (
        entry if isinstance(entry, dict) else {name: getattr(entry, name) for name in fields}
    )
    details, code, params = cause_of(row["details"])
    return {
        "at": row["at"].isoformat(),
        "kind": row["kind"],
        "actor": row["actor"],
        "cause": row["cause"],
        "cause_code": code,
        "cause_params": params,
        "vehicle_id": row.get("vehicle_id"),
        "details": details,
    }


BUFFER_KEY = "firegrid.dispatch.buffer"


def append_rows(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert append-only rows (timeline, status log) in the session's transaction.

    A bulk writer (the replay) may put a dict in ``session.info[BUFFER_KEY]``: the rows are
    then collected there and inserted in batches by :func:`flush_buffer`.
    """
    if not rows:
        return
    buffer = session.info.get(BUFFER_KEY)
    if buffer is not None:
        buffer.setdefault(model, []).extend(rows)
        return
    session.execute(insert(model.__table__), list(rows))
    _mark_live(session, model, rows)


def _mark_live(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Tell the live channel what changed: its entries are written in this transaction,
    just before it commits (:mod:`firegrid.live.writer`). A bulk writer (the replay's
    buffer) writes history, not live changes, and marks nothing."""
    for row in rows:
        if model is TimelineEntry:
            live_writer.mark_incident(session, row["incident_id"], row.get("kind", ""))
        elif model is VehicleStatusChange:
            live_writer.mark_unit(session, row["vehicle_id"])
            if row.get("incident_id") is not None:
                live_writer.mark_incident(session, row["incident_id"])


def flush_buffer(session: Session) -> int:
    """Insert the rows collected in the session's buffer; returns how many."""
    buffer = session.info.get(BUFFER_KEY)
    if not buffer:
        return 0
    session.flush()
    count = 0
    for model, rows in list(buffer.items()):
        if rows:  # Core executemany: one statement per table, whatever is None
            session.execute(insert(model.__table__), rows)
            count += len(rows)
    buffer.clear()
    return count


def write(session: Session, *rows: dict[str, Any]) -> None:
    """Write timeline rows made by :func:`record`."""
    append_rows(session, TimelineEntry, rows)


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds(), 1)


def intervals(incident: Incident) -> dict[str, float | None]:
    """Seconds between milestones (``None`` where a milestone is not reached yet).

    * call processing: call received -> first dispatch order
    * turnout: first dispatch order -> first unit leaves (en route)
    * travel: first unit leaves -> first unit arrives
    * response: call received -> first unit arrives
    """
    return {
        "call_processing_s": _seconds(incident.dispatched_at, incident.call_received_at),
        "turnout_s": _seconds(incident.turnout_at, incident.dispatched_at),
        "travel_s": _seconds(incident.arrived_at, incident.turnout_at),
        "response_s": _seconds(incident.arrived_at, incident.call_received_at),
        "duration_s": _seconds(incident.closed_at, incident.call_received_at),
    }
