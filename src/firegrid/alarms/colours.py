"""Three-colour status (green / yellow / red) per venue, grid, village and town.

Computed from the monitoring centre's own tables (open fire alarms, unresolved faults,
offline devices, overdue work orders) and the device registry's counts, with the rules
declared as data in ``colour_rules.yaml``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms.models import Alarm, WorkOrder
from firegrid.alarms.service import LEVEL_DEPTH, level_path
from firegrid.alarms.states import AlarmKind, AlarmStatus
from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import first_of, pydantic_problems
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device
from firegrid.ingest.public import EventKind

Level = Literal["venue", "grid", "village", "town"]
LEVELS: tuple[Level, ...] = ("venue", "grid", "village", "town")
METRICS = ("open_fire_alarms", "unresolved_faults", "offline_ratio", "overdue_work_orders")


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["open_fire_alarms", "unresolved_faults", "offline_ratio", "overdue_work_orders"]
    at_least: float = Field(ge=0)
    levels: list[Level] = Field(default_factory=lambda: list(LEVELS))


class ColourRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    colours: dict[Literal["red", "yellow"], list[Condition]]


def parse_colour_rules(text: str) -> ColourRules:
    try:
        return ColourRules.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as exc:
        raise ValidationFailed(
            f"colour rules are not valid YAML: {exc}",
            text=TextCode.DOCUMENT_NOT_YAML,
            params={"kind": "colour_rules"},
        ) from None
    except ValidationError as exc:
        found = pydantic_problems(exc.errors())
        raise ValidationFailed(
            f"colour rules are not valid: {exc}",
            {"problems": [f.as_dict() for f in found]},
            text=TextCode.DOCUMENT_INVALID,
            params={"kind": "colour_rules", **first_of(found)},
        ) from None


@lru_cache(maxsize=1)
def default_colour_rules() -> ColourRules:
    return parse_colour_rules(
        (files("firegrid.alarms") / "colour_rules.yaml").read_text(encoding="utf-8")
    )


@dataclass
class Metrics:
    open_fire_alarms: int = 0
    unresolved_faults: int = 0
    offline_devices: int = 0
    devices: int = 0
    overdue_work_orders: int = 0
    venues: set[int] = field(default_factory=set)

    @property
    def offline_ratio(self) -> float:
        return self.offline_devices / self.devices if self.devices else 0.0

    def add(self, other: Metrics) -> None:
        self.open_fire_alarms += other.open_fire_alarms
        self.unresolved_faults += other.unresolved_faults
        self.offline_devices += other.offline_devices
        self.devices += other.devices
        self.overdue_work_orders += other.overdue_work_orders
        self.venues |= other.venues

    def value(self, metric: str) -> float:
        return float(getattr(self, metric))

    def as_dict(self) -> dict[str, Any]:
        return {
            "open_fire_alarms": self.open_fire_alarms,
            "unresolved_faults": self.unresolved_faults,
            "offline_devices": self.offline_devices,
            "devices": self.devices,
            "offline_ratio": round(self.offline_ratio, 4),
            "overdue_work_orders": self.overdue_work_orders,
        }


def colour_of(metrics: Metrics, level: Level, rules: ColourRules) -> tuple[str, list[str]]:
    """The colour and the conditions that gave it."""
    for colour in ("red", "yellow"):
        reasons = [
            f"{c.metric} >= {c.at_least:g}"
            for c in rules.colours.get(colour, [])
            if level in c.levels and metrics.value(c.metric) >= c.at_least
        ]
        if reasons:
            return colour, reasons
    return "green", []


def venue_metrics(
    session: Session, principal: Principal, now: datetime
) -> dict[tuple[int | None, str], Metrics]:
    """Metrics of every venue in scope that has devices, alarms or work orders."""
    metrics: dict[tuple[int | None, str], Metrics] = defaultdict(Metrics)
    scope_alarm = principal.scope_filter(Alarm.jurisdiction_path)
    for venue_id, path, count in session.execute(
        select(Alarm.venue_id, Alarm.jurisdiction_path, func.count())
        .where(
            scope_alarm,
            Alarm.kind == AlarmKind.FIRE.value,
            Alarm.status.in_(
                [
                    AlarmStatus.NEW,
                    AlarmStatus.ACKNOWLEDGED,
                    AlarmStatus.VERIFYING,
                    AlarmStatus.CONFIRMED,
                ]
            ),
            Alarm.venue_id.is_not(None),
        )
        .group_by(Alarm.venue_id, Alarm.jurisdiction_path)
    ).all():
        metrics[(venue_id, path)].open_fire_alarms += int(count)
    for venue_id, path, first_kind, count in session.execute(
        select(
            Alarm.venue_id,
            Alarm.jurisdiction_path,
            Alarm.first_event_kind,
            func.count(func.distinct(Alarm.device_id)),
        )
        .where(
            scope_alarm,
            Alarm.kind == AlarmKind.FAULT.value,
            Alarm.status != AlarmStatus.CLOSED.value,
            Alarm.status != AlarmStatus.FALSE_ALARM.value,
            Alarm.cleared_at.is_(None),
            Alarm.venue_id.is_not(None),
        )
        .group_by(Alarm.venue_id, Alarm.jurisdiction_path, Alarm.first_event_kind)
    ).all():
        entry = metrics[(venue_id, path)]
        entry.unresolved_faults += int(count)
        if first_kind == EventKind.OFFLINE:
            entry.offline_devices += int(count)
    for venue_id, path, count in session.execute(
        select(WorkOrder.venue_id, WorkOrder.jurisdiction_path, func.count())
        .where(
            principal.scope_filter(WorkOrder.jurisdiction_path),
            WorkOrder.status == "open",
            WorkOrder.due_at < now,
            WorkOrder.venue_id.is_not(None),
        )
        .group_by(WorkOrder.venue_id, WorkOrder.jurisdiction_path)
    ).all():
        metrics[(venue_id, path)].overdue_work_orders += int(count)
    for venue_id, path, count in session.execute(
        select(Device.venue_id, Device.jurisdiction_path, func.count())
        .where(principal.scope_filter(Device.jurisdiction_path), Device.deleted_at.is_(None))
        .group_by(Device.venue_id, Device.jurisdiction_path)
    ).all():
        metrics[(venue_id, path)].devices += int(count)
    for (venue_id, _), entry in metrics.items():
        if venue_id is not None:
            entry.venues.add(venue_id)
    return metrics


def colours(
    session: Session,
    principal: Principal,
    level: Level,
    now: datetime,
    rules: ColourRules | None = None,
) -> list[dict[str, Any]]:
    """Colour of every unit of ``level`` in the caller's scope (non-green first)."""
    if level not in LEVELS:
        raise ValidationFailed(
            f"level must be one of {', '.join(LEVELS)}",
            {"level": level},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": LEVELS},
        )
    rules = rules or default_colour_rules()
    per_venue = venue_metrics(session, principal, now)
    units: dict[str, Metrics] = defaultdict(Metrics)
    if level == "venue":
        for (venue_id, path), entry in per_venue.items():
            units[f"{path}#{venue_id}"].add(entry)
    else:
        for (_, path), entry in per_venue.items():
            parts = [p for p in path.split("/") if p]
            if len(parts) >= LEVEL_DEPTH[level]:
                units[level_path(path, level)].add(entry)
    result = []
    for key, entry in units.items():
        colour, reasons = colour_of(entry, level, rules)
        path, _, venue = key.partition("#")
        item: dict[str, Any] = {
            "level": level,
            "path": path,
            "colour": colour,
            "reasons": reasons,
            **entry.as_dict(),
        }
        if level == "venue":
            item["venue_id"] = int(venue)
        else:
            item["code"] = path.rstrip("/").rsplit("/", 1)[-1]
            item["venues"] = len(entry.venues)
        result.append(item)
    order = {"red": 0, "yellow": 1, "green": 2}
    result.sort(key=lambda item: (order[item["colour"]], item["path"], item.get("venue_id", 0)))
    return result


def venue_colours(
    session: Session, principal: Principal, now: datetime, rules: ColourRules | None = None
) -> dict[int, str]:
    """Three-colour status of every venue in scope that is not green (absent = green)."""
    rules = rules or default_colour_rules()
    per_venue: dict[int, Metrics] = defaultdict(Metrics)
    for (venue_id, _), entry in venue_metrics(session, principal, now).items():
        if venue_id is not None:
            per_venue[venue_id].add(entry)
    result: dict[int, str] = {}
    for venue_id, entry in per_venue.items():
        colour, _ = colour_of(entry, "venue", rules)
        if colour != "green":
            result[venue_id] = colour
    return result
