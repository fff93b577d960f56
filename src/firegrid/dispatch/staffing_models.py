"""The ``vehicle_staffing`` table: crew on duty per vehicle, date and shift."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base


class VehicleStaffing(Base):
    """在岗人数: how many firefighters crew a vehicle on one shift."""

    __tablename__ = "vehicle_staffing"
    __table_args__ = (UniqueConstraint("vehicle_id", "shift_date", "shift"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    shift_date: Mapped[date] = mapped_column(Date, index=True)
    shift: Mapped[str] = mapped_column(String(8))
    crew_on_duty: Mapped[int]
    note: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
