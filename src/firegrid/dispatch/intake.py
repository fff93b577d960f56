"""Intake (接警/受理): 119 calls, transfers from 110 and forwarded alarms become calls, and
calls become incidents (new, or merged into an open one).

A call is located from its point (in any accepted CRS) or by geocoding its address text
within the taker's jurisdiction; the taker is shown the venues near the point with their
pre-plan data (venue, buildings) and device states, and the open incidents it may duplicate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch import timeline
from firegrid.dispatch.duplicates import (
    Duplicate,
    find_duplicates,
    find_related,
    haversine_m,
    record_related,
    same_venue_incidents,
)
from firegrid.dispatch.duplicates import merge_call as merge_into
from firegrid.dispatch.incident_models import Incident, IncidentCall
from firegrid.dispatch.incidents import create_incident
from firegrid.dispatch.merge_rules import MergeRules, active_merge_rules
from firegrid.dispatch.timeline import Actor, actor_name
from firegrid.places.geocode import geocode
from firegrid.places.public import Building, JurisdictionIndex, Venue, jurisdiction_index, parse_crs
from firegrid.places.service import resolve_point

SOURCES = ("call_119", "transfer_110", "alarm")
VENUE_RADIUS_M = 200.0


@dataclass
class CallData:
    """What a call taker (or a 110 transfer, or an alarm) tells us."""

    source: str = "call_119"
    caller_number: str = ""
    address_text: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    incident_type: str = ""
    venue_category: str = ""
    venue_id: int | None = None
    description: str = ""
    external_ref: str = ""
    received_at: datetime | None = None
    jurisdiction_path: str = ""  # known already (forwarded alarms): skips the lookup
    extra: dict[str, Any] = field(default_factory=dict)


def locate(
    session: Session,
    data: CallData,
    scope_path: str,
    index: JurisdictionIndex | None = None,
) -> tuple[float | None, float | None, str, dict[str, Any] | None]:
    """``(lon, lat, jurisdiction_path, geocode answer)``; no location if nothing resolves."""
    if data.lon is not None and data.lat is not None:
        if data.jurisdiction_path:
            return data.lon, data.lat, data.jurisdiction_path, None
        crs = parse_crs(data.crs)
        if index is not None and crs.value == "wgs84":
            return data.lon, data.lat, index.locate(data.lon, data.lat, "call").path, None
        lon, lat, grid = resolve_point(session, data.lon, data.lat, crs, "call location")
        return lon, lat, grid.path, None
    if data.address_text:
        answer = geocode(session, data.address_text, scope_path=scope_path)
        found = answer.as_dict()
        if answer.matched and answer.lon is not None and answer.lat is not None:
            path = (
                answer.jurisdiction_path
                or (index or jurisdiction_index(session))
                .locate(answer.lon, answer.lat, "address")
                .path
            )
            return answer.lon, answer.lat, path, found
        return None, None, "", found
    raise ValidationFailed(
        "a call needs a point (lon, lat) or an address text",
        text=TextCode.CALL_NEEDS_LOCATION,
        params={},
    )


def receive_call(
    session: Session,
    actor: Actor,
    data: CallData,
    *,
    scope_path: str = "/",
    index: JurisdictionIndex | None = None,
) -> IncidentCall:
    """Record a call and locate it. The call is kept whatever happens next."""
    if data.source not in SOURCES:
        raise ValidationFailed(
            f"unknown call source {data.source!r}",
            {"sources": SOURCES},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "source", "value": data.source, "allowed": SOURCES},
        )
    received = timeline.check_aware(data.received_at or utcnow(), "received_at")
    lon, lat, path, answer = locate(session, data, scope_path, index)
    if path and not path.startswith(scope_path):
        raise ValidationFailed(
            "the call's location lies outside your jurisdiction: transfer it",
            {"jurisdiction_path": path},
            text=TextCode.CALL_OUTSIDE_JURISDICTION,
            params={},
        )
    call = IncidentCall(
        source=data.source,
        status="pending",
        caller_number=data.caller_number[:32],
        address_text=data.address_text[:300],
        lon=lon,
        lat=lat,
        jurisdiction_path=path,
        incident_type=data.incident_type,
        venue_category=data.venue_category,
        venue_id=data.venue_id,
        description=data.description[:1000],
        external_ref=data.external_ref[:64],
        geocode=answer,
        received_at=received,
        taken_by=actor_name(actor),
    )
    session.add(call)  # flushed with the incident it opens, or by the caller
    return call


def get_call(session: Session, scope_path: str, call_id: int) -> IncidentCall:
    """A call in the caller's scope (an unlocated call is seen at city level only)."""
    call = session.get(IncidentCall, call_id)
    visible = call is not None and (
        call.jurisdiction_path.startswith(scope_path)
        if call.jurisdiction_path
        else len([p for p in scope_path.split("/") if p]) <= 1
    )
    if call is None or not visible:
        raise NotFound(
            f"call {call_id} not found",
            {"id": call_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "call", "id": call_id},
        )
    return call


