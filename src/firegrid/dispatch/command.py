"""Levels of command: escalation, regional joint defence (区域联防) and reinforcement (增援).

* The city centre sees and dispatches everything; a town post and a village post see the
  incidents of their area and dispatch their own forces (the stations under their scope).
* An incident is commanded by the post at :attr:`Incident.command_path`; escalation moves
  it one level up (village -> town -> city), recorded on the timeline.
* Joint defence: the town of an incident asks a neighbouring town for units; the request
  and the answer (accept with units, or decline) are recorded.
* Reinforcement: anyone working an incident asks its command post for more units; the
  post answers the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import AidRequest, Incident
from firegrid.dispatch.incidents import (
    check_command,
    command_level_of,
    dispatch_units,
    path_parts,
    path_prefix,
)
from firegrid.dispatch.plans import Plan, parse_requirements
from firegrid.dispatch.recommend import available_units, load_units, recommend_units, unit_etas
from firegrid.dispatch.states import IncidentStatus
from firegrid.geo.engine import TravelTimeEngine
from firegrid.places.public import Jurisdiction, JurisdictionLevel

AID_KINDS = ("joint_defence", "reinforcement")
#: boundaries closer than this (degrees, ~100 m) count as neighbouring
NEIGHBOUR_TOLERANCE_DEG = 0.001


def escalate(
    session: Session,
    principal: Principal,
    incident: Incident,
    *,
    cause: str,
    new_level: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Move the command of an incident one level up; optionally raise its level."""
    check_command(principal, incident)
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(
            f"incident {incident.id} is closed",
            text=TextCode.INCIDENT_CLOSED,
            params={"incident_id": incident.id},
        )
    at = timeline.check_aware(at or utcnow())
    depth = len(path_parts(incident.command_path))
    entries = []
    if depth > 1:
        old = incident.command_path
        incident.command_path = path_prefix(old, depth - 1)
        incident.command_level = command_level_of(incident.command_path)
        entries.append(
            timeline.record(
                incident,
                "escalated",
                at,
                principal,
                cause,
                details={
                    "from": old,
                    "to": incident.command_path,
                    "command_level": incident.command_level,
                },
            )
        )
    elif new_level is None:
        raise Conflict(
            "the incident is already commanded by the city centre",
            text=TextCode.INCIDENT_ALREADY_CITY_COMMAND,
        )
    if new_level is not None:
        if not incident.level < new_level <= 5:
            raise ValidationFailed(
                f"new_level must be above the current level {incident.level} and at most 5",
                text=TextCode.VALIDATION_RANGE,
                params={"field": "new_level", "min": incident.level + 1, "max": 5},
            )
        entries.append(
            timeline.record(
                incident,
                "level_changed",
                at,
                principal,
                cause,
                details={"from": incident.level, "to": new_level},
            )
        )
        incident.level = new_level
    timeline.write(session, *entries)
    return incident


def _town(session: Session, path: str) -> Jurisdiction | None:
    return session.scalars(
        select(Jurisdiction).where(
            Jurisdiction.path == path_prefix(path, 2), Jurisdiction.deleted_at.is_(None)
        )
    ).first()


def neighbours(session: Session, town_path: str) -> list[Jurisdiction]:
    """Towns whose boundary touches the town's (all other towns when boundaries are
    missing)."""
    town = _town(session, town_path)
    others = session.scalars(
        select(Jurisdiction).where(
            Jurisdiction.level == JurisdictionLevel.TOWN.value,
            Jurisdiction.deleted_at.is_(None),
            Jurisdiction.path != path_prefix(town_path, 2),
        )
    ).all()
    if town is None or not town.boundary:
        return list(others)
    mine = shape(town.boundary).buffer(NEIGHBOUR_TOLERANCE_DEG)
    shapely.prepare(mine)
    return [o for o in others if not o.boundary or mine.intersects(shape(o.boundary))]


