"""API shapes of calls, incidents, dispatch, aid requests, unit status, AVL and plans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_TYPES = (
    "^(building_fire|hazmat_fire|vehicle_fire|outdoor_fire|wildland|hazmat|rescue|flood"
    "|social_assistance)$"
)
_CRS = "^(wgs84|gcj02|bd09)$"


def _opt_lon() -> Any:
    return Field(None, ge=-180, le=180, description="Longitude in the request's CRS.")


def _opt_lat() -> Any:
    return Field(None, ge=-90, le=90, description="Latitude in the request's CRS.")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallIn(_In):
    """A 119 call as the call taker records it."""

    caller_number: str = Field("", max_length=32)
    address_text: str = Field("", max_length=300)
    lon: float | None = _opt_lon()
    lat: float | None = _opt_lat()
    crs: str = Field("wgs84", pattern=_CRS, description="CRS of lon/lat.")
    incident_type: str | None = Field(None, pattern=_TYPES)
    venue_category: str = Field("", max_length=40)
    venue_id: int | None = None
    description: str = Field("", max_length=1000)
    received_at: AwareDatetime | None = None
    level: int = Field(1, ge=1, le=5)
    auto: bool = Field(
        False, description="Open a new incident (or merge into a duplicate) at once."
    )


class TransferIn(_In):
    """A transfer from the 110 centre (三台合一)."""

    external_ref: str = Field(min_length=1, max_length=64, description="110's incident number.")
    caller_number: str = Field("", max_length=32)
    address_text: str = Field("", max_length=300)
    lon: float | None = _opt_lon()
    lat: float | None = _opt_lat()
    crs: str = Field("wgs84", pattern=_CRS)
    incident_type: str = Field(pattern=_TYPES)
    level: int = Field(1, ge=1, le=5)
    venue_category: str = Field("", max_length=40)
    description: str = Field("", max_length=1000)
    received_at: AwareDatetime | None = None


class CreateIncidentIn(_In):
    incident_type: str = Field(pattern=_TYPES)
    level: int = Field(1, ge=1, le=5)
    venue_category: str = Field("", max_length=40)
    venue_id: int | None = None
    cause: str = Field("", max_length=300)


class MergeIn(_In):
    incident_id: int


class LocateIn(_In):
    address_text: str = Field("", max_length=300)
    lon: float | None = _opt_lon()
    lat: float | None = _opt_lat()
    crs: str = Field("wgs84", pattern=_CRS)


class DispatchIn(_In):
    vehicle_ids: list[int] | None = Field(
        None, description="Units to send; omitted: the recommended units."
    )
    cause: str = Field("", max_length=300)


class IncidentStatusIn(_In):
    status: str = Field(pattern="^(under_control|extinguished|closed|on_scene|dispatched)$")
    cause: str = Field("", max_length=300)
    confirm: bool = Field(
        False, description="Close even though units are still on scene (they are sent back)."
    )


class EscalateIn(_In):
    cause: str = Field(min_length=1, max_length=300)
    new_level: int | None = Field(None, ge=2, le=5)


class RequirementIn(_In):
    vehicle_type: str | None = Field(None, max_length=16)
    capability: str | None = Field(None, max_length=32)
    count: int = Field(1, ge=1, le=50)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class JointDefenceIn(_In):
    to_town_code: str = Field(min_length=1, max_length=32)
    requirements: list[RequirementIn] = Field(min_length=1)
    note: str = Field("", max_length=300)


class ReinforcementIn(_In):
    requirements: list[RequirementIn] = Field(min_length=1)
    note: str = Field("", max_length=300)


class AnswerIn(_In):
    accept: bool
    vehicle_ids: list[int] | None = None
    note: str = Field("", max_length=300)


class UnitStatusIn(_In):
    status: str = Field(
        pattern="^(available_in_station|available_on_radio|en_route|on_scene|returning"
        "|out_of_service)$"
    )
    cause: str = Field("", max_length=300)
    lon: float | None = _opt_lon()
    lat: float | None = _opt_lat()
    crs: str = Field("wgs84", pattern=_CRS)


class FixIn(_In):
    vehicle_id: int
    lon: float = Field(ge=-180, le=180, description="Longitude in the request's CRS.")
    lat: float = Field(ge=-90, le=90, description="Latitude in the request's CRS.")
    at: AwareDatetime | None = None
    crs: str = Field("wgs84", pattern=_CRS)


class FixesIn(_In):
    positions: list[FixIn] = Field(min_length=1, max_length=5000)


class PlanIn(_In):
    incident_type: str = Field(pattern=_TYPES)
    venue_category: str = Field("*", min_length=1, max_length=40)
    level: int = Field(ge=1, le=5)
    requirements: list[RequirementIn] = Field(min_length=1)
    note: str = Field("", max_length=300)


class PlanOut(BaseModel):
    id: int
    incident_type: str
    venue_category: str
    level: int
    requirements: list[dict[str, Any]]
    note: str
    updated_at: datetime
    updated_by: str
