"""Periods of the analytics, in local time (Dongguan: Asia/Shanghai): ``2025``,
``2025-03``, ``2025-Q1``, ``2025-03-01..2025-04-01`` (end exclusive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_FORMS = "2025, 2025-03, 2025-Q1 or 2025-03-01..2025-04-01"


@dataclass(frozen=True)
class Period:
    label: str
    since: datetime  # inclusive, aware
    until: datetime  # exclusive, aware

    @property
    def seconds(self) -> float:
        return (self.until - self.since).total_seconds()


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """The period ``text`` names; a clear error naming the accepted forms otherwise."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            year = int(value)
            return Period(value, _start(date(year, 1, 1)), _start(date(year + 1, 1, 1)))
        if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
            year, month = int(match[1]), int(match[2])
            return Period(value, _start(date(year, month, 1)), _start(_month_after(year, month)))
        if match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", value):
            year, first = int(match[1]), 3 * (int(match[2]) - 1) + 1
            return Period(
                value, _start(date(year, first, 1)), _start(_month_after(year, first + 2))
            )
        if match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", value):
            since, until = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if until <= since:
                raise ValidationFailed(
                    f"period {text!r} ends before it starts",
                    {"period": text},
                    text=TextCode.VALIDATION_NOT_AFTER,
                    params={"field": "period", "other": "start"},
                )
            return Period(value, _start(since), _start(until))
    except ValueError:
        pass
    raise ValidationFailed(
        f"period {text!r} is not one of {_FORMS}",
        {"period": text},
        text=TextCode.VALIDATION_FORMAT,
        params={"field": "period", "value": text, "expected": _FORMS},
    )
