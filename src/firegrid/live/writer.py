"""Write ``live_entries`` in the transaction of the dispatch change they report.

The dispatch services mark what they changed (:func:`mark_incident`, :func:`mark_unit`;
:func:`firegrid.dispatch.timeline.append_rows` does it for every timeline and status-log
row). Just before that transaction commits, one entry per changed incident and unit is
inserted with its state at commit time; a rollback discards the marks with the change.

Order: on PostgreSQL the insert first takes a transaction-scoped advisory lock, so entries
become visible in id order (a reader that has seen id N never misses a smaller id that
commits later). SQLite serialises writers by itself.

After the commit the streams of this process are woken; on PostgreSQL the transaction also
sends the alarm feed's ``NOTIFY``, which wakes the streams of other processes (a wake-up
only: the data travels through the table; SQLite's streams poll).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

# imported here, not when first needed: importing it registers Session listeners, which
# must not happen inside a commit's own listener loop
from firegrid.alarms import feed
from firegrid.core.clock import utcnow
from firegrid.live.models import LiveEntry

MARKS = "firegrid.live.marks"
WRITTEN = "firegrid.live.written"
#: pg_advisory_xact_lock key of the live_entries writers (any constant unique to this use)
LOCK_KEY = 0x6669726567726964  # "firegrid"


def _marks(session: Session) -> dict[str, dict[int, set[str]]]:
    marks: dict[str, dict[int, set[str]]] = session.info.setdefault(
        MARKS, {"incident": {}, "unit": {}}
    )
    return marks


def mark_incident(session: Session, incident_id: int, kind: str = "") -> None:
    """``incident_id`` changed in this transaction (``kind``: the timeline kind)."""
    kinds = _marks(session)["incident"].setdefault(int(incident_id), set())
    if kind:
        kinds.add(kind)


def mark_unit(session: Session, vehicle_id: int) -> None:
    """The status of vehicle ``vehicle_id`` changed in this transaction."""
    _marks(session)["unit"].setdefault(int(vehicle_id), set())


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def incident_rows(session: Session, kinds_by_id: dict[int, set[str]]) -> list[dict[str, Any]]:
    from firegrid.dispatch.public import AidRequest, Incident

    if not kinds_by_id:
        return []
    ids = sorted(kinds_by_id)
    incidents = session.scalars(select(Incident).where(Incident.id.in_(ids))).all()
    helpers: dict[int, set[str]] = {}
    for incident_id, to_path in session.execute(
        select(AidRequest.incident_id, AidRequest.to_path).where(AidRequest.incident_id.in_(ids))
    ):
        helpers.setdefault(incident_id, set()).add(to_path)
    now = utcnow()
    rows = []
    for incident in incidents:
        kinds = kinds_by_id.get(incident.id, set())
        rows.append(
            {
                "at": now,
                "type": "incident.new" if "created" in kinds else "incident.updated",
                "jurisdiction_path": incident.jurisdiction_path,
                "paths": sorted(helpers.get(incident.id, set()) | {incident.command_path}),
                "payload": {
                    "incident_id": incident.id,
                    "incident_type": incident.incident_type,
                    "level": incident.level,
                    "status": incident.status,
                    "source": incident.source,
                    "lon": incident.lon,
                    "lat": incident.lat,
                    "address": incident.address,
                    "venue_id": incident.venue_id,
                    "call_count": incident.call_count,
                    "call_received_at": _iso(incident.call_received_at),
                    "command_level": incident.command_level,
                    "kinds": sorted(kinds),
                },
            }
        )
    return rows


def unit_rows(session: Session, vehicle_ids: set[int]) -> list[dict[str, Any]]:
    from firegrid.dispatch.public import Station, Vehicle

    if not vehicle_ids:
        return []
    now = utcnow()
    rows = []
    for vehicle, station_path in session.execute(
        select(Vehicle, Station.jurisdiction_path)
        .join(Station, Station.id == Vehicle.station_id)
        .where(Vehicle.id.in_(sorted(vehicle_ids)))
    ):
        rows.append(
            {
                "at": now,
                "type": "unit.status",
                "jurisdiction_path": station_path,
                "paths": [],
                "payload": {
                    "unit_id": vehicle.id,
                    "code": vehicle.code,
                    "call_sign": vehicle.call_sign,
                    "station_id": vehicle.station_id,
                    "status": vehicle.status,
                    "incident_id": vehicle.incident_id,
                    "status_changed_at": _iso(vehicle.status_changed_at),
                },
            }
        )
    return rows


def write_pending(session: Session) -> int:
    """Insert the entries for what this transaction marked; returns how many."""
    marks = session.info.pop(MARKS, None)
    if not marks or not (marks["incident"] or marks["unit"]):
        return 0
    session.flush()
    rows = incident_rows(session, marks["incident"]) + unit_rows(session, set(marks["unit"]))
    if not rows:
        return 0
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    session.execute(insert(LiveEntry.__table__), rows)  # type: ignore[arg-type]
    if postgresql:  # wakes the streams of other processes when this transaction commits
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": feed.CHANNEL})
    session.info[WRITTEN] = True
    return len(rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if MARKS in session.info:
        write_pending(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(WRITTEN, False):
        feed.notify()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(MARKS, None)
    session.info.pop(WRITTEN, None)
