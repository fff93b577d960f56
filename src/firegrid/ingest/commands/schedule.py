"""The periods of the periodic commands (data: ``schedule.yaml``).

The poll period of a transmitter is its venue category's (``poll.by_category``) or the
default; GB 50440 asks for at most 2 h, so a longer period is refused when the data is
loaded. The first due time of a device seen for the first time is spread over one period
(by a hash of its id), so 10,000 transmitters do not all fire together after a restart.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import yaml

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Problem
from firegrid.core.texts import TextCode

MAX_POLL_PERIOD_S = 7200
POLL = "poll"
CLOCK_SYNC = "clock_sync"


@dataclass(frozen=True)
class ScheduleSettings:
    poll_default_s: int = MAX_POLL_PERIOD_S
    poll_by_category: Mapping[str, int] = field(default_factory=dict)
    clock_sync_s: int = 86400

    def period_s(self, kind: str, category: str | None) -> int:
        if kind == CLOCK_SYNC:
            return self.clock_sync_s
        return self.poll_by_category.get(category or "", self.poll_default_s)

    def first_due(self, kind: str, device_id: int, period_s: int, now: datetime) -> datetime:
        """A first due time spread over one period (stable per device and kind)."""
        phase = (device_id * 2654435761 + (7 if kind == CLOCK_SYNC else 0)) % 1_000_003
        return now + timedelta(seconds=period_s * phase / 1_000_003)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScheduleSettings:
        poll = data.get("poll") or {}
        default = poll.get("default_period_s", MAX_POLL_PERIOD_S)
        by_category = dict(poll.get("by_category") or {})
        clock = (data.get("clock_sync") or {}).get("period_s", 86400)
        problems = {
            name: f"must be whole seconds in 1..{MAX_POLL_PERIOD_S}, got {value!r}"
            for name, value in {
                "poll.default_period_s": default,
                **{f"poll.by_category.{k}": v for k, v in by_category.items()},
            }.items()
            if not isinstance(value, int) or not 1 <= value <= MAX_POLL_PERIOD_S
        }
        if not isinstance(clock, int) or clock < 60:
            problems["clock_sync.period_s"] = f"must be whole seconds ≥ 60, got {clock!r}"
        if problems:
            raise ValidationFailed(
                "invalid command schedule",
                problems,
                text=TextCode.VALIDATION_FIELDS,
                params={"fields": sorted(problems)},
            )
        return cls(default, by_category, clock)


@functools.cache
def default_schedule() -> ScheduleSettings:
    text = (files("firegrid.ingest.commands") / "schedule.yaml").read_text(encoding="utf-8")
    return ScheduleSettings.from_mapping(yaml.safe_load(text))


def load_schedule(path: str) -> ScheduleSettings:
    """The schedule in the YAML file ``path`` (same layout as ``schedule.yaml``)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(
            f"cannot read the command schedule {path}: {exc}",
            {"path": path},
            text=TextCode.FILE_UNREADABLE,
            params={"file": str(path)},
        ) from exc
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"the command schedule {path} is not a mapping",
            {"path": path},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "command_schedule", "field": "", "problem": Problem.NOT_MAPPING},
        )
    return ScheduleSettings.from_mapping(data)
