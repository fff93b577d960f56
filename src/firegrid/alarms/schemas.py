"""Request and response shapes of the alarms API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from firegrid.alarms.rules import Rule
from firegrid.alarms.states import AlarmKind, AlarmStatus, FalseReason
from firegrid.api.schemas import Counted, Timestamp
from firegrid.core.texts import ParamValue, TextCode


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_In):
    note: str = Field("", max_length=2000)


class CallIn(_In):
    outcome: Literal["fire", "false_alarm", "no_answer"]
    reason: FalseReason | None = None
    note: str = Field("", max_length=2000)


class ConfirmIn(_In):
    note: str = Field("", max_length=2000)
    forward: bool = True


class FalseIn(_In):
    reason: FalseReason
    note: str = Field("", max_length=2000)


class WindowIn(_In):
    venue_id: int
    device_id: int | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Literal["test", "maintenance"]
    note: str = Field("", max_length=300)


class RuleIn(_In):
    """A correlation rule (the shape of one entry of ``rules.yaml``)."""

    name: str
    description: str = ""
    enabled: bool = True
    when: dict[str, Any]
    then: dict[str, Any]


# Responses ---------------------------------------------------------------------------------

EscalationLevel = Literal["", "village", "town", "city"]
VerificationMethod = Literal["call", "onsite", "operator", "rule", "timer"]
VerificationOutcome = Literal["fire", "false_alarm", "fault", "no_answer"]


class AlarmOut(BaseModel):
    """An alarm as lists, the feed and the CLI show it."""

    alarm_id: int
    kind: AlarmKind
    status: AlarmStatus
    priority: int
    venue_id: int | None
    venue_name: str
    venue_category: str
    device_id: int | None
    device_kind: str
    external_id: str
    jurisdiction_path: str
    lon: float | None
    lat: float | None
    opened_at: Timestamp
    first_received_at: Timestamp
    last_event_at: Timestamp
    event_count: int
    component_count: int
    acknowledged_at: Timestamp | None
    decided_at: Timestamp | None
    decided_by: str
    false_reason: FalseReason | None
    forwarded: bool
    forwarded_at: Timestamp | None
    forward_probable: bool
    closed_at: Timestamp | None
    cleared_at: Timestamp | None
    escalation_level: EscalationLevel = Field(
        description="Level the unacknowledged alarm was escalated to ('' = none)."
    )
    suppressed: bool
    rule_hits: list[str]


class AlarmPage(BaseModel):
    items: list[AlarmOut]
    count: int
    next_before: int | None = Field(description="Pass as ``before`` for the next page.")


class EventLineOut(BaseModel):
    kind: str
    device_id: int | None
    device_kind: str
    component: str
    zone: str
    description: str
    count: int
    first_at: Timestamp
    last_at: Timestamp
    first_event_id: str
    last_event_id: str
    values: dict[str, Any]


class TransitionOut(BaseModel):
    from_: AlarmStatus = Field(alias="from")
    to: AlarmStatus
    at: Timestamp
    actor: str
    cause: str = Field(description="Why, in English (a person's note in their own words).")
    cause_code: TextCode | None = Field(
        None, description="The cause as a text code the console translates (None: free text)."
    )
    cause_params: dict[str, ParamValue] = Field(default_factory=dict)
    reason: str | None


class VerificationOut(BaseModel):
    id: int
    alarm_id: int
    method: VerificationMethod
    outcome: VerificationOutcome
    reason: str | None
    note: str
    actor: str
    at: Timestamp
    decisive: bool
    task_id: int | None


class TaskOut(BaseModel):
    id: int
    alarm_id: int
    venue_id: int | None
    grid_worker_id: int | None
    jurisdiction_path: str
    status: Literal["open", "done", "cancelled"]
    created_at: Timestamp
    created_by: str
    due_at: Timestamp
    result: Literal["fire", "false_alarm", "fault"] | None
    reason: str | None
    note: str
    photo: str | None
    submitted_at: Timestamp | None
    submitted_by: str


class WorkOrderOut(BaseModel):
    id: int
    kind: str
    status: Literal["open", "done"]
    overdue: bool
    title: str
    alarm_id: int | None
    venue_id: int | None
    device_id: int | None
    jurisdiction_path: str
    assignee_kind: str
    assignee_id: int | None
    assignee_name: str
    opened_at: Timestamp
    due_at: Timestamp
    reminders_sent: int
    closed_at: Timestamp | None
    closed_by: str
    closure_note: str
    closure_photo: str


class ForwardOut(BaseModel):
    id: int
    forwarded_at: Timestamp
    probable: bool
    incident_kind: str
    consumed_at: Timestamp | None
    incident_id: int | None


class AlarmDetail(AlarmOut):
    """An alarm with its events, transitions, verifications, tasks and work orders."""

    events: list[EventLineOut]
    transitions: list[TransitionOut]
    verifications: list[VerificationOut]
    tasks: list[TaskOut]
    work_orders: list[WorkOrderOut]
    forward: ForwardOut | None


class DecisionOut(BaseModel):
    """A verification step and the alarm after it."""

    verification: VerificationOut
    alarm: AlarmDetail


class TaskResultOut(BaseModel):
    task: TaskOut
    verification: VerificationOut


class WindowOut(BaseModel):
    id: int
    venue_id: int
    device_id: int | None
    jurisdiction_path: str
    starts_at: Timestamp
    ends_at: Timestamp
    reason: Literal["test", "maintenance"]
    note: str
    created_by: str


class RuleOut(Rule):
    """An effective correlation rule and where it comes from."""

    source: Literal["database", "default"]


class ColourOut(BaseModel):
    """Three-colour status of one venue, grid, village or town."""

    level: Literal["venue", "grid", "village", "town"]
    path: str
    colour: Literal["red", "yellow", "green"]
    reasons: list[str]
    open_fire_alarms: int
    unresolved_faults: int
    offline_devices: int
    devices: int
    offline_ratio: float
    overdue_work_orders: int
    venue_id: int | None = None
    code: str | None = None
    venues: int | None = None


class ColoursOut(Counted[ColourOut]):
    level: Literal["venue", "grid", "village", "town"]


class DeviceHealthCounts(BaseModel):
    registered: int
    online: int
    offline: int
    not_commissioned: int


class Rate(BaseModel):
    false_alarms: int
    decided: int
    rate: float | None


class FalseAlarmRates(BaseModel):
    overall: Rate
    by_cause: dict[str, int]
    by_venue_category: dict[str, Rate]
    by_device_kind: dict[str, Rate]


class DurationSummary(BaseModel):
    count: int
    median_s: float | None
    p90_s: float | None


class ForwardedCounts(BaseModel):
    total: int
    probable: int


class OffendingDevice(BaseModel):
    device_id: int
    false_alarms_and_faults: int


class AlarmStatsOut(BaseModel):
    devices: DeviceHealthCounts
    alarms: int
    by_status: dict[str, int]
    per_day: dict[str, dict[str, int]] = Field(description="China-local day -> kind -> alarms.")
    forwarded: ForwardedCounts
    false_alarm_rate: FalseAlarmRates
    time_to_acknowledge: DurationSummary
    time_to_verify: DurationSummary
    top_offending_devices: list[OffendingDevice]


class DossierVenue(BaseModel):
    id: int
    code: str
    name: str
    address: str
    category: str
    lon: float
    lat: float
    floors: int
    floor_area_m2: float
    occupancy: int
    night_occupancy: int
    construction_class: str
    contact_name: str
    contact_phone: str
    tags: list[str]
    jurisdiction_path: str


class BuildingSummary(BaseModel):
    id: int
    name: str
    floors_above: int
    floors_below: int
    height_m: float
    structure: str


class DossierDeviceState(BaseModel):
    online: bool
    last_seen: Timestamp | None
    alarms: dict[str, Any]
    faults: dict[str, Any]
    battery_pct: float | None
    last_kind: str


class DossierDevice(BaseModel):
    id: int
    code: str
    kind: str
    install_location: str
    state: DossierDeviceState | None
    health: Literal["online", "offline", "not_commissioned"]


class VenueDossier(BaseModel):
    """What an operator verifying needs of the venue (empty when the alarm has none)."""

    venue: DossierVenue | None = None
    buildings: list[BuildingSummary] = Field(default_factory=list)
    devices: list[DossierDevice] = Field(default_factory=list)


class TaskWithVenue(TaskOut):
    venue: VenueDossier
