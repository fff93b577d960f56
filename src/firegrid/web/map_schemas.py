"""Response shapes of the console's map layers (GeoJSON with typed properties)."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from firegrid.api.schemas import Feature, FeatureCollection

Properties = TypeVar("Properties")
Level = Literal["city", "town", "village", "grid"]


class Layer(FeatureCollection[Properties], Generic[Properties]):
    """A map layer; ``truncated`` when the view held more than the layer's limit."""

    truncated: bool


class BoundaryProperties(BaseModel):
    id: int
    code: str
    level: Level
    path: str
    name_zh: str
    name_en: str
    center: list[float] = Field(description="[lon, lat]")
    population: int | None


class BoundaryFeature(Feature[BoundaryProperties]):
    bbox: list[float] | None = Field(description="[west, south, east, north]")


class BoundariesOut(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[BoundaryFeature]
    level: Level
    zoom: int


class RoadProperties(BaseModel):
    group: Literal["major", "secondary", "minor"]
    segments: int


class RoadLabelProperties(BaseModel):
    name: str
    road_class: int = Field(description="The road's class (firegrid.geo RoadClass value).")


class VenueProperties(BaseModel):
    id: int
    name: str
    category: str
    key_unit: bool
    high_risk: bool
    colour: Literal["red", "yellow", "green"] | None = Field(
        description="Three-colour status (null when the caller may not see alarms)."
    )
    reasons: list[str]


class ClusterProperties(BaseModel):
    """Two or more points in one cell of the screen (see ``firegrid.web.clusters``)."""

    cluster: Literal[True]
    count: int = Field(description="Points in the cluster (exact: nothing is dropped).")
    bounds: list[float] = Field(description="[west, south, east, north] of its points")
    flags: dict[str, int] = Field(
        description="Members with a flag: venues 'red', 'yellow'; hydrants 'unavailable'."
    )


class PointLayer(FeatureCollection[Properties], Generic[Properties]):
    """Points of a view; clusters when the view is crowded at a low zoom.

    ``total`` is the number of points in the view; ``truncated`` when fewer were sent (the
    console says how many of how many and asks to zoom in).
    """

    truncated: bool
    total: int
    clustered: bool


class VenuesLayer(PointLayer[VenueProperties | ClusterProperties]):
    colours: bool = Field(description="Whether the colours come from the monitoring centre.")


class StationProperties(BaseModel):
    id: int
    code: str
    name: str
    station_type: str
    force_kind: str


class HydrantProperties(BaseModel):
    id: int
    code: str
    status: str
    hydrant_type: str
    flow_lps: float


class HydrantsLayer(PointLayer[HydrantProperties | ClusterProperties]):
    """Hydrants of a view (clusters when crowded)."""


class DeviceProperties(BaseModel):
    id: int
    code: str
    kind: str
    venue_id: int
    online: bool


class DevicesLayer(PointLayer[DeviceProperties | ClusterProperties]):
    """Devices drawn at their venue (clusters count the offline ones)."""


class CapabilitiesOut(BaseModel):
    """Which optional services this server offers."""

    isochrones: bool
    coverage: bool
    hydrant_gaps: bool
    alarm_feed: bool
    incidents: bool
    alarm_forwards: bool
    crew: bool
    exports: bool


class ExtentOut(BaseModel):
    """The caller's area (all null when no jurisdiction is loaded)."""

    bbox: list[float] | None
    center: list[float] | None
    level: Level | None = None
    code: str | None = None
    name_zh: str | None
    name_en: str | None