def set_call_location(
    session: Session, call: IncidentCall, data: CallData, scope_path: str
) -> IncidentCall:
    """Locate a call later (the caller gave a better address or point)."""
    lon, lat, path, answer = locate(session, data, scope_path)
    call.lon, call.lat, call.jurisdiction_path = lon, lat, path
    if answer is not None:
        call.geocode = answer
    return call


@dataclass(frozen=True)
class IntakeResult:
    call: IncidentCall
    incident: Incident | None
    merged: bool
    duplicates: list[Duplicate]
    related: list[Duplicate] = field(default_factory=list)


def create_or_merge(
    session: Session,
    actor: Actor,
    call: IncidentCall,
    *,
    incident_type: str,
    level: int,
    at: datetime | None = None,
    venue_category: str = "",
    venue_id: int | None = None,
    incident_id: int | None = None,
    rules: MergeRules | None = None,
) -> IntakeResult:
    """Automatic intake (110 transfers, alarms, replays) by the merge rules: a forwarded
    alarm joins an open incident of its own venue, a call the nearest compatible open
    incident (looked for city-wide: one fire near a town border is one incident); else a
    new incident is opened and linked to the open incidents near it as "possibly related".
    """
    at = at or call.received_at
    if call.lon is None or call.lat is None:
        raise ValidationFailed(
            "the call has no location",
            {"call_id": call.id},
            text=TextCode.LOCATION_MISSING,
            params={"kind": "call", "id": call.id},
        )
    rules = rules or active_merge_rules()
    if call.source == "alarm":
        if call.venue_id is None and venue_id is not None:
            call.venue_id = venue_id
        duplicates = same_venue_incidents(session, call, rules.alarm)
    else:
        duplicates = find_duplicates(
            session,
            call.lon,
            call.lat,
            call.received_at,
            scope_path="/",
            incident_type=incident_type,
            rule=rules.call,
        )
    if duplicates:
        incident = merge_into(session, actor, call, duplicates[0].incident, at=at)
        return IntakeResult(call, incident, True, duplicates)
    incident = create_incident(
        session,
        actor,
        call,
        incident_type=incident_type,
        level=level,
        at=at,
        venue_category=venue_category,
        venue_id=venue_id,
        incident_id=incident_id,
    )
    related = find_related(session, incident, rules.related)
    record_related(session, actor, incident, related, at)
    return IntakeResult(call, incident, False, duplicates, related)


def take_call(
    session: Session,
    actor: Actor,
    data: CallData,
    *,
    scope_path: str,
    incident_type: str | None,
    level: int,
    auto: bool,
) -> IntakeResult:
    """A 119 call: record it; with ``auto`` open or merge at once, else leave it pending for
    the taker to decide (duplicates and candidates are shown)."""
    call = receive_call(session, actor, data, scope_path=scope_path)
    session.flush()
    if call.lon is None or call.lat is None:
        return IntakeResult(call, None, False, [])
    if auto and incident_type:
        return create_or_merge(
            session,
            actor,
            call,
            incident_type=incident_type,
            level=level,
            venue_category=data.venue_category,
            venue_id=data.venue_id,
        )
    # offered for merging: only incidents the call taker may see (and so merge into)
    duplicates = find_duplicates(
        session,
        call.lon,
        call.lat,
        call.received_at,
        scope_path=scope_path,
        incident_type=incident_type or "",
    )
    return IntakeResult(call, None, False, duplicates)


def transfer_from_110(
    session: Session,
    actor: Actor,
    data: CallData,
    *,
    incident_type: str,
    level: int,
    scope_path: str = "/",
) -> IntakeResult:
    """A transfer from the 110 centre: idempotent by its reference; opens or merges.

    Like a call, a transfer located outside the caller's jurisdiction is refused.
    """
    data.source = "transfer_110"
    if not data.external_ref:
        raise ValidationFailed(
            "a 110 transfer needs its reference (external_ref)",
            text=TextCode.VALIDATION_MISSING,
            params={"field": "external_ref"},
        )
    existing = session.scalars(
        select(IncidentCall).where(
            IncidentCall.source == "transfer_110", IncidentCall.external_ref == data.external_ref
        )
    ).first()
    if existing is not None:
        if not existing.jurisdiction_path.startswith(scope_path):
            raise ValidationFailed(
                "the call's location lies outside your jurisdiction: transfer it",
                {"external_ref": data.external_ref},
                text=TextCode.CALL_OUTSIDE_JURISDICTION,
                params={},
            )
        incident = session.get(Incident, existing.incident_id) if existing.incident_id else None
        return IntakeResult(existing, incident, existing.status == "merged", [])
    call = receive_call(session, actor, data, scope_path=scope_path)
    return create_or_merge(
        session,
        actor,
        call,
        incident_type=incident_type,
        level=level,
        venue_category=data.venue_category,
        venue_id=data.venue_id,
    )


