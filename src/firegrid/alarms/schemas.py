"""Request shapes of the alarms API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from firegrid.alarms.states import FalseReason


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_In):
    note: str = Field("", max_length=2000)


class CallIn(_In):
    outcome: Literal["fire", "false_alarm", "no_answer"]
    reason: FalseReason | None = None
    note: str = Field("", max_length=2000)


class ConfirmIn(_In):
    note: str = Field("", max_length=2000)
    forward: bool = True


class FalseIn(_In):
    reason: FalseReason
    note: str = Field("", max_length=2000)


class WindowIn(_In):
    venue_id: int
    device_id: int | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Literal["test", "maintenance"]
    note: str = Field("", max_length=300)


class RuleIn(_In):
    """A correlation rule (the shape of one entry of ``rules.yaml``)."""

    name: str
    description: str = ""
    enabled: bool = True
    when: dict[str, Any]
    then: dict[str, Any]


def window_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "venue_id": row.venue_id,
        "device_id": row.device_id,
        "jurisdiction_path": row.jurisdiction_path,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "reason": row.reason,
        "note": row.note,
        "created_by": row.created_by,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
