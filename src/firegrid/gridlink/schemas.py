"""API shapes of the grid link."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from firegrid.api.schemas import PeerHealthOut


class EventReceipt(BaseModel):
    """firegrid's answer to a grid event (the same answer, ``duplicate: true``, to a
    message id seen before)."""

    message_id: str
    event_id: str
    outcome: Literal["created", "updated", "stale"] = Field(
        description="created, updated, or stale (older than the last update applied)."
    )
    kind: Literal["hazard", "task"]
    id: int = Field(description="Our hazard or task id.")
    duplicate: bool


class GridLinkStatusOut(BaseModel):
    link: str
    at: datetime
    peers: list[PeerHealthOut]


class GridMessageOut(BaseModel):
    id: int
    peer: str
    order_key: str
    message_id: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    acked_at: datetime | None
    last_error: str


class GridMessageList(BaseModel):
    items: list[GridMessageOut]
