"""The rules of incidents: creation, visibility, dispatch, unit and incident status moves.

Every change is written to the incident timeline and/or the vehicle status log with its
time, actor and cause. Times are passed in (a replay drives its own clock); they default to
now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.changes import record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import (
    AidRequest,
    Assignment,
    Incident,
    IncidentCall,
    VehicleStatusChange,
)
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.plans import check_key
from firegrid.dispatch.states import (
    AVAILABLE,
    COMMITTED,
    IncidentStatus,
    VehicleStatus,
    check_incident_transition,
    check_vehicle_transition,
)
from firegrid.dispatch.timeline import Actor, actor_name

COMMAND_LEVELS = ("city", "town", "village")


def path_parts(path: str) -> list[str]:
    return [p for p in path.strip("/").split("/") if p]


def path_prefix(path: str, depth: int) -> str:
    parts = path_parts(path)[:depth]
    return "/" + "/".join(parts) + "/" if parts else "/"


def command_level_of(path: str) -> str:
    """``city`` for a path of depth 1 (or the root), ``town`` for 2, ``village`` below."""
    depth = len(path_parts(path))
    return COMMAND_LEVELS[min(max(depth, 1), 3) - 1]


def initial_command_path(jurisdiction_path: str, level: int) -> str:
    """Who commands a new incident: its village post at level 1, its town at level 2, the
    city centre from level 3. Higher levels always see and may dispatch too."""
    depth = 3 if level <= 1 else 2 if level == 2 else 1
    return path_prefix(jurisdiction_path, depth)


def create_incident(
    session: Session,
    actor: Actor,
    call: IncidentCall,
    *,
    incident_type: str,
    level: int,
    venue_category: str = "",
    venue_id: int | None = None,
    at: datetime | None = None,
    cause: str = "",
    incident_id: int | None = None,
) -> Incident:
    """Open an incident from a located call; the call is linked to it.

    ``incident_id`` is for bulk writers that allocate ids themselves (the replay).
    """
    check_key(incident_type, level, "incident")
    if call.incident_id is not None:
        raise Conflict(
            f"call {call.id} already belongs to incident {call.incident_id}",
            text=TextCode.CALL_ALREADY_LINKED,
            params={"call_id": call.id, "incident_id": call.incident_id},
        )
    if call.lon is None or call.lat is None or not call.jurisdiction_path:
        raise ValidationFailed(
            "the call has no location yet: give a point or an address that geocodes",
            {"call_id": call.id},
            text=TextCode.LOCATION_MISSING,
            params={"kind": "call", "id": call.id},
        )
    at = timeline.check_aware(at or utcnow())
    incident = Incident(
        incident_type=incident_type,
        venue_category=venue_category or call.venue_category,
        level=level,
        status=IncidentStatus.CREATED.value,
        source=call.source,
        lon=call.lon,
        lat=call.lat,
        jurisdiction_path=call.jurisdiction_path,
        command_path=initial_command_path(call.jurisdiction_path, level),
        command_level="",
        venue_id=venue_id if venue_id is not None else call.venue_id,
        address=call.address_text,
        description=call.description,
        call_count=1,
        call_received_at=call.received_at,
        last_call_at=call.received_at,
        created_at=at,
    )
    incident.command_level = command_level_of(incident.command_path)
    if incident_id is not None:  # a bulk writer allocated the id: no flush needed
        incident.id = incident_id
        session.add(incident)
    else:
        new_call = call in session.new  # not written yet: write it once, already linked
        if new_call:
            session.expunge(call)
        session.add(incident)
        session.flush()
        if new_call:
            session.add(call)
    call.incident_id = incident.id
    call.status = "linked"
    timeline.write(
        session,
        timeline.record(
            incident,
            "call_received",
            call.received_at,
            actor,
            f"{call.source} call",
            details={"caller_number": call.caller_number, "external_ref": call.external_ref},
            cause_text=timeline.cause(
                TextCode.TIMELINE_CALL, f"{call.source} call", source=call.source
            ),
        ),
        timeline.record(
            incident,
            "created",
            at,
            actor,
            cause or "new incident",
            cause_text=None
            if cause
            else timeline.cause(TextCode.TIMELINE_NEW_INCIDENT, "new incident"),
        ),
    )
    if incident_id is None:  # bulk writers (the replay) rebuild history: not news to share
        _announce(session, actor, incident, cause or "new incident")
    return incident


#: The kind this context records in the change stream when an incident opens or moves.
INCIDENT_CHANGED = "incident.changed"


def _announce(session: Session, actor: Actor, incident: Incident, cause: str) -> None:
    """Record the incident's new status in the change stream (the change feed shares it)."""
    record_change(
        session,
        INCIDENT_CHANGED,
        incident.id,
        actor=actor_name(actor),
        cause=cause,
        payload={
            "status": incident.status,
            "incident_type": incident.incident_type,
            "level": incident.level,
        },
        scope_path=incident.jurisdiction_path,
    )


