"""API shapes of fire-service resources."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from firegrid.dispatch.models import ForceKind, HydrantStatus, StationType, VehicleType
from firegrid.dispatch.states import VehicleStatus
from firegrid.places.schemas import Lat, Lon

_STATION_TYPES = "^(special|standard|secondary|small|micro)$"
_FORCE_KINDS = "^(state|professional|enterprise|volunteer)$"
_VEHICLE_TYPES = "^(pumper|ladder|rescue|tanker|command|hazmat|foam|ambulance|logistics)$"
_HYDRANT_STATUS = "^(in_service|low_pressure|out_of_service)$"
_HYDRANT_TYPES = "^(above_ground|underground|wall)$"


class StationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    station_type: str = Field(pattern=_STATION_TYPES)
    force_kind: str = Field(pattern=_FORCE_KINDS)
    address: str = Field("", max_length=300)
    phone: str = Field("", max_length=32)
    lon: Lon
    lat: Lat


class StationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=120)
    station_type: str | None = Field(None, pattern=_STATION_TYPES)
    force_kind: str | None = Field(None, pattern=_FORCE_KINDS)
    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=32)
    lon: Lon | None = None
    lat: Lat | None = None


class StationOut(BaseModel):
    id: int
    code: str
    name: str
    station_type: StationType
    force_kind: ForceKind
    address: str
    phone: str
    lon: float
    lat: float
    jurisdiction_id: int
    jurisdiction_path: str


class VehicleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    station_code: str = Field(min_length=1, max_length=32)
    vehicle_type: str = Field(pattern=_VEHICLE_TYPES)
    call_sign: str = Field(min_length=1, max_length=40)
    plate: str = Field("", max_length=20)
    crew: int = Field(4, ge=0, le=20)
    capabilities: list[str] = Field(default_factory=list)


class VehiclePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_code: str | None = Field(None, min_length=1, max_length=32)
    vehicle_type: str | None = Field(None, pattern=_VEHICLE_TYPES)
    call_sign: str | None = Field(None, min_length=1, max_length=40)
    plate: str | None = Field(None, max_length=20)
    crew: int | None = Field(None, ge=0, le=20)
    capabilities: list[str] | None = None


class VehicleOut(BaseModel):
    id: int
    code: str
    station_id: int
    vehicle_type: VehicleType
    call_sign: str
    plate: str
    crew: int
    capabilities: list[str]
    status: VehicleStatus
    jurisdiction_path: str
    last_lon: float | None
    last_lat: float | None


class HydrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    hydrant_type: str = Field("above_ground", pattern=_HYDRANT_TYPES)
    flow_lps: float = Field(15.0, ge=0, le=500)
    status: str = Field("in_service", pattern=_HYDRANT_STATUS)
    lon: Lon
    lat: Lat


class HydrantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hydrant_type: str | None = Field(None, pattern=_HYDRANT_TYPES)
    flow_lps: float | None = Field(None, ge=0, le=500)
    status: str | None = Field(None, pattern=_HYDRANT_STATUS)
    lon: Lon | None = None
    lat: Lat | None = None


class HydrantOut(BaseModel):
    id: int
    code: str
    hydrant_type: str
    flow_lps: float
    status: HydrantStatus
    lon: float
    lat: float
    jurisdiction_id: int
    jurisdiction_path: str


class LogisticsPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    supplies: list[str] = Field(default_factory=list)
    lon: Lon
    lat: Lat


class LogisticsPointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=120)
    supplies: list[str] | None = None
    lon: Lon | None = None
    lat: Lat | None = None


class LogisticsPointOut(BaseModel):
    id: int
    code: str
    name: str
    supplies: list[str]
    lon: float
    lat: float
    jurisdiction_id: int
    jurisdiction_path: str
