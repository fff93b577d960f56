"""Staffing per vehicle and shift, and the rule the recommendation honours: a vehicle whose
crew on duty this shift is below its type's minimum is not sent (``staffing.yaml``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.datafiles import parse_yaml_model
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.staffing_models import VehicleStaffing

SHIFTS = ("day", "night")


class ShiftSpan(BaseModel):
    starts: time
    ends: time


class StaffingRules(BaseModel):
    version: int
    timezone: str
    shifts: dict[str, ShiftSpan]
    minimum_crew: dict[str, int]

    def minimum(self, vehicle_type: str) -> int:
        return self.minimum_crew.get(vehicle_type, 1)

    def shift_at(self, at: datetime) -> tuple[date, str]:
        """The shift (its date, where a night shift belongs to the day it starts) at ``at``."""
        local = at.astimezone(ZoneInfo(self.timezone))
        day = self.shifts["day"]
        if day.starts <= local.time() < day.ends:
            return local.date(), "day"
        if local.time() < day.starts:
            return local.date() - timedelta(days=1), "night"
        return local.date(), "night"


@lru_cache(maxsize=1)
def load_rules() -> StaffingRules:
    text = (files("firegrid.dispatch") / "staffing.yaml").read_text(encoding="utf-8")
    return parse_yaml_model(
        StaffingRules, text, label="staffing rules", origin="staffing.yaml", shape="a mapping"
    )


def understaffed(session: Session, at: datetime) -> dict[int, tuple[int, int]]:
    """Vehicles declared below their minimum crew for the shift at ``at``:
    vehicle id -> (crew on duty, minimum)."""
    rules = load_rules()
    shift_date, shift = rules.shift_at(at)
    rows = session.execute(
        select(VehicleStaffing.vehicle_id, VehicleStaffing.crew_on_duty, Vehicle.vehicle_type)
        .join(Vehicle, Vehicle.id == VehicleStaffing.vehicle_id)
        .where(VehicleStaffing.shift_date == shift_date, VehicleStaffing.shift == shift)
    ).all()
    out = {}
    for vehicle_id, crew, vehicle_type in rows:
        minimum = rules.minimum(vehicle_type)
        if crew < minimum:
            out[int(vehicle_id)] = (int(crew), minimum)
    return out


def declare(
    session: Session,
    principal: Principal,
    vehicle: Vehicle,
    shift_date: date,
    shift: str,
    crew_on_duty: int,
    note: str = "",
) -> dict[str, Any]:
    """Set the crew on duty of ``vehicle`` for one shift (audited)."""
    if shift not in SHIFTS:
        raise ValidationFailed(
            f"shift must be one of {', '.join(SHIFTS)}",
            {"shift": shift},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "shift", "value": shift, "allowed": SHIFTS},
        )
    row = session.scalars(
        select(VehicleStaffing).where(
            VehicleStaffing.vehicle_id == vehicle.id,
            VehicleStaffing.shift_date == shift_date,
            VehicleStaffing.shift == shift,
        )
    ).first()
    before = None if row is None else {"crew_on_duty": row.crew_on_duty, "note": row.note}
    if row is None:
        row = VehicleStaffing(
            vehicle_id=vehicle.id, shift_date=shift_date, shift=shift, crew_on_duty=0
        )
        session.add(row)
    row.crew_on_duty = crew_on_duty
    row.note = note[:300]
    row.updated_by = principal.username
    session.flush()
    record_change(
        session, principal, "staffing", "vehicles", str(vehicle.id), before,
        {"shift_date": shift_date.isoformat(), "shift": shift, "crew_on_duty": crew_on_duty},
    )  # fmt: skip
    return staffing_dict(row, vehicle)


def staffing_dict(row: VehicleStaffing, vehicle: Vehicle) -> dict[str, Any]:
    minimum = load_rules().minimum(vehicle.vehicle_type)
    return {
        "vehicle_id": vehicle.id,
        "call_sign": vehicle.call_sign,
        "vehicle_type": vehicle.vehicle_type,
        "shift_date": row.shift_date.isoformat(),
        "shift": row.shift,
        "crew_on_duty": row.crew_on_duty,
        "minimum_crew": minimum,
        "meets_minimum": row.crew_on_duty >= minimum,
        "note": row.note,
    }
