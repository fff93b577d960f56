"""A phone-friendly API for crews: the unit's assignment with route and pre-plan, and status
buttons. One small JSON document per call; every route is scoped to the crew's forces."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.dispatch import incident_schemas as s
from firegrid.dispatch import incidents
from firegrid.dispatch.duplicates import haversine_m
from firegrid.dispatch.incident_api import engine_of, set_unit_status, unit_dict
from firegrid.dispatch.incident_models import Incident
from firegrid.dispatch.intake import venue_summary, venues_near
from firegrid.dispatch.models import Hydrant, Station
from firegrid.geo.public import GeoError
from firegrid.places.public import Building, Venue

router = APIRouter(prefix="/crew", tags=["crew"])

Crew = Annotated[Principal, Depends(require("units:status"))]
HYDRANT_RADIUS_M = 300.0


def preplan(session: Session, incident: Incident) -> dict[str, Any]:
    """What a crew needs on arrival: the venue and its buildings, and the nearest hydrants."""
    venue_info: dict[str, Any] | None = None
    if incident.venue_id is not None:
        venue = session.get(Venue, incident.venue_id)
        if venue is not None:
            buildings = session.scalars(
                select(Building).where(Building.venue_id == venue.id, Building.deleted_at.is_(None))
            ).all()
            venue_info = {
                **venue_summary(venue),
                "buildings": [b.summary() for b in buildings],
            }
    dlat = HYDRANT_RADIUS_M / 111_000.0
    dlon = dlat / max(math.cos(math.radians(incident.lat)), 0.01)
    hydrants = session.scalars(
        select(Hydrant).where(
            Hydrant.deleted_at.is_(None),
            Hydrant.lat.between(incident.lat - dlat, incident.lat + dlat),
            Hydrant.lon.between(incident.lon - dlon, incident.lon + dlon),
        )
    ).all()
    near = sorted(
        ((haversine_m(incident.lon, incident.lat, h.lon, h.lat), h) for h in hydrants),
        key=lambda p: (p[0], p[1].id),
    )[:10]
    return {
        "venue": venue_info,
        "venues_nearby": [] if venue_info else venues_near(session, incident.lon, incident.lat),
        "hydrants": [
            {
                "id": h.id,
                "code": h.code,
                "status": h.status,
                "flow_lps": h.flow_lps,
                "lon": h.lon,
                "lat": h.lat,
                "distance_m": round(d, 1),
            }
            for d, h in near
            if d <= HYDRANT_RADIUS_M
        ],
    }


@router.get("/vehicles/{vehicle_id}", summary="My unit: its incident, route and pre-plan")
def my_unit(
    vehicle_id: int, request: Request, principal: Crew, session: SessionDep
) -> dict[str, Any]:
    vehicle = incidents.vehicle_in_scope(session, principal, vehicle_id)
    out: dict[str, Any] = {"unit": unit_dict(vehicle), "incident": None}
    if vehicle.incident_id is None:
        return out
    incident = session.get(Incident, vehicle.incident_id)
    assert incident is not None
    out["incident"] = incidents.incident_dict(incident)
    station = session.get(Station, vehicle.station_id)
    assert station is not None
    origin = (
        (vehicle.last_lon, vehicle.last_lat)
        if vehicle.last_lon is not None and vehicle.last_lat is not None
        else (station.lon, station.lat)
    )
    try:
        route = engine_of(request).route(origin, (incident.lon, incident.lat))
        out["route"] = {
            "travel_time_s": round(route.travel_time_s, 1),
            "distance_m": round(route.distance_m, 1),
            "geometry": {"type": "LineString", "coordinates": route.coordinates},
        }
    except GeoError as err:
        out["route"] = {"error": str(err)}
    out["preplan"] = preplan(session, incident)
    return out


@router.post("/vehicles/{vehicle_id}/status", summary="Set my unit's status (and position)")
def my_status(
    vehicle_id: int, body: s.UnitStatusIn, principal: Crew, session: SessionDep
) -> dict[str, Any]:
    return set_unit_status(session, principal, vehicle_id, body)
