"""The device registry: connected devices bound to venues."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base
from firegrid.core.models import Timestamped


class DeviceKind(StrEnum):
    TRANSMITTER = "transmitter"  # 用户信息传输装置
    SMOKE_ALARM = "smoke_alarm"  # 独立式感烟火灾探测报警器
    SPRINKLER_PRESSURE = "sprinkler_pressure"  # 喷淋压力
    ELECTRICAL_MONITOR = "electrical_monitor"  # 电气火灾监控


class DeviceProtocol(StrEnum):
    GB26875 = "gb26875"
    MQTT = "mqtt"
    HTTP = "http"


class Device(Timestamped, Base):
    """A connected device, identified by its protocol and external id."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("protocol", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    protocol: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    install_location: Mapped[str] = mapped_column(String(200), default="")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    # commissioning: never heard from, a device counts offline only once this date plus
    # the grace period (FIREGRID_COMMISSIONING_GRACE_S) has passed
    installed_at: Mapped[datetime | None] = mapped_column(default=None)