# Visibility and command ------------------------------------------------------------------


def visible_incidents(principal: Principal) -> Select[Any]:
    """Incidents in the caller's scope, plus those its forces were asked to help with."""
    helped = select(AidRequest.incident_id).where(
        AidRequest.to_path.startswith(principal.scope_path, autoescape=True)
    )
    return select(Incident).where(
        or_(principal.scope_filter(Incident.jurisdiction_path), Incident.id.in_(helped))
    )


def get_incident(session: Session, principal: Principal, incident_id: int) -> Incident:
    """The incident if the caller may see it; otherwise not found (no leak)."""
    row: Incident | None = session.scalars(
        visible_incidents(principal).where(Incident.id == incident_id)
    ).first()
    if row is None:
        raise NotFound(
            f"incident {incident_id} not found",
            {"id": incident_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "incident", "id": incident_id},
        )
    return row


def check_command(principal: Principal, incident: Incident) -> None:
    """Only the command post in charge of the incident, or a higher one, may command it."""
    if not incident.command_path.startswith(principal.scope_path):
        raise Forbidden(
            f"incident {incident.id} is commanded at {incident.command_level} level "
            f"({incident.command_path}); escalate or ask that command post",
            {"command_path": incident.command_path},
            text=TextCode.ACCESS_COMMAND_LEVEL,
            params={"incident_id": incident.id, "command_path": incident.command_path},
        )


# Vehicles --------------------------------------------------------------------------------


def _log_vehicle(
    session: Session,
    vehicle: Vehicle,
    new: VehicleStatus,
    at: datetime,
    actor: Actor,
    cause: str,
    incident_id: int | None,
) -> None:
    timeline.append_rows(
        session,
        VehicleStatusChange,
        [
            {
                "vehicle_id": vehicle.id,
                "at": at,
                "from_status": vehicle.status,
                "to_status": new.value,
                "actor": actor_name(actor),
                "cause": cause[:300],
                "incident_id": incident_id,
            }
        ],
    )
    vehicle.status = new.value
    vehicle.status_changed_at = at


def _open_assignment(session: Session, vehicle: Vehicle) -> Assignment | None:
    if vehicle.incident_id is None:
        return None
    return session.scalars(
        select(Assignment).where(
            Assignment.vehicle_id == vehicle.id,
            Assignment.incident_id == vehicle.incident_id,
            Assignment.released_at.is_(None),
        )
    ).first()


def set_vehicle_status(
    session: Session,
    actor: Actor,
    vehicle: Vehicle,
    status: str,
    *,
    at: datetime | None = None,
    cause: str = "",
    assignment: Assignment | None = None,
    incident: Incident | None = None,
) -> Vehicle:
    """Move a vehicle along its status machine; updates its assignment and incident."""
    at = timeline.check_aware(at or utcnow())
    new = check_vehicle_transition(vehicle.status, status, vehicle.code)
    if new is VehicleStatus.DISPATCHED:
        raise Conflict(
            "dispatch a unit through an incident (POST /incidents/{id}/dispatch)",
            text=TextCode.INCIDENT_DISPATCH_THROUGH_INCIDENT,
        )
    incident_id = vehicle.incident_id
    if assignment is None and incident_id is not None:
        assignment = _open_assignment(session, vehicle)
    if incident is None and incident_id is not None:
        incident = session.get(Incident, incident_id)
    _log_vehicle(session, vehicle, new, at, actor, cause or f"status {new}", incident_id)
    if incident is None or assignment is None:
        return vehicle
    entries = []
    if new is VehicleStatus.EN_ROUTE:
        assignment.en_route_at = at
        assignment.status = new.value
        if incident.turnout_at is None:
            entries.append(
                timeline.record(
                    incident,
                    "turnout",
                    at,
                    actor,
                    "first unit left",
                    cause_text=timeline.cause(TextCode.TIMELINE_FIRST_UNIT_LEFT, "first unit left"),
                )
            )
        entries.append(
            timeline.record(incident, "en_route", at, actor, cause, vehicle_id=vehicle.id)
        )
    elif new is VehicleStatus.ON_SCENE:
        assignment.arrived_at = at
        assignment.status = new.value
        entries.append(
            timeline.record(incident, "arrived", at, actor, cause, vehicle_id=vehicle.id)
        )
        if incident.status == IncidentStatus.DISPATCHED:
            incident.status = IncidentStatus.ON_SCENE.value
            entries.append(
                timeline.record(
                    incident,
                    "on_scene",
                    at,
                    actor,
                    "first unit arrived",
                    cause_text=timeline.cause(
                        TextCode.TIMELINE_FIRST_UNIT_ARRIVED, "first unit arrived"
                    ),
                )
            )
            _announce(session, actor, incident, "first unit arrived")
    else:  # returning, available or cancelled: the unit leaves the incident
        assignment.released_at = at
        assignment.status = "released"
        vehicle.incident_id = None
        entries.append(
            timeline.record(
                incident,
                "released",
                at,
                actor,
                cause or f"unit {new}",
                vehicle_id=vehicle.id,
                cause_text=None
                if cause
                else timeline.cause(TextCode.TIMELINE_UNIT_STATUS, f"unit {new}", status=new.value),
            )
        )
    timeline.write(session, *entries)
    return vehicle


