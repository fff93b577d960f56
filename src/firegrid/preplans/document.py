"""The content of a pre-incident plan (数字化灭火救援预案), after NFPA 1620's headings.

A plan version stores one :class:`PlanDocument` as JSON. Hydrants are not part of the
document: they are computed by road from geo whenever the plan is shown, so a new or
out-of-service hydrant changes what a crew sees without a new version.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
Phone = Annotated[str, Field(max_length=32, pattern=r"^[0-9+\-() ]*$")]
Lon = Annotated[float, Field(ge=-180.0, le=180.0)]
Lat = Annotated[float, Field(ge=-90.0, le=90.0)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
MAX_ITEMS = 200
#: a drawn feature must lie within this distance of the venue (a typo in a coordinate, or a
#: drawing on the wrong part of the map, is refused)
MAX_FEATURE_DISTANCE_M = 3000.0


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Floor(_Part):
    level: int = Field(ge=-10, le=200, description="1 = ground floor, -1 = first basement")
    use: Text = ""
    occupancy_day: Count = 0
    occupancy_night: Count = 0
    note: Text = ""


class BuildingPart(_Part):
    """One building of the venue (``building_id`` links the registered building, if any)."""

    building_id: int | None = Field(default=None, ge=1)
    name: Text
    use: Text = ""
    construction: Text = Field(default="", description="structure / fire-resistance class")
    height_m: float = Field(default=0.0, ge=0.0, le=700.0)
    floors_above: int = Field(default=1, ge=0, le=200)
    floors_below: int = Field(default=0, ge=0, le=20)
    occupancy_day: Count = 0
    occupancy_night: Count = 0
    floors: list[Floor] = Field(default_factory=list, max_length=MAX_ITEMS)


class SprinklerZone(_Part):
    name: Text
    covers: Text = ""
    valve_location: Text = ""


class Standpipe(_Part):
    """A standpipe riser and its fire department connection (水泵接合器)."""

    name: Text
    location: Text = ""
    inlet_location: Text = ""
    lon: Lon | None = None
    lat: Lat | None = None


class FirePump(_Part):
    name: Text
    location: Text = ""
    flow_lps: float | None = Field(default=None, ge=0.0, le=1000.0)
    pressure_mpa: float | None = Field(default=None, ge=0.0, le=10.0)


class ControlRoom(_Part):
    """The fire control room (消防控制室) and its phone."""

    location: Text = ""
    phone: Phone = ""


class AlarmPanel(_Part):
    """An alarm panel; ``device_id`` links the registered transmitter or device."""

    name: Text
    location: Text = ""
    device_id: int | None = Field(default=None, ge=1)


class FireProtection(_Part):
    sprinkler_zones: list[SprinklerZone] = Field(default_factory=list, max_length=MAX_ITEMS)
    standpipes: list[Standpipe] = Field(default_factory=list, max_length=MAX_ITEMS)
    fire_pumps: list[FirePump] = Field(default_factory=list, max_length=MAX_ITEMS)
    control_room: ControlRoom | None = None
    alarm_panels: list[AlarmPanel] = Field(default_factory=list, max_length=MAX_ITEMS)


class WaterSourceKind(StrEnum):
    POOL = "pool"  # 消防水池
    POND = "pond"
    RIVER = "river"
    TANK = "tank"
    OTHER = "other"


class WaterSource(_Part):
    """A static water source (hydrants come from geo by road, not from the document)."""

    kind: WaterSourceKind
    name: Text = ""
    capacity_m3: float | None = Field(default=None, ge=0.0, le=1e7)
    lon: Lon | None = None
    lat: Lat | None = None


class HazMat(_Part):
    name: Text
    un_number: str = Field(default="", pattern=r"^(UN)?[0-9]{4}$|^$")
    quantity: float = Field(default=0.0, ge=0.0, le=1e9)
    unit: Literal["kg", "t", "L", "m3", "pcs"] = "kg"
    location: Text = ""
    hazard_class: str = Field(
        default="", pattern=r"^([1-9](\.[1-6])?)?$", description="UN class, e.g. 3 or 2.1"
    )


class Utility(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"
    WATER = "water"
    OTHER = "other"


class UtilityShutoff(_Part):
    utility: Utility
    location: Text
    note: Text = ""


class Contact(_Part):
    name: Text
    role: Text = ""
    phone: Phone = ""


class FeatureKind(StrEnum):
    STAGING_AREA = "staging_area"
    AERIAL_POSITION = "aerial_position"
    ACCESS_ROAD = "access_road"
    INLET = "inlet"
    OTHER = "other"


class MapGeometry(_Part):
    type: Literal["Point", "LineString", "Polygon"]
    coordinates: list[Any]

    def points(self) -> list[tuple[float, float]]:
        """The geometry's vertices, checked to be [lon, lat] pairs."""
        if self.type == "Point":
            raw: list[Any] = [self.coordinates]
        elif self.type == "LineString":
            raw = list(self.coordinates)
        else:
            raw = [p for ring in self.coordinates for p in ring]
        out: list[tuple[float, float]] = []
        for p in raw:
            if (
                not isinstance(p, list | tuple)
                or len(p) != 2
                or not all(isinstance(c, int | float) and math.isfinite(c) for c in p)
            ):
                raise ValueError(f"{self.type} coordinates must be [lon, lat] pairs")
            out.append((float(p[0]), float(p[1])))
        return out

    @model_validator(mode="after")
    def _shape(self) -> MapGeometry:
        points = self.points()
        if self.type == "LineString" and len(points) < 2:
            raise ValueError("a LineString needs two points or more")
        if self.type == "Polygon" and (len(points) < 4 or len(points) > 2000):
            raise ValueError("a Polygon ring needs 4 to 2000 points")
        if len(points) > 2000:
            raise ValueError("at most 2000 points per geometry")
        for lon, lat in points:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"point ({lon}, {lat}) is not a WGS-84 lon/lat")
        return self


