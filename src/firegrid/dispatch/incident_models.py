"""Tables of incidents: calls, incidents, their timeline, assigned units, vehicle status log,
response plans, aid requests (joint defence, reinforcement) and station notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Incident(Base):
    """警情: one emergency that forces are sent to."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_last_call", "status", "last_call_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_type: Mapped[str] = mapped_column(String(32), index=True)
    venue_category: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="created")
    source: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float]
    lat: Mapped[float]
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    command_path: Mapped[str] = mapped_column(String(120), index=True)
    command_level: Mapped[str] = mapped_column(String(16))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), default=None)
    address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    call_count: Mapped[int] = mapped_column(default=1)
    call_received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_call_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    turnout_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    under_control_at: Mapped[datetime | None] = mapped_column(default=None)
    extinguished_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IncidentCall(Base):
    """One call (119), transfer (110) or forwarded alarm; several may join one incident."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_source_ref", "source", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id"), index=True, default=None
    )
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    address_text: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(default=None)
    lat: Mapped[float | None] = mapped_column(default=None)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), default="", index=True)
    incident_type: Mapped[str] = mapped_column(String(32), default="")
    venue_category: Mapped[str] = mapped_column(String(40), default="")
    venue_id: Mapped[int | None] = mapped_column(default=None)
    description: Mapped[str] = mapped_column(String(1000), default="")
    external_ref: Mapped[str] = mapped_column(String(64), default="")
    geocode: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    received_at: Mapped[datetime]
    taken_by: Mapped[str] = mapped_column(String(120), default="")
    # declared so that one flush writes a new incident before the rows that refer to it
    incident: Mapped[Incident | None] = relationship(lazy="raise")


class TimelineEntry(Base):
    """One step of an incident, with its time, actor and cause."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120))
    cause: Mapped[str] = mapped_column(String(300), default="")
    vehicle_id: Mapped[int | None] = mapped_column(default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Assignment(Base):
    """A unit sent to an incident and its milestones there."""

    __tablename__ = "incident_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    status: Mapped[str] = mapped_column(String(24))
    via: Mapped[str] = mapped_column(String(24), default="dispatch")
    eta_s: Mapped[float | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(300), default="")
    aid_request_id: Mapped[int | None] = mapped_column(default=None)
    dispatched_at: Mapped[datetime]
    en_route_at: Mapped[datetime | None] = mapped_column(default=None)
    arrived_at: Mapped[datetime | None] = mapped_column(default=None)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    incident: Mapped[Incident] = relationship(lazy="raise")


class VehicleStatusChange(Base):
    """Every status change of a vehicle, with time, actor and cause."""

    __tablename__ = "vehicle_status_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    at: Mapped[datetime]
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    cause: Mapped[str] = mapped_column(String(300), default="")
    incident_id: Mapped[int | None] = mapped_column(default=None, index=True)


class ResponsePlan(Base):
    """等级调派方案: type x venue category x level -> required units (editable by admins)."""

    __tablename__ = "response_plans"
    __table_args__ = (UniqueConstraint("incident_type", "venue_category", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_type: Mapped[str] = mapped_column(String(32))
    venue_category: Mapped[str] = mapped_column(String(40), default="*")
    level: Mapped[int]
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class AidRequest(Base):
    """区域联防 (joint defence) or 增援 (reinforcement): a request and its answer."""

    __tablename__ = "aid_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_path: Mapped[str] = mapped_column(String(120))
    to_path: Mapped[str] = mapped_column(String(120), index=True)
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(120))
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_by: Mapped[str] = mapped_column(String(120), default="")
    answer_note: Mapped[str] = mapped_column(String(300), default="")
    vehicle_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class DispatchNotification(Base):
    """A dispatch order sent to a station (webhook) or printed there."""

    __tablename__ = "dispatch_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    url: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
