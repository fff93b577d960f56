"""API and import shapes of fire records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from firegrid.places.schemas import Lat, Lon

INCIDENT_TYPES = (
    "^(building_fire|hazmat_fire|vehicle_fire|outdoor_fire|wildland|hazmat|rescue|flood"
    "|social_assistance)$"
)


def _split_list(value: Any) -> Any:
    """``a;b`` (a CSV or xlsx cell) as a list; lists pass through."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace("；", ";").split(";") if part.strip()]
    return value


class RecordFields(BaseModel):
    """What an officer records about a fire (shared by create, patch and the report form)."""

    model_config = ConfigDict(extra="forbid")
    cause_code: str | None = Field(None, max_length=32, description="起火原因 (codes.yaml cause)")
    origin_code: str | None = Field(None, max_length=32, description="起火部位")
    heat_source_code: str | None = Field(None, max_length=32, description="引火源")
    item_first_ignited_code: str | None = Field(None, max_length=32, description="起火物")
    civilian_injured: int | None = Field(None, ge=0, le=100_000)
    civilian_killed: int | None = Field(None, ge=0, le=100_000)
    firefighter_injured: int | None = Field(None, ge=0, le=100_000)
    firefighter_killed: int | None = Field(None, ge=0, le=100_000)
    direct_loss_yuan: float | None = Field(None, ge=0, le=1e12, description="直接财产损失 (元)")
    area_burned_m2: float | None = Field(None, ge=0, le=1e8, description="过火面积 (m²)")
    detector_presence: str | None = Field(None, max_length=16)
    detector_performance: str | None = Field(None, max_length=32)
    alarm_system_presence: str | None = Field(None, max_length=16)
    alarm_system_performance: str | None = Field(None, max_length=32)
    sprinkler_presence: str | None = Field(None, max_length=16)
    sprinkler_performance: str | None = Field(None, max_length=32)
    actions: list[str] | None = Field(None, max_length=20)
    vehicles_used: int | None = Field(None, ge=0, le=10_000)
    personnel_used: int | None = Field(None, ge=0, le=100_000)
    narrative: str | None = Field(None, max_length=2000)

    _actions = field_validator("actions", mode="before")(_split_list)


class FireRecordIn(RecordFields):
    """One past fire (API create or one row of an imported file)."""

    code: str = Field(min_length=1, max_length=40, description="The record's own number.")
    occurred_at: AwareDatetime = Field(description="When the fire started (with its offset).")
    lon: Lon | None = None
    lat: Lat | None = None
    venue_code: str | None = Field(None, min_length=1, max_length=40)
    venue_category: str | None = Field(None, max_length=40)
    address: str = Field("", max_length=300)
    incident_type: str = Field("building_fire", pattern=INCIDENT_TYPES)
    review_state: str = Field(
        "draft", pattern="^(draft|locked)$", description="locked: an official, final record."
    )

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _offset_required(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(
                    f"occurred_at {value!r} is not an ISO 8601 time "
                    "(e.g. 2025-03-01T14:20:00+08:00)"
                ) from None
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(
                "occurred_at has no time zone: write it with its offset, "
                "e.g. 2025-03-01T14:20:00+08:00"
            )
        return value


class FireRecordPatch(RecordFields):
    """Corrections to a record not yet locked."""

    occurred_at: AwareDatetime | None = None
    address: str | None = Field(None, max_length=300)
    incident_type: str | None = Field(None, pattern=INCIDENT_TYPES)


class FireRecordOut(BaseModel):
    id: int
    code: str
    occurred_at: datetime
    lon: float
    lat: float
    jurisdiction_path: str
    town_code: str
    venue_id: int | None
    venue_category: str
    address: str
    incident_type: str
    cause_code: str
    origin_code: str
    heat_source_code: str
    item_first_ignited_code: str
    civilian_injured: int
    civilian_killed: int
    firefighter_injured: int
    firefighter_killed: int
    direct_loss_yuan: float
    area_burned_m2: float
    detector_presence: str
    detector_performance: str
    alarm_system_presence: str
    alarm_system_performance: str
    sprinkler_presence: str
    sprinkler_performance: str
    actions: list[str]
    vehicles_used: int
    personnel_used: int
    narrative: str
    source: str
    incident_id: int | None
    call_received_at: datetime | None
    connected_alarm_id: int | None
    connected_alarm_at: datetime | None
    review_state: str
    filled_by: str
    reviewed_by: str
    locked_at: datetime | None
    review_note: str


class ReviewIn(BaseModel):
    """A move of the review state: submit, return (to draft) or lock."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(pattern="^(submit|return|lock)$")
    note: str = Field("", max_length=300)


class CodeNameOut(BaseModel):
    """A code's names (``CodeName`` of the packaged lists)."""

    name_zh: str
    name_en: str


class CodeListOut(BaseModel):
    lists: dict[str, dict[str, CodeNameOut]] = Field(description="List name -> code -> names.")
    fields: dict[str, str] = Field(description="Record field -> the list its codes come from.")


class ReportIncidentOut(BaseModel):
    id: int
    incident_type: str
    venue_category: str
    status: str
    source: str
    venue_id: int | None
    address: str
    jurisdiction_path: str
    call_received_at: str
    closed_at: str | None


class ReportIntervalsOut(BaseModel):
    call_processing_s: float | None
    turnout_s: float | None
    travel_s: float | None
    first_arrival_s: float | None
    effective_response_force_s: float | None
    units_sent: int
    crew_sent: int


class ReportAlarmOut(BaseModel):
    connected_alarm_id: int | None
    alarm_at: str | None
    call_at: str
    alarm_before_call: bool | None = Field(
        description="None: the venue is unknown or has no connected system to ask."
    )
    alarm_lead_s: float | None
    alarm_status: str | None = None


class IncidentReportOut(BaseModel):
    incident: ReportIncidentOut
    intervals: ReportIntervalsOut
    alarm: ReportAlarmOut
    record: FireRecordOut | None
    record_due: bool


class PercentilesOut(BaseModel):
    p50: float | None
    p90: float | None


class AnalyticsRowOut(BaseModel):
    key: str | int | None
    label: str
    calls: int
    intervals: dict[str, PercentilesOut] = Field(
        description="call_processing_s, turnout_s, travel_s, first_arrival_s, "
        "effective_response_force_s (seconds)"
    )
    arrived_calls: int
    within_5min_share: float | None
    own_station_missed: int | None = Field(
        description="Calls in the station's first-due area its own units did not serve."
    )
    own_station_missed_share: float | None
    beyond_first_due: int | None = Field(
        None, description="By unit: calls outside its station's first-due area."
    )
    concurrency_mean: float | None
    concurrency_max: int
    concurrent_share: float | None
    units: int | None
    utilisation: float | None


class PeriodOut(BaseModel):
    label: str
    since: str
    until: str


class AnalyticsOut(BaseModel):
    by: str
    period: PeriodOut | None
    within_s: float
    rows: list[AnalyticsRowOut]
    totals: AnalyticsRowOut