def set_out_of_service(session: Session, actor: Actor, vehicle: Vehicle, cause: str) -> Vehicle:
    return set_vehicle_status(session, actor, vehicle, VehicleStatus.OUT_OF_SERVICE, cause=cause)


# Dispatch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dispatched:
    incident: Incident
    assignments: list[Assignment]


def dispatch_units(
    session: Session,
    actor: Actor,
    incident: Incident,
    vehicle_ids: Sequence[int],
    *,
    forces_path: str,
    at: datetime | None = None,
    etas: dict[int, float] | None = None,
    reasons: dict[int, str] | None = None,
    via: str = "dispatch",
    aid_request_id: int | None = None,
    cause: str = "",
    vehicles: dict[int, Vehicle] | None = None,
) -> Dispatched:
    """Assign units to an incident in one action: every unit or none.

    Each vehicle must be available and belong to a station under ``forces_path`` (the
    dispatcher's own forces, or the forces of the town answering an aid request).
    """
    at = timeline.check_aware(at or utcnow())
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(
            f"incident {incident.id} is closed",
            text=TextCode.INCIDENT_CLOSED,
            params={"incident_id": incident.id},
        )
    wanted = list(dict.fromkeys(vehicle_ids))
    if not wanted:
        raise ValidationFailed(
            "give at least one vehicle to dispatch",
            {"vehicle_ids": []},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "vehicle_ids"},
        )
    if vehicles is None:
        rows = session.execute(
            select(Vehicle, Station.jurisdiction_path)
            .join(Station, Station.id == Vehicle.station_id)
            .where(Vehicle.id.in_(wanted), Vehicle.deleted_at.is_(None))
        ).all()
        found = {v.id: (v, path) for v, path in rows}
    else:
        found = {i: (vehicles[i], vehicles[i].jurisdiction_path) for i in wanted if i in vehicles}
    problems: dict[str, str] = {}
    for vid in wanted:
        if vid not in found or not found[vid][1].startswith(forces_path):
            problems[str(vid)] = "unknown, or not one of the forces you dispatch"
        elif found[vid][0].status not in AVAILABLE:
            problems[str(vid)] = f"not available ({found[vid][0].status})"
    if problems:
        raise Conflict(
            "some units cannot be dispatched; nothing was dispatched",
            problems,
            text=TextCode.INCIDENT_UNITS_NOT_DISPATCHABLE,
            params={"vehicle_ids": sorted(problems, key=int)},
        )
    assignments = []
    entries = []
    for vid in wanted:
        vehicle = found[vid][0]
        reason = (reasons or {}).get(vid, cause or "dispatched by the command post")
        _log_vehicle(session, vehicle, VehicleStatus.DISPATCHED, at, actor, reason, incident.id)
        vehicle.incident_id = incident.id
        assignments.append(
            Assignment(
                incident_id=incident.id,
                vehicle_id=vehicle.id,
                station_id=vehicle.station_id,
                status=VehicleStatus.DISPATCHED.value,
                via=via,
                eta_s=(etas or {}).get(vid),
                reason=reason[:300],
                aid_request_id=aid_request_id,
                dispatched_at=at,
            )
        )
    entries.append(
        timeline.record(
            incident,
            "dispatched",
            at,
            actor,
            cause or via,
            details={"vehicle_ids": wanted, "via": via, "aid_request_id": aid_request_id},
            cause_text=None
            if cause
            else timeline.cause(TextCode.TIMELINE_DISPATCHED_VIA, via, via=via),
        )
    )
    if incident.status == IncidentStatus.CREATED:
        incident.status = IncidentStatus.DISPATCHED.value
        _announce(session, actor, incident, cause or via)
    session.add_all(assignments)
    timeline.write(session, *entries)
    return Dispatched(incident, assignments)