class MapProperties(_Part):
    kind: FeatureKind
    label: Text = ""


class MapFeature(_Part):
    """A feature drawn on the map (WGS-84 GeoJSON)."""

    type: Literal["Feature"] = "Feature"
    geometry: MapGeometry
    properties: MapProperties


class PlanDocument(_Part):
    """One version of a venue's plan."""

    schema_version: Literal[1] = 1
    summary: LongText = ""
    buildings: list[BuildingPart] = Field(default_factory=list, max_length=MAX_ITEMS)
    fire_protection: FireProtection = Field(default_factory=FireProtection)
    water_sources: list[WaterSource] = Field(default_factory=list, max_length=MAX_ITEMS)
    hazmats: list[HazMat] = Field(default_factory=list, max_length=MAX_ITEMS)
    utilities: list[UtilityShutoff] = Field(default_factory=list, max_length=MAX_ITEMS)
    access_notes: LongText = ""
    map_features: list[MapFeature] = Field(default_factory=list, max_length=MAX_ITEMS)
    contacts: list[Contact] = Field(default_factory=list, max_length=MAX_ITEMS)
    special_hazards: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    tactics: LongText = ""

    @field_validator("hazmats")
    @classmethod
    def _un_prefix(cls, value: list[HazMat]) -> list[HazMat]:
        for item in value:
            item.un_number = item.un_number.removeprefix("UN")
        return value

    def device_ids(self) -> set[int]:
        """The registered devices the alarm panels link."""
        return {p.device_id for p in self.fire_protection.alarm_panels if p.device_id}

    def building_ids(self) -> set[int]:
        return {b.building_id for b in self.buildings if b.building_id}

    def located_points(self) -> list[tuple[str, float, float]]:
        """Every drawn or located point, named by where it is in the document."""
        out: list[tuple[str, float, float]] = []
        for i, f in enumerate(self.map_features):
            out += [(f"map_features[{i}]", lon, lat) for lon, lat in f.geometry.points()]
        for i, s in enumerate(self.fire_protection.standpipes):
            if s.lon is not None and s.lat is not None:
                out.append((f"fire_protection.standpipes[{i}]", s.lon, s.lat))
        for i, w in enumerate(self.water_sources):
            if w.lon is not None and w.lat is not None:
                out.append((f"water_sources[{i}]", w.lon, w.lat))
        return out
