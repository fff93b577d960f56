"""API shapes of the places context."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from firegrid.core.texts import TextCode
from firegrid.places.models import JurisdictionLevel

Lon = Annotated[
    float, Field(ge=-180, le=180, description="Longitude in the request's CRS (degrees).")
]
Lat = Annotated[float, Field(ge=-90, le=90, description="Latitude in the request's CRS (degrees).")]


class JurisdictionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    level: str = Field(pattern="^(city|town|village|grid)$")
    parent_code: str | None = Field(None, min_length=1, max_length=32)
    name_zh: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    lon: Lon
    lat: Lat
    boundary: dict[str, Any] | None = None
    population: int | None = Field(None, ge=0)


class JurisdictionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(None, min_length=1, max_length=120)
    name_en: str | None = Field(None, min_length=1, max_length=120)
    lon: Lon | None = None
    lat: Lat | None = None
    boundary: dict[str, Any] | None = None
    population: int | None = Field(None, ge=0)


class JurisdictionOut(BaseModel):
    # Read from a row (center_lon) or from its JSON (lon).
    model_config = ConfigDict(populate_by_name=True)
    id: int
    code: str
    level: JurisdictionLevel
    parent_id: int | None
    path: str
    name_zh: str
    name_en: str
    lon: float = Field(validation_alias="center_lon")
    lat: float = Field(validation_alias="center_lat")
    population: int | None


class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    lon: Lon
    lat: Lat
    category: str = Field(min_length=1, max_length=40)
    industry_code: str = Field("", max_length=16)
    is_key_unit: bool = False
    is_high_risk: bool = False
    floor_area_m2: float = Field(0.0, ge=0)
    floors: int = Field(1, ge=1, le=200)
    occupancy: int = Field(0, ge=0)
    night_occupancy: int = Field(0, ge=0)
    construction_class: str = Field("II", pattern="^(I|II|III|IV)$")
    built_year: int | None = Field(None, ge=1800, le=2100)
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=32)
    tags: list[str] = Field(default_factory=list)


class VenuePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    lon: Lon | None = None
    lat: Lat | None = None
    category: str | None = Field(None, min_length=1, max_length=40)
    industry_code: str | None = Field(None, max_length=16)
    is_key_unit: bool | None = None
    is_high_risk: bool | None = None
    floor_area_m2: float | None = Field(None, ge=0)
    floors: int | None = Field(None, ge=1, le=200)
    occupancy: int | None = Field(None, ge=0)
    night_occupancy: int | None = Field(None, ge=0)
    construction_class: str | None = Field(None, pattern="^(I|II|III|IV)$")
    built_year: int | None = Field(None, ge=1800, le=2100)
    contact_name: str | None = Field(None, max_length=60)
    contact_phone: str | None = Field(None, max_length=32)
    tags: list[str] | None = None


class VenueOut(BaseModel):
    id: int
    code: str
    name: str
    address: str
    lon: float
    lat: float
    jurisdiction_id: int
    jurisdiction_path: str
    category: str
    industry_code: str
    is_key_unit: bool
    is_high_risk: bool
    floor_area_m2: float
    floors: int
    occupancy: int
    night_occupancy: int
    construction_class: str
    built_year: int | None
    contact_name: str
    contact_phone: str
    tags: list[str]


class GridWorkerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=60)
    phone: str = Field("", max_length=32)
    grid_code: str = Field(min_length=1, max_length=32)


class GridWorkerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=60)
    phone: str | None = Field(None, max_length=32)
    grid_code: str | None = Field(None, min_length=1, max_length=32)
    active: bool | None = None


class GridWorkerOut(BaseModel):
    id: int
    code: str
    name: str
    phone: str
    grid_id: int
    jurisdiction_path: str
    active: bool


class GeocodeAlternativeOut(BaseModel):
    """A standard address that also fits the text."""

    code: str
    full_text: str
    score: float
    lon: float
    lat: float


class GeocodeOut(BaseModel):
    query: str
    matched: bool
    score: float
    components: dict[str, str]
    address_code: str | None
    full_text: str | None
    lon: float | None
    lat: float | None
    reason: str | None = Field(description="Why nothing matched, in English.")
    reason_code: TextCode | None = Field(
        None, description="The reason as a text code the console translates."
    )
    alternatives: list[GeocodeAlternativeOut]
