"""Consume the monitoring centre's forwarded alarms (its outbox) as incidents.

The alarms context owns the outbox and its functions (``pending_forwards`` /
``mark_forward_consumed`` of :mod:`firegrid.alarms.public`). A new forward is announced on
the change stream (``alarm.forwarded``): :data:`ALARM_FORWARDS`, a change consumer, runs
:func:`consume_alarm_forwards` when one arrives (``firegrid serve``, ``firegrid changes
run``); ``firegrid incidents consume-alarms`` and :func:`run_periodically` (which also
delivers station orders) sweep the outbox too. The outbox stays the record: a forward is
consumed once whatever path reaches it first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.changes import Change, ChangeConsumer
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.intake import CallData, create_or_merge, receive_call
from firegrid.dispatch.plans import INCIDENT_TYPES
from firegrid.places.public import Jurisdiction, Venue

ACTOR = "system:alarm-forwarding"
log = logging.getLogger(__name__)


class ForwardSource(Protocol):
    """What the alarms context provides (``firegrid.alarms.forwarding``)."""

    def pending_forwards(self, session: Session, limit: int = 100) -> list[Any]: ...

    def mark_forward_consumed(self, session: Session, forward_id: Any, incident_id: int) -> Any: ...


def default_source() -> ForwardSource | None:
    from firegrid.alarms import public

    return public


#: one consumer of the outbox at a time in this process (the change consumer and the sweep)
_CONSUMING = threading.Lock()


@dataclass(frozen=True)
class ConsumeReport:
    available: bool
    consumed: int = 0
    created: int = 0
    merged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "consumed": self.consumed,
            "created": self.created,
            "merged": self.merged,
        }


def incident_type_of(kind: str | None) -> str:
    """The incident type of a forwarded alarm's kind (a fire alarm is a building fire).

    The alarms policy refuses unknown types when it is saved; a forward written before
    that (or by hand) with an unknown kind still becomes a building fire, logged."""
    if kind in INCIDENT_TYPES:
        return str(kind)
    if kind:
        log.warning("forwarded alarm of unknown incident type %r taken as building_fire", kind)
    return "building_fire"


def _point_of(session: Session, forward: Any) -> tuple[float, float]:
    """The forward's point, else its venue's, else the centre of its jurisdiction."""
    if forward.lon is not None and forward.lat is not None:
        return float(forward.lon), float(forward.lat)
    if forward.venue_id is not None:
        venue = session.get(Venue, forward.venue_id)
        if venue is not None:
            return venue.lon, venue.lat
    node = session.scalars(
        select(Jurisdiction).where(Jurisdiction.path == forward.jurisdiction_path)
    ).first()
    if node is None:
        raise ValidationFailed(
            f"forwarded alarm {forward.id} has no location",
            {"forward_id": forward.id},
            text=TextCode.LOCATION_MISSING,
            params={"kind": "alarm_forward", "id": forward.id},
        )
    return node.center_lon, node.center_lat


def consume_alarm_forwards(
    session: Session, *, limit: int = 100, source: ForwardSource | None = None
) -> ConsumeReport:
    """Turn pending forwards into incidents (or merge them into open ones)."""
    source = source or default_source()
    if source is None:
        return ConsumeReport(available=False)
    with _CONSUMING:
        return _consume(session, source, limit)


def _consume(session: Session, source: ForwardSource, limit: int) -> ConsumeReport:
    created = merged = 0
    forwards = source.pending_forwards(session, limit=limit)
    for forward in forwards:
        lon, lat = _point_of(session, forward)
        data = CallData(
            source="alarm",
            lon=lon,
            lat=lat,
            jurisdiction_path=forward.jurisdiction_path,
            incident_type=incident_type_of(forward.incident_kind),
            venue_category=forward.venue_category or "",
            venue_id=forward.venue_id,
            description=(
                f"forwarded alarm {forward.alarm_id} from the monitoring centre"
                + (" (probable fire)" if forward.probable else "")
            ),
            external_ref=f"alarm-forward:{forward.id}",
            received_at=forward.forwarded_at,
        )
        call = receive_call(session, ACTOR, data)
        result = create_or_merge(
            session,
            ACTOR,
            call,
            incident_type=data.incident_type,
            level=1,
            venue_category=data.venue_category,
            venue_id=data.venue_id,
        )
        assert result.incident is not None
        session.flush()
        source.mark_forward_consumed(session, forward.id, result.incident.id)
        merged += int(result.merged)
        created += int(not result.merged)
    return ConsumeReport(True, len(forwards), created, merged)


def run_periodically(database: Database, stop: threading.Event, *, interval_s: float = 2.0) -> None:
    """Consume forwarded alarms and deliver station orders every ``interval_s`` until
    ``stop`` is set (run it in a thread of the API process)."""
    from firegrid.dispatch.notify import deliver_pending

    while not stop.is_set():
        try:
            with database.session() as session:
                consume_alarm_forwards(session)
            deliver_pending(database)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("alarm-forward consumer round failed")
        stop.wait(interval_s)


def consume_announced_forwards(
    database: Database, settings: Any, changes: Sequence[Change]
) -> None:
    """Change handler: forwards were announced; open their incidents (all pending ones)."""
    with database.session() as session:
        consume_alarm_forwards(session)


ALARM_FORWARDS = ChangeConsumer(
    name="dispatch.alarm-forwards",
    kinds=frozenset({"alarm.forwarded"}),
    handle=consume_announced_forwards,
    description="open an incident for every forwarded fire of the monitoring centre",
)
