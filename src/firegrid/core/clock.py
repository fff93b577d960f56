"""Timezone-aware time. Every timestamp in firegrid carries its zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def ensure_aware(value: datetime, assume: ZoneInfo = CHINA_TZ) -> datetime:
    """Attach ``assume`` to a naive datetime (SQLite returns naive values) and keep aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=assume)
    return value
