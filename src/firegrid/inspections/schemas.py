"""Request and response bodies of the inspections API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from firegrid.core.texts import ParamValue, TextCode

MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class HazardIn(BaseModel):
    """A hazard found at the inspection."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40, description="Code of a hazard category.")
    severity: str = Field("general", pattern="^(major|general)$")
    description: str = Field("", max_length=500)
    deadline: AwareDatetime | None = Field(
        None, description="整改期限; default: the category's usual deadline for the severity."
    )


class InspectionIn(BaseModel):
    """One inspection of a venue, with the hazards found."""

    model_config = ConfigDict(extra="forbid")

    venue_id: Id
    inspected_at: AwareDatetime | None = Field(None, description="Default: now.")
    grid_worker_id: Id | None = Field(
        None, description="The grid worker who inspected (must work in the venue's grid)."
    )
    result: str | None = Field(
        None,
        pattern="^(passed|hazards_found|not_accessible)$",
        description="Default: hazards_found when hazards are given, else passed.",
    )
    note: str = Field("", max_length=2000)
    hazards: list[HazardIn] = Field(default_factory=list, max_length=50)
    checklist: str = Field("", max_length=40, description="Code of the checklist answered.")
    checklist_answers: dict[Annotated[str, Field(max_length=40)], Literal["ok", "fail", "na"]] = (
        Field(default_factory=dict, max_length=100, description="Item code -> ok, fail or na.")
    )
    gps_status: Literal["", "recorded", "denied", "unavailable"] = Field(
        "", description="recorded with a position, or why the phone gave none."
    )
    gps_lon: float | None = Field(None, ge=-180, le=180)
    gps_lat: float | None = Field(None, ge=-90, le=90)
    gps_accuracy_m: float | None = Field(None, ge=0, le=100_000, description="Radius, metres.")
    gps_at: AwareDatetime | None = Field(None, description="When the phone took the fix.")


class TransitionOut(BaseModel):
    from_status: str
    to_status: str
    at: datetime
    actor: str
    cause: str
    cause_code: TextCode | None = Field(
        None, description="The cause as a text code the console translates (None: free text)."
    )
    cause_params: dict[str, ParamValue] = Field(default_factory=dict)


class HazardOut(BaseModel):
    id: int
    venue_id: int
    inspection_id: int
    category: str
    category_name_zh: str
    category_name_en: str
    severity: str
    description: str
    found_at: datetime
    deadline: datetime
    status: str = Field(description="open, rectified or overdue (open past its deadline).")
    overdue: bool
    rectified_at: datetime | None
    rectified_by: str
    evidence_note: str
    evidence_photo: str
    jurisdiction_path: str
    transitions: list[TransitionOut] | None = None


class InspectionOut(BaseModel):
    id: int
    venue_id: int
    grid_worker_id: int | None
    inspector_subject: str
    inspector_name: str
    inspected_at: datetime
    result: str
    note: str
    jurisdiction_path: str
    hazard_count: int
    checklist: str = ""
    checklist_answers: dict[str, str] = Field(default_factory=dict)
    evidence_photo: str = ""
    gps_status: str = ""
    gps_lon: float | None = None
    gps_lat: float | None = None
    gps_accuracy_m: float | None = None
    gps_at: datetime | None = None
    hazards: list[HazardOut] | None = None


class InspectionPage(BaseModel):
    items: list[InspectionOut]
    next_cursor: str | None
    count: int


class HazardPage(BaseModel):
    items: list[HazardOut]
    next_cursor: str | None
    count: int


class CategoryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    deadline_days: dict[str, int]


class CategoryCount(BaseModel):
    category: str
    open: int
    overdue: int
    rectified: int


class VenueSummary(BaseModel):
    venue_id: int
    inspections: int
    last_inspected_at: datetime | None
    days_since_inspection: float | None
    last_result: str | None
    open_hazards: int
    overdue_rectifications: int
    rectified_hazards: int
    major_open: int
    next_deadline: datetime | None
    by_category: list[CategoryCount]


class ChecklistItemOut(BaseModel):
    code: str
    zh: str
    en: str


class ChecklistOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    items: list[ChecklistItemOut]


class ChecklistsOut(BaseModel):
    """The declared checklists (``inspections/checklists.yaml``)."""

    items: list[ChecklistOut]
    count: int
