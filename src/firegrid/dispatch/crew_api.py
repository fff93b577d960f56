"""A phone-friendly API for crews: the unit's assignment with route and pre-plan, and status
buttons. One small JSON document per call; every route is scoped to the crew's forces."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.api.schemas import Geometry
from firegrid.core.errors import DomainError
from firegrid.dispatch import incident_schemas as s
from firegrid.dispatch import incidents
from firegrid.dispatch.duplicates import haversine_m
from firegrid.dispatch.incident_api import engine_of, geo_of, set_unit_status, unit_dict
from firegrid.dispatch.incident_models import Incident
from firegrid.dispatch.incident_schemas import IncidentOut, UnitOut
from firegrid.dispatch.intake import venue_summary, venues_near
from firegrid.dispatch.models import Hydrant, HydrantStatus, Station
from firegrid.geo.public import GeoError
from firegrid.geo.service import GeoContext
from firegrid.places.public import Building, Venue

router = APIRouter(prefix="/crew", tags=["crew"])


class RouteOut(BaseModel):
    """The unit's route to the incident, or why there is none."""

    travel_time_s: float | None = None
    distance_m: float | None = None
    geometry: Geometry | None = None
    error: str | None = None


class HydrantNearby(BaseModel):
    id: int
    code: str
    status: HydrantStatus
    flow_lps: float
    lon: float
    lat: float
    distance_m: float


class Preplan(BaseModel):
    venue: dict[str, Any] | None = Field(description="The venue with its buildings.")
    venues_nearby: list[dict[str, Any]]
    hydrants: list[HydrantNearby]


class MyUnitOut(BaseModel):
    unit: UnitOut
    incident: IncidentOut | None
    route: RouteOut | None = None
    preplan: Preplan | None = None
    plan: dict[str, Any] | None = Field(
        None,
        description="The venue's published pre-incident plan, live (devices, open alarms, "
        "hydrants by road, route), when the unit is dispatched to a planned venue "
        "(preplans' LivePlan shape).",
    )


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


@router.get(
    "/vehicles/{vehicle_id}",
    response_model=MyUnitOut,
    response_model_exclude_unset=True,
    summary="My unit: its incident, route and pre-plan",
)
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
    # the published digital pre-plan, live (devices, open alarms, hydrants by road, route
    # from this unit): a crew reads it only through the incident it is dispatched to
    out["plan"] = None
    if incident.venue_id is not None:
        from firegrid.preplans.public import crew_plan

        try:
            context: GeoContext | None = geo_of(request)
        except DomainError:  # no road network: the plan without hydrants and route
            context = None
        out["plan"] = crew_plan(session, incident.venue_id, context)
    return out


@router.post(
    "/vehicles/{vehicle_id}/status",
    response_model=UnitOut,
    summary="Set my unit's status (and position)",
)
def my_status(
    vehicle_id: int, body: s.UnitStatusIn, principal: Crew, session: SessionDep
) -> dict[str, Any]:
    return set_unit_status(session, principal, vehicle_id, body)
