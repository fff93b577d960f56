"""Request and response bodies of the preplans API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from firegrid.preplans.document import PlanDocument


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: PlanDocument
    note: str = Field(default="", max_length=500, description="What changed and why.")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class PlanSummaryOut(BaseModel):
    plan_id: int
    venue_id: int
    venue_code: str
    venue_name: str
    is_key_unit: bool
    latest_version: int
    published_version: int | None
    published_at: str | None
    risk_grade: str | None
    review_due_at: str | None
    review_overdue: bool
    days_overdue: int | None


class PlanListOut(BaseModel):
    items: list[PlanSummaryOut]
    count: int


class VersionOut(BaseModel):
    version: int
    status: str
    note: str
    created_by: str
    created_role: str
    created_at: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    published_by: str | None
    published_at: str | None
    document: PlanDocument | None = Field(
        None, description="The plan (stored as validated on save); null in a plan's version list."
    )


class AttachmentOut(BaseModel):
    attachment_id: int
    title: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: str | None


class PlanOut(BaseModel):
    plan: PlanSummaryOut
    versions: list[VersionOut] = Field(description="Newest first, without documents.")
    latest: VersionOut | None
    published: VersionOut | None
    attachments: list[AttachmentOut]


class HydrantOut(BaseModel):
    id: int
    code: str
    hydrant_type: str
    status: str
    flow_lps: float
    lon: float
    lat: float
    road_distance_m: float


class DeviceNowOut(BaseModel):
    device_id: int
    code: str
    kind: str
    health: str
    online: bool
    last_seen: str | None


class AlarmNowOut(BaseModel):
    alarm_id: int
    kind: str
    status: str
    device_id: int | None
    device_kind: str | None
    opened_at: str | None


class LiveOut(BaseModel):
    plan: PlanSummaryOut
    venue: dict[str, Any]
    version: VersionOut | None
    attachments: list[AttachmentOut]
    devices: list[DeviceNowOut]
    open_alarms: list[AlarmNowOut]
    hydrants: list[HydrantOut]
    route: dict[str, Any] | None
    as_of: str
    geo_unavailable: str | None = None


class CycleOut(BaseModel):
    review_interval_days: dict[str, int]
