"""Possible duplicates: a call near an open incident, soon after its last call.

A call within :attr:`DuplicateRule.radius_m` metres and :attr:`DuplicateRule.window` of the
last call of an open incident is offered for merging. Merging keeps the call (it is linked
to the incident with status ``merged``) and records it on the incident's timeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from firegrid.core.errors import Conflict
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import Incident, IncidentCall
from firegrid.dispatch.states import OPEN_INCIDENT, IncidentStatus
from firegrid.dispatch.timeline import Actor

EARTH_RADIUS_M = 6_371_008.8
OPEN_STATUSES = sorted(s.value for s in OPEN_INCIDENT)


@dataclass(frozen=True)
class DuplicateRule:
    radius_m: float = 300.0
    window: timedelta = timedelta(minutes=30)

    def matches(self, distance_m: float, call_at: datetime, last_call_at: datetime) -> bool:
        return distance_m <= self.radius_m and abs(call_at - last_call_at) <= self.window


DEFAULT_RULE = DuplicateRule()


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


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def find_duplicates(
    session: Session,
    lon: float,
    lat: float,
    at: datetime,
    *,
    scope_path: str = "/",
    rule: DuplicateRule = DEFAULT_RULE,
) -> list[Duplicate]:
    """Open incidents the call may belong to, nearest first."""
    dlat = rule.radius_m / 111_000.0
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    # the SQL filter is wider than the rule: rows already in the session may hold newer
    # values (a merge moves last_call_at, a close the status) that the rule checks below
    params = {
        "t0": at - 2 * rule.window,
        "t1": at + 2 * rule.window,
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
    # incidents opened in this session and not written yet count too (bulk writers)
    pending = [
        obj
        for obj in session.new
        if isinstance(obj, Incident) and obj.jurisdiction_path.startswith(scope_path)
    ]
    found = []
    for incident in [*rows, *pending]:
        if incident.status == IncidentStatus.CLOSED:
            continue
        distance = haversine_m(lon, lat, incident.lon, incident.lat)
        if rule.matches(distance, at, incident.last_call_at):
            found.append(Duplicate(incident, distance))
    found.sort(key=lambda d: (d.distance_m, d.incident.id))
    return found


def merge_call(
    session: Session, actor: Actor, call: IncidentCall, incident: Incident, *, at: datetime
) -> Incident:
    """Attach a call to an open incident (the call is kept)."""
    if call.incident_id is not None:
        raise Conflict(f"call {call.id} already belongs to incident {call.incident_id}")
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(f"incident {incident.id} is closed; open a new one")
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
