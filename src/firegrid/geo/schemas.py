"""Response shapes of the geo API (routes, nearest stations, coverage, GeoJSON layers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from firegrid.api.schemas import Feature, Timestamp


class NetworkOut(BaseModel):
    """The active road network."""

    network_id: int
    source: str
    nodes: int
    edges: int
    dropped_nodes: int
    dropped_edges: int
    created_at: Timestamp


class RouteOut(BaseModel):
    travel_time_s: float
    distance_m: float
    node_ids: list[int]
    coordinates: list[list[float]] = Field(description="[lon, lat] in the request's CRS.")


class SkippedOut(BaseModel):
    """A facility left out because the road network does not reach it."""

    kind: str
    id: int
    code: str
    reason: str
    snap_distance_m: float
    limit_m: float


class NearestStation(BaseModel):
    station_id: int
    code: str
    name: str
    station_type: str
    travel_time_s: float
    lon: float
    lat: float


class NearestStationsOut(BaseModel):
    at: list[float] = Field(description="The point, WGS-84 [lon, lat].")
    items: list[NearestStation]
    skipped: list[SkippedOut]


class IsochroneProperties(BaseModel):
    time_s: float
    area_km2: float
    origin: Any = Field(description="The origin's label, or all labels when combined.")


class SkippedProperties(BaseModel):
    skipped: list[SkippedOut]


class IsochronesOut(BaseModel):
    """Isochrone polygons, one feature per band (and origin unless combined)."""

    type: Literal["FeatureCollection"]
    features: list[Feature[IsochroneProperties]]
    properties: SkippedProperties


class StationCoverage(BaseModel):
    station_id: int
    code: str
    name: str
    area_km2: float
    road_length_km: float
    venues_reached: int
    population_reached: float


class ZoneShare(BaseModel):
    path: str
    code: str
    venues: int
    venues_reached: int
    population: float
    population_reached: float
    share: float


class CoverageBand(BaseModel):
    minutes: float
    time_s: float
    stations: int
    area_km2: float
    road_length_km: float
    road_length_total_km: float
    nodes_reached: int
    venues: int
    venues_reached: int
    population: float
    population_reached: float
    per_station: list[StationCoverage]
    per_town: list[ZoneShare]
    per_grid: list[ZoneShare]


class CoverageOut(BaseModel):
    scope: str
    bands: list[CoverageBand]
    first_due: dict[str, Any] = Field(
        description="Venues per first-due station and travel-time percentiles ({} if none)."
    )
    skipped: list[SkippedOut]


class HydrantGapsOut(BaseModel):
    """GB 50974 check: uncovered venues, street gaps and proposed hydrants as features."""

    type: Literal["FeatureCollection"]
    features: list[Feature[dict[str, Any]]]
    properties: dict[str, Any] = Field(
        description="Summary: hydrants_in_service, scope, skipped and the check's counts."
    )
