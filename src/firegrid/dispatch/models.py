"""Resource tables: fire stations, forces, vehicles, hydrants, logistics points."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base
from firegrid.core.models import Located, Timestamped


class StationType(StrEnum):
    SPECIAL = "special"  # 特勤站
    STANDARD = "standard"  # 一级站
    SECONDARY = "secondary"  # 二级站
    SMALL = "small"  # 小型站
    MICRO = "micro"  # 微型消防站


class ForceKind(StrEnum):
    STATE = "state"  # 国家综合性消防救援队伍
    PROFESSIONAL = "professional"  # 政府专职队
    ENTERPRISE = "enterprise"  # 企业专职队
    VOLUNTEER = "volunteer"  # 志愿队


class VehicleType(StrEnum):
    PUMPER = "pumper"
    LADDER = "ladder"
    RESCUE = "rescue"
    TANKER = "tanker"
    COMMAND = "command"
    HAZMAT = "hazmat"
    FOAM = "foam"
    AMBULANCE = "ambulance"
    LOGISTICS = "logistics"


class HydrantStatus(StrEnum):
    IN_SERVICE = "in_service"
    LOW_PRESSURE = "low_pressure"
    OUT_OF_SERVICE = "out_of_service"


class Station(Located, Timestamped, Base):
    """消防站: a fire station of any force."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    station_type: Mapped[str] = mapped_column(String(16))
    force_kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(300), default="")
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    # dispatch orders are POSTed here as JSON when set (see firegrid.dispatch.notify)
    webhook_url: Mapped[str] = mapped_column(String(300), default="")


class Vehicle(Timestamped, Base):
    """A fire appliance with its crew and capabilities."""

    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    vehicle_type: Mapped[str] = mapped_column(String(16))
    call_sign: Mapped[str] = mapped_column(String(40))
    plate: Mapped[str] = mapped_column(String(20), default="")
    crew: Mapped[int] = mapped_column(default=4)
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24), default="available_in_station")
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    last_lon: Mapped[float | None] = mapped_column(default=None)
    last_lat: Mapped[float | None] = mapped_column(default=None)
    # dispatch context: when the status last changed, when the GPS fix was taken, and the
    # incident the unit is committed to (None when free)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    position_at: Mapped[datetime | None] = mapped_column(default=None)
    # not indexed: a unit's status changes often, and without an index on the changing
    # columns PostgreSQL updates the row in place (HOT) instead of bloating indexes
    incident_id: Mapped[int | None] = mapped_column(default=None)


class Hydrant(Located, Timestamped, Base):
    """消火栓: a hydrant with its type, flow and status."""

    __tablename__ = "hydrants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    hydrant_type: Mapped[str] = mapped_column(String(16), default="above_ground")
    flow_lps: Mapped[float] = mapped_column(default=15.0)
    status: Mapped[str] = mapped_column(String(16), default=HydrantStatus.IN_SERVICE.value)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)


class LogisticsPoint(Located, Timestamped, Base):
    """战勤保障点: a logistics support point."""

    __tablename__ = "logistics_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    supplies: Mapped[list[str]] = mapped_column(JSON, default=list)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
