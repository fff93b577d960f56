"""Request and response bodies of the installations API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
DeviceTypeName = Literal["smoke_alarm", "simple_sprinkler"]
UnitKindName = Literal["household", "room", "venue"]


class ProgrammeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    scope_code: str = Field(
        min_length=1, max_length=32, description="The town (or city) that runs it."
    )
    starts_on: date
    ends_on: date
    target_count: int = Field(0, ge=0, le=10_000_000)


class ProgrammeOut(BaseModel):
    id: int
    code: str
    name: str
    scope_path: str
    starts_on: date
    ends_on: date
    target_count: int
    installed: int
    created_at: datetime
    created_by: str


class ProgrammeList(BaseModel):
    items: list[ProgrammeOut]
    count: int


class InstallationIn(BaseModel):
    """One device installed; the place is a venue (venue_id) or a household/room in a grid."""

    model_config = ConfigDict(extra="forbid")

    device_type: DeviceTypeName
    unit_kind: UnitKindName
    installed_at: AwareDatetime
    installer: str = Field(min_length=1, max_length=120)
    venue_id: Id | None = None
    grid_code: str | None = Field(None, max_length=32)
    address: str = Field("", max_length=300)
    household: str = Field("", max_length=120, description="Household or room (户/房号).")
    device_id: Id | None = Field(
        None, description="The registered connected device, bound when given."
    )


class InstallationOut(BaseModel):
    id: int
    programme_id: int
    device_type: str
    unit_kind: str
    address: str
    household: str
    venue_id: int | None
    device_id: int | None
    installed_at: datetime
    installer: str
    jurisdiction_path: str
    recorded_at: datetime
    recorded_by: str


class InstallationPage(BaseModel):
    items: list[InstallationOut]
    next_cursor: str | None
    count: int


class ReportRowOut(BaseModel):
    period: str  # a month, YYYY-MM
    level: str
    unit: str
    unit_name_zh: str
    unit_name_en: str
    smoke_alarms: int
    simple_sprinklers: int
    connected: int
    households: int
    venues: int
    total: int


class ReportTotals(BaseModel):
    smoke_alarms: int
    simple_sprinklers: int
    connected: int
    households: int
    venues: int
    total: int


class ReportOut(BaseModel):
    period: str
    level: str
    items: list[ReportRowOut]
    totals: ReportTotals
    count: int
