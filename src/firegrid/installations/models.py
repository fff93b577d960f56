"""Tables of the installations context: programmes and the installations recorded in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base


class DeviceType(StrEnum):
    SMOKE_ALARM = "smoke_alarm"  # 独立式感烟火灾探测报警器
    SIMPLE_SPRINKLER = "simple_sprinkler"  # 简易喷淋


class UnitKind(StrEnum):
    """What the device was installed in."""

    HOUSEHOLD = "household"  # 户
    ROOM = "room"  # 间 (a rented room, a dormitory room)
    VENUE = "venue"  # 场所 (a three-small venue, a shop)


#: the registered device kind a connected installation of each type binds to
BINDABLE_KINDS: dict[str, frozenset[str]] = {
    DeviceType.SMOKE_ALARM.value: frozenset({"smoke_alarm"}),
    DeviceType.SIMPLE_SPRINKLER.value: frozenset({"sprinkler_pressure"}),
}


class InstallationProgramme(Base):
    """安装工程: a programme of installations run by a town (or the city) over a period."""

    __tablename__ = "installation_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_path: Mapped[str] = mapped_column(String(120), index=True)  # who runs it
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    target_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))


class Installation(Base):
    """One device installed in a household, room or venue."""

    __tablename__ = "installations"
    __table_args__ = (Index("ix_installations_path_at", "jurisdiction_path", "installed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("installation_programmes.id"), index=True)
    device_type: Mapped[str] = mapped_column(String(24))
    unit_kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(300), default="")
    household: Mapped[str] = mapped_column(String(120), default="")  # 户/房号
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True, default=None)
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id"), unique=True, default=None
    )
    installed_at: Mapped[datetime] = mapped_column(index=True)
    installer: Mapped[str] = mapped_column(String(120))
    jurisdiction_path: Mapped[str] = mapped_column(String(120))  # the grid's path
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(120))