def request_joint_defence(
    session: Session,
    principal: Principal,
    incident: Incident,
    *,
    to_town_code: str,
    requirements: Sequence[Mapping[str, Any]],
    note: str = "",
    at: datetime | None = None,
) -> AidRequest:
    """A town asks a neighbouring town for units for one of its incidents."""
    check_command(principal, incident)
    at = timeline.check_aware(at or utcnow())
    parse_requirements(requirements)
    own_town = path_prefix(incident.jurisdiction_path, 2)
    target = session.scalars(
        select(Jurisdiction).where(
            Jurisdiction.code == to_town_code, Jurisdiction.deleted_at.is_(None)
        )
    ).first()
    if target is None or target.level != JurisdictionLevel.TOWN.value:
        raise ValidationFailed(
            f"{to_town_code!r} is not a town",
            {"to_town_code": to_town_code},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "town", "id": to_town_code},
        )
    if target.path == own_town:
        raise ValidationFailed(
            "ask a neighbouring town, not the incident's own town",
            text=TextCode.AID_OWN_TOWN,
            params={},
        )
    if target.id not in {t.id for t in neighbours(session, own_town)}:
        raise ValidationFailed(
            f"town {to_town_code} does not neighbour the incident's town",
            {"to_town_code": to_town_code},
            text=TextCode.AID_NOT_NEIGHBOUR,
            params={"town": to_town_code},
        )
    return _file_aid_request(
        session,
        principal,
        incident,
        kind="joint_defence",
        from_path=own_town,
        to_path=target.path,
        requirements=requirements,
        note=note,
        at=at,
        event="aid_requested",
        details={"to": target.path, "kind": "joint_defence"},
    )


def request_reinforcement(
    session: Session,
    principal: Principal,
    incident: Incident,
    *,
    requirements: Sequence[Mapping[str, Any]],
    note: str = "",
    at: datetime | None = None,
) -> AidRequest:
    """Ask the incident's command post for more units (a running incident)."""
    if incident.status in (IncidentStatus.CLOSED, IncidentStatus.CREATED):
        raise Conflict(
            f"incident {incident.id} is not running ({incident.status})",
            text=TextCode.INCIDENT_NOT_RUNNING,
            params={"incident_id": incident.id, "status": incident.status},
        )
    at = timeline.check_aware(at or utcnow())
    parse_requirements(requirements)
    return _file_aid_request(
        session,
        principal,
        incident,
        kind="reinforcement",
        from_path=principal.scope_path,
        to_path=incident.command_path,
        requirements=requirements,
        note=note,
        at=at,
        event="reinforcement_requested",
        details={"to": incident.command_path},
    )


def _file_aid_request(
    session: Session,
    principal: Principal,
    incident: Incident,
    *,
    kind: str,
    from_path: str,
    to_path: str,
    requirements: Sequence[Mapping[str, Any]],
    note: str,
    at: datetime,
    event: str,
    details: dict[str, Any],
) -> AidRequest:
    """Record an aid request and its timeline entry (the note defaults to the kind)."""
    request = AidRequest(
        incident_id=incident.id,
        kind=kind,
        from_path=from_path,
        to_path=to_path,
        requirements=[dict(r) for r in requirements],
        note=note[:300],
        requested_at=at,
        requested_by=timeline.actor_name(principal),
        vehicle_ids=[],
    )
    session.add(request)
    session.flush()
    timeline.write(
        session,
        timeline.record(
            incident,
            event,
            at,
            principal,
            note or kind.replace("_", " "),
            details={"aid_request_id": request.id, **details},
            cause_text=None
            if note
            else timeline.cause(TextCode.TIMELINE_AID_KIND, kind.replace("_", " "), kind=kind),
        ),
    )
    return request


def incoming_requests(
    session: Session, principal: Principal, status: str | None = None
) -> list[AidRequest]:
    """Requests addressed to the caller's area (or below it), newest first."""
    query = select(AidRequest).where(
        AidRequest.to_path.startswith(principal.scope_path, autoescape=True)
    )
    if status:
        query = query.where(AidRequest.status == status)
    return list(session.scalars(query.order_by(AidRequest.id.desc()).limit(500)).all())


def get_request(session: Session, principal: Principal, request_id: int) -> AidRequest:
    request = session.get(AidRequest, request_id)
    if request is None or not (
        request.to_path.startswith(principal.scope_path)
        or request.from_path.startswith(principal.scope_path)
    ):
        raise NotFound(
            f"aid request {request_id} not found",
            {"id": request_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "aid_request", "id": request_id},
        )
    return request


