"""Read API of past incidents for other contexts (records, analytics): incidents with their
milestones, the units sent and their milestones, stations and vehicles — plain rows, no ORM
objects, so a reader cannot change dispatch's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from firegrid.dispatch.incident_models import Assignment, Incident
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.states import IncidentStatus

INCIDENT_COLUMNS = (
    "id",
    "incident_type",
    "venue_category",
    "level",
    "status",
    "source",
    "lon",
    "lat",
    "jurisdiction_path",
    "venue_id",
    "address",
    "call_received_at",
    "dispatched_at",
    "turnout_at",
    "arrived_at",
    "closed_at",
)
ASSIGNMENT_COLUMNS = (
    "incident_id",
    "vehicle_id",
    "station_id",
    "via",
    "dispatched_at",
    "en_route_at",
    "arrived_at",
    "released_at",
)


@dataclass(frozen=True)
class IncidentSummary:
    """One incident as a record reads it (times timezone-aware)."""

    id: int
    incident_type: str
    venue_category: str
    status: str
    source: str
    lon: float
    lat: float
    jurisdiction_path: str
    venue_id: int | None
    address: str
    call_received_at: datetime
    dispatched_at: datetime | None
    turnout_at: datetime | None
    arrived_at: datetime | None
    closed_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED


def incident_summary(session: Session, incident_id: int, scope_path: str) -> IncidentSummary | None:
    """The incident if it lies in ``scope_path`` (None otherwise: no leak)."""
    row = session.get(Incident, incident_id)
    if row is None or not row.jurisdiction_path.startswith(scope_path):
        return None
    return IncidentSummary(
        id=row.id,
        incident_type=row.incident_type,
        venue_category=row.venue_category,
        status=row.status,
        source=row.source,
        lon=row.lon,
        lat=row.lat,
        jurisdiction_path=row.jurisdiction_path,
        venue_id=row.venue_id,
        address=row.address,
        call_received_at=row.call_received_at,
        dispatched_at=row.dispatched_at,
        turnout_at=row.turnout_at,
        arrived_at=row.arrived_at,
        closed_at=row.closed_at,
    )


def incident_columns(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    path_prefix: str = "/",
) -> dict[str, list[Any]]:
    """Incidents with ``since <= call_received_at < until`` in ``path_prefix``, as columns."""
    columns = [getattr(Incident, name) for name in INCIDENT_COLUMNS]
    query = select(*columns).where(Incident.jurisdiction_path.startswith(path_prefix))
    if since is not None:
        query = query.where(Incident.call_received_at >= since)
    if until is not None:
        query = query.where(Incident.call_received_at < until)
    rows = session.execute(query).all()
    return {name: [row[i] for row in rows] for i, name in enumerate(INCIDENT_COLUMNS)}


def assignment_columns(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    path_prefix: str = "/",
    *,
    incident_id: int | None = None,
) -> dict[str, list[Any]]:
    """Units sent to the incidents :func:`incident_columns` returns, as columns, plus the
    vehicle's crew on the assignment (``crew``); ``incident_id`` keeps one incident's."""
    columns = [getattr(Assignment, name) for name in ASSIGNMENT_COLUMNS]
    query = (
        select(*columns, Vehicle.crew)
        .join(Incident, Incident.id == Assignment.incident_id)
        .join(Vehicle, Vehicle.id == Assignment.vehicle_id)
        .where(Incident.jurisdiction_path.startswith(path_prefix))
    )
    if since is not None:
        query = query.where(Incident.call_received_at >= since)
    if until is not None:
        query = query.where(Incident.call_received_at < until)
    if incident_id is not None:
        query = query.where(Assignment.incident_id == incident_id)
    rows = session.execute(query).all()
    names = (*ASSIGNMENT_COLUMNS, "crew")
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


@dataclass(frozen=True)
class StationRef:
    id: int
    code: str
    name: str
    lon: float
    lat: float
    jurisdiction_path: str


def stations(session: Session) -> list[StationRef]:
    rows = session.execute(
        select(
            Station.id,
            Station.code,
            Station.name,
            Station.lon,
            Station.lat,
            Station.jurisdiction_path,
        ).where(Station.deleted_at.is_(None))
    ).all()
    return [StationRef(*row) for row in rows]


def vehicles(session: Session) -> dict[int, tuple[str, int]]:
    """vehicle id -> (call sign, station id), live vehicles."""
    rows = session.execute(
        select(Vehicle.id, Vehicle.call_sign, Vehicle.station_id).where(
            Vehicle.deleted_at.is_(None)
        )
    ).all()
    return {int(r[0]): (str(r[1]), int(r[2])) for r in rows}


# ---------------------------------------------------------------- bulk reads as epoch seconds

INCIDENT_TIMES = ("call_received_at", "dispatched_at", "turnout_at", "arrived_at", "closed_at")
UNIT_TIMES = ("dispatched_at", "en_route_at", "arrived_at", "released_at")


def _epoch(column: Any, dialect: str) -> Any:
    """A timestamp column as seconds since 1970 (UTC) computed by PostgreSQL, or on SQLite
    the stored UTC text as it is (``YYYY-MM-DD HH:MM:SS.ffffff``; the reader parses it in
    bulk, far faster than the database's date functions or Python objects)."""
    if dialect == "sqlite":
        return cast(column, String)
    return func.extract("epoch", column)


def times_as_text(session: Session) -> bool:
    """Whether :func:`incident_epoch_rows` and :func:`assignment_epoch_rows` give the times
    as UTC text (SQLite) rather than epoch seconds."""
    return session.get_bind().dialect.name == "sqlite"


def incident_epoch_rows(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    path_prefix: str = "/",
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Incidents for analytics: id, type, path, lon, lat and the milestone times as epoch
    seconds (None when not reached) — plain tuples, fast to read in bulk."""
    dialect = session.get_bind().dialect.name
    names = ["incident_id", "incident_type", "jurisdiction_path", "lon", "lat"]
    columns = [
        Incident.id,
        Incident.incident_type,
        Incident.jurisdiction_path,
        Incident.lon,
        Incident.lat,
    ]
    for name in INCIDENT_TIMES:
        columns.append(_epoch(getattr(Incident, name), dialect))
        names.append(name.replace("_at", "_t"))
    query = select(*columns).where(Incident.jurisdiction_path.startswith(path_prefix))
    if since is not None:
        query = query.where(Incident.call_received_at >= since)
    if until is not None:
        query = query.where(Incident.call_received_at < until)
    return names, [tuple(row) for row in session.connection().execute(query)]


def assignment_epoch_rows(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    path_prefix: str = "/",
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Units sent to those incidents: incident, vehicle, station and their times (epoch s)."""
    dialect = session.get_bind().dialect.name
    names = ["incident_id", "vehicle_id", "station_id"]
    columns: list[Any] = [Assignment.incident_id, Assignment.vehicle_id, Assignment.station_id]
    for name in UNIT_TIMES:
        columns.append(_epoch(getattr(Assignment, name), dialect))
        names.append(name.replace("_at", "_t"))
    query = (
        select(*columns)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(Incident.jurisdiction_path.startswith(path_prefix))
    )
    if since is not None:
        query = query.where(Incident.call_received_at >= since)
    if until is not None:
        query = query.where(Incident.call_received_at < until)
    return names, [tuple(row) for row in session.connection().execute(query)]


def incidents_stamp(session: Session) -> tuple[Any, ...]:
    """Changes whenever an incident or a unit assignment is added or changed (one small
    aggregate query): readers may keep what they built from the bulk reads until then."""
    row = session.execute(
        select(
            select(func.count(Incident.id)).scalar_subquery(),
            select(func.max(Incident.updated_at)).scalar_subquery(),
            select(func.count(Assignment.id)).scalar_subquery(),
            select(func.max(Assignment.released_at)).scalar_subquery(),
            select(func.max(Assignment.arrived_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)
