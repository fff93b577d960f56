"""An incident as the link sees it: a plain snapshot read from dispatch's records (the
incident, its calls, units and timeline), which :mod:`.eido` turns into an EIDO and back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.dispatch.incident_models import Assignment, Incident, IncidentCall, TimelineEntry
from firegrid.dispatch.public import Vehicle


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
    return incident_snapshots(session, [incident])[incident.id]


def incident_snapshots(
    session: Session, incidents: Sequence[Incident]
) -> dict[int, IncidentSnapshot]:
    """Snapshots of ``incidents``, read with one query per table for all of them."""
    ids = [i.id for i in incidents]
    calls: dict[int, list[CallSnap]] = {i: [] for i in ids}
    notes: dict[int, list[NoteSnap]] = {i: [] for i in ids}
    units: dict[int, list[UnitSnap]] = {i: [] for i in ids}
    latest: dict[int, datetime] = {i.id: i.updated_at for i in incidents}
    for c in session.scalars(
        select(IncidentCall).where(IncidentCall.incident_id.in_(ids)).order_by(IncidentCall.id)
    ):
        assert c.incident_id is not None
        calls[c.incident_id].append(
            CallSnap(c.id, c.source, c.caller_number, c.received_at, c.external_ref)
        )
    for e in session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id.in_(ids))
        .order_by(TimelineEntry.incident_id, TimelineEntry.at, TimelineEntry.id)
    ):
        notes[e.incident_id].append(NoteSnap(e.id, e.at, note_text(e)))
        latest[e.incident_id] = max(latest[e.incident_id], e.at)
    for a, v in session.execute(
        select(Assignment, Vehicle)
        .join(Vehicle, Vehicle.id == Assignment.vehicle_id)
        .where(Assignment.incident_id.in_(ids))
        .order_by(Assignment.id)
    ):
        units[a.incident_id].append(
            UnitSnap(v.id, v.code, v.call_sign, v.vehicle_type, a.status, _changed_at(a))
        )
    return {
        i.id: IncidentSnapshot(
            incident_id=i.id,
            incident_type=i.incident_type,
            level=i.level,
            status=i.status,
            lon=i.lon,
            lat=i.lat,
            address=i.address,
            description=i.description,
            jurisdiction_path=i.jurisdiction_path,
            call_received_at=i.call_received_at,
            updated_at=latest[i.id],
            calls=tuple(calls[i.id]),
            units=tuple(units[i.id]),
            notes=tuple(notes[i.id]),
        )
        for i in incidents
    }
