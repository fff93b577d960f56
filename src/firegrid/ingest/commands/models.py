"""Tables of downstream commands.

- ``device_commands``: one row per command to a device, written by whoever asks (API, CLI,
  the schedule) as ``queued`` and moved on by the ingest process that holds the device's
  connection: ``sent`` → ``answered`` / ``timed_out`` / ``failed``; ``not_connected`` when
  no process held the connection in time. Every row keeps who asked, why and when.
- ``device_command_schedules``: the stored next-due time of each device's periodic poll
  and clock sync, so the schedule survives a restart.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CommandStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ANSWERED = "answered"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    NOT_CONNECTED = "not_connected"


OPEN_STATUSES = (CommandStatus.QUEUED, CommandStatus.SENT)


class DeviceCommand(Base):
    """One command to one device and what became of it."""

    __tablename__ = "device_commands"
    __table_args__ = (
        Index("ix_device_commands_status", "status"),
        Index("ix_device_commands_device_requested", "device_id", "requested_at"),
        Index("ix_device_commands_round", "round_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    venue_id: Mapped[int | None] = mapped_column(Integer, index=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(120), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the actor: ``user:<id>``, ``apikey:<id>``, ``system:<name>`` or ``schedule``
    requested_by: Mapped[str] = mapped_column(String(80))
    #: why: ``check_post``, ``poll``, ``schedule.poll``, ``schedule.clock_sync`` ...
    cause: Mapped[str] = mapped_column(String(80))
    #: commands started together (one check-post round over many venues) share it
    round_id: Mapped[str | None] = mapped_column(String(40), default=None)
    requested_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default=CommandStatus.QUEUED)
    #: the ingest process that sent it (``--worker-id``) and the serial number used
    sent_by: Mapped[str | None] = mapped_column(String(40), default=None)
    serial: Mapped[int | None] = mapped_column(Integer, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class DeviceCommandSchedule(Base):
    """When a device's periodic command (``poll`` or ``clock_sync``) is next due."""

    __tablename__ = "device_command_schedules"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    period_s: Mapped[int] = mapped_column(Integer)
    next_due_at: Mapped[datetime] = mapped_column(index=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(default=None)