def chosen_etas(
    session: Session,
    engine: TravelTimeEngine,
    forces: str,
    vehicle_ids: Sequence[int],
    lon: float,
    lat: float,
) -> dict[int, float]:
    """ETA (s) of the given available units to the point; unreachable ones are left out."""
    wanted = set(vehicle_ids)
    units = [u for u in load_units(session, forces) if u.id in wanted]
    if not units:
        return {}
    eta, _origin = unit_etas(engine, units, lon, lat)
    return {u.id: float(t) for u, t in zip(units, eta, strict=True) if np.isfinite(t)}


def answer_request(
    session: Session,
    principal: Principal,
    request: AidRequest,
    *,
    accept: bool,
    engine: TravelTimeEngine | None = None,
    vehicle_ids: Sequence[int] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> AidRequest:
    """Accept (sending the given units, or the recommended ones) or decline a request."""
    if not request.to_path.startswith(principal.scope_path):
        raise NotFound(
            f"aid request {request.id} not found",
            {"id": request.id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "aid_request", "id": request.id},
        )
    if request.status != "pending":
        raise Conflict(
            f"aid request {request.id} was already answered ({request.status})",
            text=TextCode.AID_ALREADY_ANSWERED,
            params={"request_id": request.id, "status": request.status},
        )
    at = timeline.check_aware(at or utcnow())
    incident = session.get(Incident, request.incident_id)
    assert incident is not None
    # joint defence is answered with the forces of the town asked (whoever answers for it);
    # reinforcement with the answering post's own forces
    forces = (
        max(request.to_path, principal.scope_path, key=len)
        if request.kind == "joint_defence"
        else principal.scope_path
    )
    sent: list[int] = []
    if accept:
        ids = list(vehicle_ids or [])
        etas: dict[int, float] = {}
        reasons: dict[int, str] = {}
        if not ids:
            if engine is None:
                raise ValidationFailed(
                    "give vehicle_ids (no travel-time engine to recommend)",
                    text=TextCode.VALIDATION_MISSING,
                    params={"field": "vehicle_ids"},
                )
            plan = Plan(
                incident.incident_type,
                incident.venue_category,
                incident.level,
                parse_requirements(request.requirements),
            )
            units = available_units(session, forces)
            rec = recommend_units(engine, plan, units, incident.lon, incident.lat)
            ids = rec.vehicle_ids
            etas = {c.vehicle_id: c.eta_s for c in rec.chosen}
            reasons = {c.vehicle_id: f"{request.kind}: {c.reason}" for c in rec.chosen}
            if not ids:
                raise Conflict(
                    "no available unit of your forces meets the request; decline it instead",
                    {"missing": list(rec.missing)},
                    text=TextCode.AID_NO_UNIT,
                )
        elif engine is not None:  # units chosen by hand still get their ETA
            etas = chosen_etas(session, engine, forces, ids, incident.lon, incident.lat)
        dispatch_units(
            session,
            principal,
            incident,
            ids,
            forces_path=forces,
            at=at,
            etas=etas,
            reasons=reasons,
            via=request.kind,
            aid_request_id=request.id,
            cause=f"{request.kind} request {request.id} accepted",
        )
        sent = ids
    request.status = "accepted" if accept else "declined"
    request.answered_at = at
    request.answered_by = timeline.actor_name(principal)
    request.answer_note = note[:300]
    request.vehicle_ids = sent
    timeline.write(
        session,
        timeline.record(
            incident,
            "aid_answered",
            at,
            principal,
            note or request.status,
            details={"aid_request_id": request.id, "status": request.status, "vehicle_ids": sent},
            cause_text=None
            if note
            else timeline.cause(
                TextCode.TIMELINE_AID_ANSWER, request.status, status=request.status
            ),
        ),
    )
    return request


def request_dict(request: AidRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "incident_id": request.incident_id,
        "kind": request.kind,
        "from_path": request.from_path,
        "to_path": request.to_path,
        "requirements": request.requirements,
        "note": request.note,
        "status": request.status,
        "requested_at": request.requested_at.isoformat(),
        "requested_by": request.requested_by,
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        "answered_by": request.answered_by,
        "answer_note": request.answer_note,
        "vehicle_ids": request.vehicle_ids,
    }
