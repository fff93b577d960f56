"""The live plan: the published document with the venue's devices and open alarms as they
are now, the hydrants within reach by road, and a route (from a unit's position, or from
the first-due station). Reads the devices and alarms contexts through their read APIs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, system_principal
from firegrid.alarms.lifecycle import alarm_dict
from firegrid.alarms.queries import list_alarms
from firegrid.core.clock import utcnow
from firegrid.devices.commissioning import device_health
from firegrid.devices.public import Device
from firegrid.geo.bounded_route import route_within
from firegrid.geo.public import GeoError
from firegrid.geo.service import STATIONS, GeoContext
from firegrid.places.public import Venue
from firegrid.preplans import service
from firegrid.preplans.models import Preplan, PreplanVersion
from firegrid.preplans.water import hydrants_by_road

MAX_DEVICES = 500
MAX_ALARMS = 50


@dataclass(frozen=True)
class Origin:
    """Where a route starts: a unit's GPS fix or a station."""

    kind: str  # "unit" or "station"
    lon: float
    lat: float
    label: str = ""
    #: a known upper bound of the travel time (the station tree's), to bound the search
    travel_time_s: float | None = None


def devices_now(session: Session, venue_id: int, now: datetime) -> list[dict[str, Any]]:
    """The venue's registered devices with their health now (devices' read API)."""
    rows = device_health(session, Device.venue_id == venue_id, now=now, limit=MAX_DEVICES)
    return [
        {k: r[k] for k in ("device_id", "code", "kind", "health", "online", "last_seen")}
        for r in rows
    ]


def open_alarms(session: Session, venue_id: int, principal: Principal) -> list[dict[str, Any]]:
    """The venue's open alarms (alarms' read API)."""
    rows = list_alarms(session, principal, venue_id=venue_id, open_only=True, limit=MAX_ALARMS)
    keep = ("alarm_id", "kind", "status", "device_id", "device_kind", "opened_at")
    return [{k: alarm_dict(a)[k] for k in keep} for a in rows]


def first_due(context: GeoContext, lon: float, lat: float) -> Origin | None:
    """The station that reaches the point first by road, if any reaches it."""
    try:
        nearest = context.engine.k_nearest(STATIONS, lon, lat, 1)
    except GeoError:
        return None
    if not nearest:
        return None
    info = context.station(int(nearest[0].facility_id))
    return Origin(
        "station", info.lon, info.lat, f"{info.code} {info.name}", nearest[0].travel_time_s
    )


def route_dict(context: GeoContext, origin: Origin, venue: Venue) -> dict[str, Any]:
    start, end = (origin.lon, origin.lat), (venue.lon, venue.lat)
    try:
        if origin.travel_time_s is not None and math.isfinite(origin.travel_time_s):
            route = route_within(context.engine, start, end, origin.travel_time_s)
        else:
            route = context.engine.route(start, end)
    except GeoError as err:
        return {"from": origin.kind, "label": origin.label, "error": str(err)}
    return {
        "from": origin.kind,
        "label": origin.label,
        "travel_time_s": round(route.travel_time_s, 1),
        "distance_m": round(route.distance_m, 1),
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in route.coordinates]},
    }


def live_plan(
    session: Session,
    plan: Preplan,
    venue: Venue,
    context: GeoContext | None,
    *,
    version: PreplanVersion | None = None,
    origin: Origin | None = None,
    principal: Principal | None = None,
    now: datetime | None = None,
    with_route: bool = True,
) -> dict[str, Any]:
    """The plan (``version``, else the published one) with what is true now.

    ``context`` may be ``None`` (no road network): hydrants and route are then left out
    with a reason, never invented.
    """
    now = now or utcnow()
    row = version or service.published_version(session, plan)
    out: dict[str, Any] = {
        "plan": service.plan_dict(plan, venue, now),
        "venue": {
            "venue_id": venue.id,
            "code": venue.code,
            "name": venue.name,
            "address": venue.address,
            "category": venue.category,
            "lon": venue.lon,
            "lat": venue.lat,
            "contact_name": venue.contact_name,
            "contact_phone": venue.contact_phone,
        },
        "version": None if row is None else service.version_dict(row),
        "attachments": [
            service.attachment_dict(a) for a in service.list_attachments(session, plan)
        ],
        "devices": devices_now(session, venue.id, now),
        "open_alarms": open_alarms(session, venue.id, principal or system_principal("preplans")),
        "as_of": now.isoformat(),
    }
    if context is None:
        out["hydrants"] = []
        out["route"] = None
        out["geo_unavailable"] = "no road network"
        return out
    out["hydrants"] = hydrants_by_road(session, context.engine, venue.lon, venue.lat)
    if not with_route:
        out["route"] = None
        return out
    start = origin or first_due(context, venue.lon, venue.lat)
    out["route"] = None if start is None else route_dict(context, start, venue)
    return out
