"""Crew on duty per vehicle and shift (在岗人数)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.core.clock import utcnow
from firegrid.dispatch import staffing
from firegrid.dispatch.incidents import vehicle_in_scope
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.staffing_models import VehicleStaffing

router = APIRouter(tags=["dispatch"])


class StaffingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shift_date: date | None = Field(None, description="Default: the current shift's date.")
    shift: str | None = Field(None, pattern="^(day|night)$", description="Default: current.")
    crew_on_duty: int = Field(ge=0, le=30)
    note: str = Field("", max_length=300)


class StaffingOut(BaseModel):
    vehicle_id: int
    call_sign: str
    vehicle_type: str
    shift_date: str
    shift: str
    crew_on_duty: int
    minimum_crew: int
    meets_minimum: bool
    note: str


class StaffingListOut(BaseModel):
    shift_date: str
    shift: str
    items: list[StaffingOut]


@router.put(
    "/units/{vehicle_id}/staffing",
    response_model=StaffingOut,
    summary="Declare a vehicle's crew on duty for a shift",
)
def put_staffing(
    vehicle_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: StaffingIn,
    principal: Annotated[Principal, Depends(require("units:status"))],
    session: SessionDep,
) -> dict[str, Any]:
    vehicle = vehicle_in_scope(session, principal, vehicle_id)
    current_date, current_shift = staffing.load_rules().shift_at(utcnow())
    return staffing.declare(
        session,
        principal,
        vehicle,
        body.shift_date or current_date,
        body.shift or current_shift,
        body.crew_on_duty,
        body.note,
    )


@router.get("/staffing", response_model=StaffingListOut, summary="Crew on duty of a shift")
def list_staffing(
    principal: Annotated[Principal, Depends(require("resources:read"))],
    session: SessionDep,
    shift_date: Annotated[date | None, Query()] = None,
    shift: Annotated[str | None, Query(pattern="^(day|night)$")] = None,
) -> dict[str, Any]:
    """The declarations of the shift (the current one by default) for your vehicles."""
    current_date, current_shift = staffing.load_rules().shift_at(utcnow())
    day, which = shift_date or current_date, shift or current_shift
    rows = session.execute(
        select(VehicleStaffing, Vehicle)
        .join(Vehicle, Vehicle.id == VehicleStaffing.vehicle_id)
        .where(
            VehicleStaffing.shift_date == day,
            VehicleStaffing.shift == which,
            principal.scope_filter(Vehicle.jurisdiction_path),
        )
        .order_by(Vehicle.id)
    ).all()
    return {
        "shift_date": day.isoformat(),
        "shift": which,
        "items": [staffing.staffing_dict(row, vehicle) for row, vehicle in rows],
    }
