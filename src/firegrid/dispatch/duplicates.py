"""Possible duplicates and possibly related incidents of a new call.

The rules are data (:mod:`firegrid.dispatch.merge_rules`):

- a forwarded alarm merges only into an open incident of its own venue
  (:func:`same_venue_incidents`);
- a 119 call or 110 transfer merges into an open incident near it, recent and of a
  compatible type (:func:`find_duplicates`);
- an incident opened next to other open ones is linked to them as "possibly related"
  (:func:`record_related`): a timeline entry on each, with the distance, for the
  dispatcher to judge — never a merge.

Merging keeps the call (it is linked to the incident with status ``merged``) and records it
on the incident's timeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from firegrid.core.errors import Conflict
from firegrid.core.texts import TextCode
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import Incident, IncidentCall
from firegrid.dispatch.merge_rules import (
    AlarmRule,
    CallRule,
    RelatedRule,
    active_merge_rules,
)
from firegrid.dispatch.states import OPEN_INCIDENT, IncidentStatus
from firegrid.dispatch.timeline import Actor

EARTH_RADIUS_M = 6_371_008.8
OPEN_STATUSES = sorted(s.value for s in OPEN_INCIDENT)
RELATED = "possibly_related"


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Duplicate:
    incident: Incident
    distance_m: float

    def as_dict(self) -> dict[str, object]:
        inc = self.incident
        return {
            "incident_id": inc.id,
            "incident_type": inc.incident_type,
            "level": inc.level,
            "status": inc.status,
            "address": inc.address,
            "venue_id": inc.venue_id,
            "distance_m": round(self.distance_m, 1),
            "last_call_at": inc.last_call_at.isoformat(),
            "call_count": inc.call_count,
        }


# built once: a call is taken every few seconds at peak
_CANDIDATES = select(Incident).where(
    Incident.status.in_(OPEN_STATUSES),  # IN, not !=: the (status, time) index serves
    Incident.last_call_at.between(bindparam("t0"), bindparam("t1")),
    Incident.lat.between(bindparam("lat0"), bindparam("lat1")),
    Incident.lon.between(bindparam("lon0"), bindparam("lon1")),
)
_CANDIDATES_IN_SCOPE = _CANDIDATES.where(
    Incident.jurisdiction_path.like(bindparam("scope"), escape="\\")
)
_SAME_VENUE = select(Incident).where(
    Incident.status.in_(OPEN_STATUSES), Incident.venue_id == bindparam("venue_id")
)


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _pending(session: Session, scope_path: str = "/") -> list[Incident]:
    """Incidents opened in this session and not written yet (bulk writers)."""
    return [
        obj
        for obj in session.new
        if isinstance(obj, Incident) and obj.jurisdiction_path.startswith(scope_path)
    ]


def open_near(
    session: Session,
    lon: float,
    lat: float,
    at: datetime,
    *,
    radius_m: float,
    window: timedelta,
    scope_path: str = "/",
) -> list[Duplicate]:
    """Open incidents within ``radius_m`` whose last call is within ``window`` of ``at``,
    nearest first."""
    dlat = radius_m / 111_000.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    # the SQL filter is wider than the rule: rows already in the session may hold newer
    # values (a merge moves last_call_at, a close the status) that are checked below
    params = {
        "t0": at - 2 * window,
        "t1": at + 2 * window,
        "lat0": lat - dlat,
        "lat1": lat + dlat,
        "lon0": lon - dlon,
        "lon1": lon + dlon,
    }
    if scope_path == "/":
        rows = session.scalars(_CANDIDATES, params).all()
    else:
        params["scope"] = _like_prefix(scope_path)
        rows = session.scalars(_CANDIDATES_IN_SCOPE, params).all()
    found = []
    for incident in {id(i): i for i in [*rows, *_pending(session, scope_path)]}.values():
        if incident.status == IncidentStatus.CLOSED:
            continue
        distance = haversine_m(lon, lat, incident.lon, incident.lat)
        if distance <= radius_m and abs(at - incident.last_call_at) <= window:
            found.append(Duplicate(incident, distance))
    found.sort(key=lambda d: (d.distance_m, d.incident.id or 0))
    return found


def find_duplicates(
    session: Session,
    lon: float,
    lat: float,
    at: datetime,
    *,
    scope_path: str = "/",
    incident_type: str = "",
    rule: CallRule | None = None,
) -> list[Duplicate]:
    """Open incidents a 119 call or 110 transfer may belong to (the call rule), nearest
    first."""
    rule = rule or active_merge_rules().call
    return [
        d
        for d in open_near(
            session, lon, lat, at, radius_m=rule.radius_m, window=rule.window, scope_path=scope_path
        )
        if rule.compatible(incident_type, d.incident.incident_type)
    ]


def same_venue_incidents(
    session: Session,
    call: IncidentCall,
    rule: AlarmRule | None = None,
) -> list[Duplicate]:
    """Open incidents of the call's venue a forwarded alarm merges into, latest call first.

    No venue, no merge: an alarm is never merged by distance alone.
    """
    if call.venue_id is None:
        return []
    rule = rule or active_merge_rules().alarm
    window = rule.same_venue_window
    rows = session.scalars(_SAME_VENUE, {"venue_id": call.venue_id}).all()
    found = []
    for incident in {id(i): i for i in [*rows, *_pending(session)]}.values():
        if incident.venue_id != call.venue_id or incident.status == IncidentStatus.CLOSED:
            continue
        if window is not None and abs(call.received_at - incident.last_call_at) > window:
            continue
        distance = (
            0.0
            if call.lon is None or call.lat is None
            else haversine_m(call.lon, call.lat, incident.lon, incident.lat)
        )
        found.append(Duplicate(incident, distance))
    found.sort(key=lambda d: (-d.incident.last_call_at.timestamp(), d.incident.id or 0))
    return found


def find_related(
    session: Session, incident: Incident, rule: RelatedRule | None = None
) -> list[Duplicate]:
    """Other open incidents near a new one (city-wide): the "possibly related"."""
    rule = rule or active_merge_rules().related
    return [
        d
        for d in open_near(
            session,
            incident.lon,
            incident.lat,
            incident.last_call_at,
            radius_m=rule.radius_m,
            window=rule.window,
        )
        if d.incident is not incident
    ]


def record_related(
    session: Session, actor: Actor, incident: Incident, related: list[Duplicate], at: datetime
) -> None:
    """A ``possibly_related`` timeline entry on the new incident and on each related one."""
    rows = []
    for d in related:
        other = d.incident
        distance = round(d.distance_m, 1)
        rows.append(
            timeline.record(
                incident,
                RELATED,
                at,
                actor,
                f"incident {other.id} is {distance:g} m away",
                cause_text=timeline.cause(
                    TextCode.TIMELINE_RELATED_NEARBY,
                    f"incident {other.id} is {distance:g} m away",
                    incident_id=other.id,
                    distance_m=distance,
                ),
                details={
                    "incident_id": other.id,
                    "distance_m": distance,
                    "venue_id": other.venue_id,
                },
            )
        )
        rows.append(
            timeline.record(
                other,
                RELATED,
                at,
                actor,
                f"incident {incident.id} is {distance:g} m away",
                details={
                    "incident_id": incident.id,
                    "distance_m": distance,
                    "venue_id": incident.venue_id,
                },
            )
        )
    timeline.write(session, *rows)


def merge_call(
    session: Session, actor: Actor, call: IncidentCall, incident: Incident, *, at: datetime
) -> Incident:
    """Attach a call to an open incident (the call is kept)."""
    if call.incident_id is not None:
        raise Conflict(
            f"call {call.id} already belongs to incident {call.incident_id}",
            text=TextCode.CALL_ALREADY_LINKED,
            params={"call_id": call.id, "incident_id": call.incident_id},
        )
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(
            f"incident {incident.id} is closed; open a new one",
            text=TextCode.INCIDENT_CLOSED,
            params={"incident_id": incident.id},
        )
    call.incident_id = incident.id
    call.status = "merged"
    incident.call_count += 1
    incident.last_call_at = max(incident.last_call_at, call.received_at)
    timeline.write(
        session,
        timeline.record(
            incident,
            "call_merged",
            at,
            actor,
            f"{call.source} call merged",
            details={"caller_number": call.caller_number, "external_ref": call.external_ref},
        ),
    )
    return incident
