"""An incident as the link sees it: a plain snapshot read from dispatch's records (the
incident, its calls, units and timeline), which :mod:`.eido` turns into an EIDO and back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.dispatch.incident_models import Assignment, Incident, IncidentCall, TimelineEntry
from firegrid.dispatch.models import Vehicle


@dataclass(frozen=True)
class CallSnap:
    call_id: int
    source: str
    caller_number: str
    received_at: datetime
    external_ref: str = ""


@dataclass(frozen=True)
class UnitSnap:
    vehicle_id: int
    code: str
    call_sign: str
    vehicle_type: str
    status: str
    changed_at: datetime  # the latest milestone of the assignment


@dataclass(frozen=True)
class NoteSnap:
    entry_id: int
    at: datetime
    text: str


@dataclass(frozen=True)
class IncidentSnapshot:
    incident_id: int
    incident_type: str
    level: int
    status: str
    lon: float
    lat: float
    address: str
    description: str
    jurisdiction_path: str
    call_received_at: datetime
    updated_at: datetime
    calls: tuple[CallSnap, ...] = field(default_factory=tuple)
    units: tuple[UnitSnap, ...] = field(default_factory=tuple)
    notes: tuple[NoteSnap, ...] = field(default_factory=tuple)


def note_text(entry: TimelineEntry) -> str:
    """A timeline step as a note: its kind, and its cause when it has one."""
    return f"{entry.kind}: {entry.cause}" if entry.cause else entry.kind


def _changed_at(a: Assignment) -> datetime:
    times = [a.dispatched_at, a.en_route_at, a.arrived_at, a.released_at]
    return max(t for t in times if t is not None)


def incident_snapshot(session: Session, incident: Incident) -> IncidentSnapshot:
    calls = session.scalars(
        select(IncidentCall)
        .where(IncidentCall.incident_id == incident.id)
        .order_by(IncidentCall.id)
    ).all()
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    ).all()
    units = session.execute(
        select(Assignment, Vehicle)
        .join(Vehicle, Vehicle.id == Assignment.vehicle_id)
        .where(Assignment.incident_id == incident.id)
        .order_by(Assignment.id)
    ).all()
    latest = max([incident.updated_at, *(e.at for e in entries)])
    return IncidentSnapshot(
        incident_id=incident.id,
        incident_type=incident.incident_type,
        level=incident.level,
        status=incident.status,
        lon=incident.lon,
        lat=incident.lat,
        address=incident.address,
        description=incident.description,
        jurisdiction_path=incident.jurisdiction_path,
        call_received_at=incident.call_received_at,
        updated_at=latest,
        calls=tuple(
            CallSnap(c.id, c.source, c.caller_number, c.received_at, c.external_ref) for c in calls
        ),
        units=tuple(
            UnitSnap(v.id, v.code, v.call_sign, v.vehicle_type, a.status, _changed_at(a))
            for a, v in units
        ),
        notes=tuple(NoteSnap(e.id, e.at, note_text(e)) for e in entries),
    )