# What the call taker sees ----------------------------------------------------------------


def _device_states(session: Session, venue_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Devices of the venues with their live state (when the devices context has it)."""
    from firegrid.devices.public import Device

    out: dict[int, list[dict[str, Any]]] = {v: [] for v in venue_ids}
    if not venue_ids:
        return out
    devices = session.scalars(
        select(Device).where(Device.venue_id.in_(venue_ids), Device.deleted_at.is_(None))
    ).all()
    states: dict[int, Any] = {}
    try:
        from firegrid.devices.public import DeviceStateRow

        if sa_inspect(session.get_bind()).has_table(DeviceStateRow.__tablename__):
            rows = session.scalars(
                select(DeviceStateRow).where(DeviceStateRow.device_id.in_([d.id for d in devices]))
            ).all()
            states = {r.device_id: r for r in rows}
    except ImportError:  # pragma: no cover - devices context without live state
        states = {}
    for device in devices:
        state = states.get(device.id)
        out[device.venue_id].append(
            {
                "device_id": device.id,
                "code": device.code,
                "kind": device.kind,
                "install_location": device.install_location,
                "online": None if state is None else state.online,
                "alarms": None if state is None else state.alarms,
                "faults": None if state is None else state.faults,
                "last_seen": None
                if state is None or state.last_seen is None
                else state.last_seen.isoformat(),
            }
        )
    return out


def venues_near(
    session: Session,
    lon: float,
    lat: float,
    *,
    scope_path: str = "/",
    radius_m: float = VENUE_RADIUS_M,
) -> list[dict[str, Any]]:
    """Venues within ``radius_m`` with their buildings and device states, nearest first."""
    dlat = radius_m / 111_000.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    venues = session.scalars(
        select(Venue).where(
            Venue.deleted_at.is_(None),
            Venue.lat.between(lat - dlat, lat + dlat),
            Venue.lon.between(lon - dlon, lon + dlon),
            Venue.jurisdiction_path.startswith(scope_path, autoescape=True),
        )
    ).all()
    near = sorted(
        ((haversine_m(lon, lat, v.lon, v.lat), v) for v in venues), key=lambda p: (p[0], p[1].id)
    )
    near = [(d, v) for d, v in near if d <= radius_m][:20]
    ids = [v.id for _, v in near]
    buildings: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for b in session.scalars(
            select(Building).where(Building.venue_id.in_(ids), Building.deleted_at.is_(None))
        ).all():
            buildings[b.venue_id].append(b.summary())
    devices = _device_states(session, ids)
    return [
        {
            **venue_summary(v),
            "distance_m": round(d, 1),
            "buildings": buildings[v.id],
            "devices": devices[v.id],
        }
        for d, v in near
    ]


def venue_summary(v: Venue) -> dict[str, Any]:
    return {
        "venue_id": v.id,
        "code": v.code,
        "name": v.name,
        "address": v.address,
        "category": v.category,
        "is_key_unit": v.is_key_unit,
        "is_high_risk": v.is_high_risk,
        "floors": v.floors,
        "floor_area_m2": v.floor_area_m2,
        "occupancy": v.occupancy,
        "night_occupancy": v.night_occupancy,
        "construction_class": v.construction_class,
        "contact_name": v.contact_name,
        "contact_phone": v.contact_phone,
        "lon": v.lon,
        "lat": v.lat,
    }


def call_dict(call: IncidentCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "incident_id": call.incident_id,
        "source": call.source,
        "status": call.status,
        "caller_number": call.caller_number,
        "address_text": call.address_text,
        "lon": call.lon,
        "lat": call.lat,
        "jurisdiction_path": call.jurisdiction_path,
        "incident_type": call.incident_type,
        "venue_category": call.venue_category,
        "venue_id": call.venue_id,
        "description": call.description,
        "external_ref": call.external_ref,
        "geocode": call.geocode,
        "received_at": call.received_at.isoformat(),
        "taken_by": call.taken_by,
    }


def intake_view(session: Session, result: IntakeResult, scope_path: str) -> dict[str, Any]:
    """The call, its duplicates and the venues near it, for the call taker's screen."""
    call = result.call
    rules = active_merge_rules()
    candidates: list[dict[str, Any]] = []
    if call.lon is not None and call.lat is not None:
        candidates = venues_near(session, call.lon, call.lat, scope_path=scope_path)
    return {
        "call": call_dict(call),
        "incident_id": result.incident.id if result.incident else None,
        "merged": result.merged,
        "possible_duplicates": [d.as_dict() for d in result.duplicates],
        "possibly_related": [
            d.as_dict()
            for d in result.related
            if d.incident.jurisdiction_path.startswith(scope_path)
        ],
        "duplicate_rule": {
            "radius_m": rules.call.radius_m,
            "window_s": rules.call.window_s,
        },
        "venues_nearby": candidates,
    }