def set_incident_status(
    session: Session,
    actor: Actor,
    incident: Incident,
    status: str,
    *,
    at: datetime | None = None,
    cause: str = "",
    release_units: bool = True,
    open_units: Sequence[tuple[Assignment, Vehicle]] | None = None,
    confirm_units_on_scene: bool = True,
) -> Incident:
    """Move an incident along its status machine; closing releases its units.

    The status is checked against the units': ``on_scene`` needs a unit that has arrived
    (a unit's own on-scene status sets it), and closing while units are still on scene is
    refused unless ``confirm_units_on_scene`` (the console asks the dispatcher first).
    ``open_units`` (assignment, vehicle) spares the lookup when the caller holds them.
    """
    at = timeline.check_aware(at or utcnow())
    new = check_incident_transition(incident.status, status, incident.id)
    check_against_units(session, incident, new, confirm_units_on_scene)
    incident.status = new.value
    timeline.write(session, timeline.record(incident, new.value, at, actor, cause))
    _announce(session, actor, incident, cause or f"status {new.value}")
    if new is IncidentStatus.CLOSED and release_units:
        release_all(session, actor, incident, at=at, cause="incident closed", open_units=open_units)
    return incident


class UnitsOnScene(Conflict):
    code = "units_on_scene"


def check_against_units(
    session: Session, incident: Incident, new: IncidentStatus, confirmed: bool
) -> None:
    """Refuse an incident status the units' statuses contradict."""
    if new is IncidentStatus.ON_SCENE:
        arrived = session.scalar(
            select(Assignment.id)
            .where(Assignment.incident_id == incident.id, Assignment.arrived_at.is_not(None))
            .limit(1)
        )
        if arrived is None:
            raise Conflict(
                f"incident {incident.id}: no unit has arrived; a unit reporting on scene "
                "sets the incident on scene",
                {"status": incident.status},
                text=TextCode.INCIDENT_NOBODY_ARRIVED,
                params={"incident_id": incident.id},
            )
    elif new is IncidentStatus.CLOSED and not confirmed:
        on_scene = session.execute(
            select(Vehicle.id, Vehicle.call_sign)
            .join(Assignment, Assignment.vehicle_id == Vehicle.id)
            .where(
                Assignment.incident_id == incident.id,
                Assignment.released_at.is_(None),
                Vehicle.status == VehicleStatus.ON_SCENE.value,
            )
        ).all()
        if on_scene:
            raise UnitsOnScene(
                f"incident {incident.id} still has {len(on_scene)} unit(s) on scene: "
                "confirm to close and send them back",
                {"units": [{"vehicle_id": v, "call_sign": c} for v, c in on_scene]},
                text=TextCode.INCIDENT_UNITS_ON_SCENE,
                params={"incident_id": incident.id, "units": [c for _v, c in on_scene]},
            )


def release_all(
    session: Session,
    actor: Actor,
    incident: Incident,
    *,
    at: datetime,
    cause: str,
    open_units: Sequence[tuple[Assignment, Vehicle]] | None = None,
) -> None:
    """Send every unit still committed to the incident home (or back to available)."""
    if open_units is None:
        open_units = [
            (a, v)
            for a, v in session.execute(
                select(Assignment, Vehicle)
                .join(Vehicle, Vehicle.id == Assignment.vehicle_id)
                .where(Assignment.incident_id == incident.id, Assignment.released_at.is_(None))
            ).all()
        ]
    for assignment, vehicle in open_units:
        if assignment.released_at is not None:
            continue
        if vehicle.status not in COMMITTED:
            continue
        target = (
            VehicleStatus.AVAILABLE_IN_STATION
            if vehicle.status == VehicleStatus.DISPATCHED
            else VehicleStatus.RETURNING
        )
        set_vehicle_status(
            session,
            actor,
            vehicle,
            target,
            at=at,
            cause=cause,
            assignment=assignment,
            incident=incident,
        )


def assignments_of(session: Session, incident_id: int) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)
        ).all()
    )


def vehicle_in_scope(session: Session, principal: Principal, vehicle_id: int) -> Vehicle:
    """A vehicle of the caller's scope (by its station), else not found."""
    vehicle = session.scalars(
        select(Vehicle)
        .join(Station, Station.id == Vehicle.station_id)
        .where(
            Vehicle.id == vehicle_id,
            Vehicle.deleted_at.is_(None),
            principal.scope_filter(Station.jurisdiction_path),
        )
    ).first()
    if vehicle is None:
        raise NotFound(
            f"vehicle {vehicle_id} not found",
            {"id": vehicle_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "vehicle", "id": vehicle_id},
        )
    return vehicle


