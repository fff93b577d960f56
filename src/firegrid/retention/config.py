"""Retention windows as data (``retention.yaml``, or the file ``FIREGRID_RETENTION`` names),
validated with an error that names the file, the kind and the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from firegrid.core.datafiles import load_yaml_model, parse_yaml_model

DEFAULT_FILE = "retention.yaml"
#: the shortest window GB 50440 allows per kind (days)
FLOOR_DAYS: dict[str, int] = {
    "alarms": 365,
    "alarm_events": 365,
    "alarm_transitions": 365,
    "device_events": 365,
    "incident_timeline": 365,
    "vehicle_status_log": 365,
    "uploads": 183,
    # not a record: the grid phones' idempotency keys. A phone resends what it queued
    # offline until it hears an answer; its key must outlive the longest time offline.
    "submission_keys": 30,
}
_FLOOR_SOURCE = {"submission_keys": "a phone's offline queue"}
#: kinds added after retention files were written: a file that names no window for them
#: gets this one instead of being refused
DEFAULT_DAYS: dict[str, int] = {"submission_keys": 180}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KindWindow(_Strict):
    keep_days: int = Field(gt=0, le=100 * 365)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.keep_days)


class RetentionConfig(_Strict):
    batch_rows: int = Field(2000, ge=1, le=100_000)
    compression: Literal["gzip"] = "gzip"
    kinds: dict[str, KindWindow]

    @model_validator(mode="before")
    @classmethod
    def _later_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("kinds"), dict):
            kinds = dict(data["kinds"])
            for kind, days in DEFAULT_DAYS.items():
                kinds.setdefault(kind, {"keep_days": days})
            data = {**data, "kinds": kinds}
        return data

    @model_validator(mode="after")
    def _floors(self) -> RetentionConfig:
        unknown = sorted(set(self.kinds) - set(FLOOR_DAYS))
        if unknown:
            raise ValueError(f"unknown record kinds {unknown}; known: {', '.join(FLOOR_DAYS)}")
        missing = sorted(set(FLOOR_DAYS) - set(self.kinds))
        if missing:
            raise ValueError(f"no window for record kinds {missing}")
        short = [
            f"{kind} keeps {w.keep_days} days, "
            f"{_FLOOR_SOURCE.get(kind, 'GB 50440')} needs at least {FLOOR_DAYS[kind]}"
            for kind, w in self.kinds.items()
            if w.keep_days < FLOOR_DAYS[kind]
        ]
        if short:
            raise ValueError("; ".join(short))
        return self


def parse_retention(text: str, origin: str) -> RetentionConfig:
    return parse_yaml_model(
        RetentionConfig,
        text,
        label="retention",
        origin=origin,
        shape="a mapping with 'kinds'",
        root_field="kinds",
    )


def load_retention(path: Path | None = None) -> RetentionConfig:
    """The windows of ``path``, or the packaged defaults."""
    return load_yaml_model(
        RetentionConfig,
        path,
        package="firegrid.retention",
        default_file=DEFAULT_FILE,
        label="retention",
        setting="FIREGRID_RETENTION",
        shape="a mapping with 'kinds'",
        root_field="kinds",
    )
