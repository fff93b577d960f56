"""The ``device_state`` table: the live state of each device, flushed from memory.

Heartbeats are not rows: the tracker in :mod:`firegrid.devices.state` keeps state in memory
and writes one row per device that changed, every few seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.db import Base


class DeviceStateRow(Base):
    """Last known state of one registered device."""

    __tablename__ = "device_state"

    device_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    venue_id: Mapped[int | None] = mapped_column(index=True)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    changed_at: Mapped[datetime | None] = mapped_column(default=None)
    alarms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    faults: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    battery_pct: Mapped[float | None] = mapped_column(default=None)
    signal_dbm: Mapped[float | None] = mapped_column(default=None)
    last_kind: Mapped[str] = mapped_column(String(24), default="")
