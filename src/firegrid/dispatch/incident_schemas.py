"""API shapes of calls, incidents, dispatch, aid requests, unit status, AVL and plans."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from firegrid.api.schemas import Timestamp
from firegrid.dispatch.models import VehicleType
from firegrid.dispatch.states import IncidentStatus, VehicleStatus

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
    incident_type: IncidentType
    venue_category: str
    level: int
    requirements: list[dict[str, Any]]
    note: str
    updated_at: datetime
    updated_by: str


# Responses ---------------------------------------------------------------------------------


class IncidentType(StrEnum):
    """警情类型; the same values as ``plans.INCIDENT_TYPES`` (a test holds them together)."""

    BUILDING_FIRE = "building_fire"
    HAZMAT_FIRE = "hazmat_fire"
    VEHICLE_FIRE = "vehicle_fire"
    OUTDOOR_FIRE = "outdoor_fire"
    WILDLAND = "wildland"
    HAZMAT = "hazmat"
    RESCUE = "rescue"
    FLOOD = "flood"
    SOCIAL_ASSISTANCE = "social_assistance"


AidStatus = Literal["pending", "accepted", "declined"]


class CallOut(BaseModel):
    id: int
    incident_id: int | None
    source: str
    status: str
    caller_number: str
    address_text: str
    lon: float | None
    lat: float | None
    jurisdiction_path: str
    incident_type: str = Field(description="The caller's type, '' when not given.")
    venue_category: str
    venue_id: int | None
    description: str
    external_ref: str
    geocode: dict[str, Any] | None
    received_at: Timestamp
    taken_by: str


class DuplicateOut(BaseModel):
    incident_id: int
    incident_type: IncidentType
    level: int
    status: IncidentStatus
    address: str
    venue_id: int | None
    distance_m: float
    last_call_at: Timestamp
    call_count: int


class DuplicateRule(BaseModel):
    radius_m: float
    window_s: float


class IntakeOut(BaseModel):
    """The call, its duplicates and the venues near it (the call taker's screen)."""

    call: CallOut
    incident_id: int | None
    merged: bool
    possible_duplicates: list[DuplicateOut]
    possibly_related: list[DuplicateOut]
    duplicate_rule: DuplicateRule
    venues_nearby: list[dict[str, Any]]


class TransferOut(BaseModel):
    call: CallOut
    incident_id: int | None
    merged: bool
    possibly_related: list[DuplicateOut]


class ConsumeOut(BaseModel):
    available: bool = Field(description="False when the alarms context is not installed.")
    consumed: int
    created: int
    merged: int


class Intervals(BaseModel):
    """Seconds between milestones (null until reached)."""

    call_processing_s: float | None
    turnout_s: float | None
    travel_s: float | None
    response_s: float | None
    duration_s: float | None


class IncidentOut(BaseModel):
    id: int
    incident_type: IncidentType
    venue_category: str
    level: int
    status: IncidentStatus
    source: str
    lon: float
    lat: float
    jurisdiction_path: str
    command_path: str
    command_level: str
    venue_id: int | None
    address: str
    description: str
    call_count: int
    call_received_at: Timestamp
    created_at: Timestamp
    dispatched_at: Timestamp | None
    turnout_at: Timestamp | None
    arrived_at: Timestamp | None
    under_control_at: Timestamp | None
    extinguished_at: Timestamp | None
    closed_at: Timestamp | None
    intervals: Intervals


class AssignmentOut(BaseModel):
    id: int
    vehicle_id: int
    station_id: int
    status: str
    via: str
    eta_s: float | None
    reason: str
    aid_request_id: int | None
    dispatched_at: Timestamp
    en_route_at: Timestamp | None
    arrived_at: Timestamp | None
    released_at: Timestamp | None


class AidRequestOut(BaseModel):
    id: int
    incident_id: int
    kind: Literal["joint_defence", "reinforcement"]
    from_path: str
    to_path: str
    requirements: list[dict[str, Any]]
    note: str
    status: AidStatus
    requested_at: Timestamp
    requested_by: str
    answered_at: Timestamp | None
    answered_by: str
    answer_note: str
    vehicle_ids: list[int]


class NeighbourTownOut(BaseModel):
    """A town a joint-defence request of the incident may go to (its town's neighbour)."""

    code: str
    name_zh: str
    name_en: str
    path: str


class TimelineEntryOut(BaseModel):
    at: Timestamp
    kind: str
    actor: str
    cause: str
    vehicle_id: int | None
    details: dict[str, Any] | None


class RelatedIncident(BaseModel):
    incident_id: int
    distance_m: float | None
    venue_id: int | None
    incident_type: IncidentType
    status: IncidentStatus
    since: Timestamp


class IncidentDetail(IncidentOut):
    """An incident with its calls, timeline, units and aid requests."""

    calls: list[CallOut]
    timeline: list[TimelineEntryOut]
    units: list[AssignmentOut]
    aid_requests: list[AidRequestOut]
    possibly_related: list[RelatedIncident]


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None
    count: int


class PlanView(BaseModel):
    """The plan chosen for an incident and the row it came from."""

    plan_id: int | None
    incident_type: str
    venue_category: str
    level: int
    requirements: list[dict[str, Any]] = Field(
        description='e.g. {"vehicle_type": "pumper", "count": 2} or {"capability": …}'
    )


class ChoiceOut(BaseModel):
    vehicle_id: int
    code: str
    call_sign: str
    station_id: int
    vehicle_type: VehicleType
    requirement: str
    eta_s: float
    origin: Literal["station", "gps"]
    reason: str


class SkippedOut(BaseModel):
    """A station or GPS fix left out because the road network does not reach it."""

    kind: str
    id: int
    code: str
    reason: str
    snap_distance_m: float
    limit_m: float


class RecommendationOut(BaseModel):
    plan: PlanView
    lon: float
    lat: float
    complete: bool
    units: list[ChoiceOut]
    missing: list[dict[str, Any]]
    considered_units: int
    notes: list[str]
    skipped: list[SkippedOut]


class NotificationOut(BaseModel):
    id: int
    station_id: int
    channel: str
    status: str


class DispatchOut(BaseModel):
    incident: IncidentOut
    assignments: list[AssignmentOut]
    recommendation: RecommendationOut | None
    skipped: list[SkippedOut]
    notifications: list[NotificationOut]


class OrderIncident(BaseModel):
    id: int
    type: IncidentType
    venue_category: str
    level: int
    address: str
    description: str
    lon: float
    lat: float
    call_received_at: Timestamp
    command_level: str


class OrderVenue(BaseModel):
    id: int
    name: str
    category: str
    floors: int
    contact_phone: str


class OrderStation(BaseModel):
    id: int
    code: str
    name: str


class OrderUnit(BaseModel):
    vehicle_id: int
    code: str
    call_sign: str
    vehicle_type: VehicleType
    crew: int
    eta_s: float | None
    dispatched_at: Timestamp
    via: str


class DispatchOrderOut(BaseModel):
    """The dispatch order of one station (``format=json``)."""

    kind: Literal["dispatch_order"]
    incident: OrderIncident
    venue: OrderVenue | None
    station: OrderStation
    units: list[OrderUnit]


class DeliveryOut(BaseModel):
    sent: int
    failed: int


class UnitOut(BaseModel):
    id: int
    code: str
    call_sign: str
    station_id: int
    station_code: str
    vehicle_type: VehicleType
    capabilities: list[str]
    crew: int
    status: VehicleStatus
    status_changed_at: Timestamp | None
    incident_id: int | None
    last_lon: float | None
    last_lat: float | None
    position_at: Timestamp | None


class FixesOut(BaseModel):
    accepted: int
    stale: int
