"""API shapes of the 110 link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel


class EidoDocument(RootModel[dict[str, Any]]):
    """An EIDO (NENA-STA-021.1) document; see docs/interop-eido.md for the subset used."""


class EidoReceipt(BaseModel):
    """The answer to an EIDO from a 110 peer (repeated as is to a duplicate)."""

    result: str = Field(description="transferred, updated or ignored")
    incident_id: int | None = None
    message_id: str
    duplicate: bool
    notes_added: int = 0
    merged: bool | None = None
    incident_type_assumed: bool | None = None
    reason: str | None = None
    last_update_at: str | None = None


class PeerAlertOut(BaseModel):
    kind: str
    raised_at: datetime
    cause: str


class PeerHealthOut(BaseModel):
    peer: str
    name: str
    url: str
    backlog: int
    dead_letters: int
    oldest_pending_age_s: float | None
    last_ack_at: datetime | None
    sent: int
    acked: int
    retries: int
    failures: int
    last_failure_at: datetime | None
    last_error: str
    p99_round_trip_ms: float | None
    round_trip_samples: int
    alert: PeerAlertOut | None


class LinkStatusOut(BaseModel):
    link: str
    at: datetime
    peers: list[PeerHealthOut]


class DeadLetterOut(BaseModel):
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


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut]
    count: int


class TransferOut(BaseModel):
    status: str
    requested_at: datetime
    acked_at: datetime | None


class LinkedOut(BaseModel):
    peer: str
    remote_id: str
    direction: str
    last_update_at: datetime
    updates_applied: int


class IncidentLinkOut(BaseModel):
    """The 110 status of an incident."""

    incident_id: int
    peer: str | None
    peer_name: str | None
    acked: int
    pending: int
    dead: int
    last_ack_at: datetime | None
    transfer: TransferOut | None
    linked: list[LinkedOut]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=300, description="Why 110 is needed.")