# Views -----------------------------------------------------------------------------------


def incident_dict(incident: Incident) -> dict[str, object]:
    from firegrid.dispatch.timeline import intervals

    return {
        "id": incident.id,
        "incident_type": incident.incident_type,
        "venue_category": incident.venue_category,
        "level": incident.level,
        "status": incident.status,
        "source": incident.source,
        "lon": incident.lon,
        "lat": incident.lat,
        "jurisdiction_path": incident.jurisdiction_path,
        "command_path": incident.command_path,
        "command_level": incident.command_level,
        "venue_id": incident.venue_id,
        "address": incident.address,
        "description": incident.description,
        "call_count": incident.call_count,
        "call_received_at": incident.call_received_at.isoformat(),
        "created_at": incident.created_at.isoformat(),
        "dispatched_at": _iso(incident.dispatched_at),
        "turnout_at": _iso(incident.turnout_at),
        "arrived_at": _iso(incident.arrived_at),
        "under_control_at": _iso(incident.under_control_at),
        "extinguished_at": _iso(incident.extinguished_at),
        "closed_at": _iso(incident.closed_at),
        "intervals": intervals(incident),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def assignment_dict(a: Assignment) -> dict[str, object]:
    return {
        "id": a.id,
        "vehicle_id": a.vehicle_id,
        "station_id": a.station_id,
        "status": a.status,
        "via": a.via,
        "eta_s": None if a.eta_s is None else round(a.eta_s, 1),
        "reason": a.reason,
        "aid_request_id": a.aid_request_id,
        "dispatched_at": a.dispatched_at.isoformat(),
        "en_route_at": _iso(a.en_route_at),
        "arrived_at": _iso(a.arrived_at),
        "released_at": _iso(a.released_at),
    }


def incident_detail(
    session: Session, incident: Incident, scope_path: str = "/"
) -> dict[str, object]:
    """The incident with its calls, timeline, units and aid requests (and the possibly
    related incidents the caller, scoped to ``scope_path``, may see)."""
    from firegrid.dispatch.command import request_dict
    from firegrid.dispatch.incident_models import TimelineEntry
    from firegrid.dispatch.intake import call_dict

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
    requests = session.scalars(
        select(AidRequest).where(AidRequest.incident_id == incident.id).order_by(AidRequest.id)
    ).all()
    related = possibly_related(session, entries, scope_path)
    shown = {r["incident_id"] for r in related}
    return {
        **incident_dict(incident),
        "calls": [call_dict(c) for c in calls],
        "timeline": [
            timeline.entry_out(e)
            for e in entries
            if e.kind != "possibly_related" or (e.details or {}).get("incident_id") in shown
        ],
        "units": [assignment_dict(a) for a in assignments_of(session, incident.id)],
        "aid_requests": [request_dict(r) for r in requests],
        "possibly_related": related,
    }


def possibly_related(
    session: Session, entries: Sequence[Any], scope_path: str = "/"
) -> list[dict[str, object]]:
    """The incidents the timeline links as "possibly related" (not merged: two incidents
    until a dispatcher decides), with their distance and current status — those in
    ``scope_path`` only (another area's incident is not shown, not even its id)."""
    found: dict[int, dict[str, object]] = {}
    for e in entries:
        if e.kind != "possibly_related" or not e.details:
            continue
        other_id = int(e.details["incident_id"])
        other = session.get(Incident, other_id)
        if other is None or not other.jurisdiction_path.startswith(scope_path):
            continue
        found[other_id] = {
            "incident_id": other_id,
            "distance_m": e.details.get("distance_m"),
            "venue_id": e.details.get("venue_id"),
            "incident_type": other.incident_type,
            "status": other.status,
            "since": e.at.isoformat(),
        }
    return list(found.values())


def committed_units(session: Session, incident_id: int) -> list[tuple[str, list[str]]]:
    """``(vehicle type, capabilities)`` of units still committed to the incident."""
    rows = session.execute(
        select(Vehicle.vehicle_type, Vehicle.capabilities)
        .join(Assignment, Assignment.vehicle_id == Vehicle.id)
        .where(Assignment.incident_id == incident_id, Assignment.released_at.is_(None))
    ).all()
    return [(r.vehicle_type, list(r.capabilities or ())) for r in rows]
