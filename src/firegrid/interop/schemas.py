"""API shapes of the 110 link."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from firegrid.api.schemas import PeerHealthOut


class EidoDocument(BaseModel):
    """An EIDO (NENA-STA-021.1) document: its top-level fields with EIDO's names; the
    components' own fields are validated against ``eido_subset.schema.json`` when the
    document is made (see docs/interop-eido.md for the subset used)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(alias="$id")
    last_update_time_stamp: str = Field(alias="lastUpdateTimeStamp")
    updated_by_agency_reference: dict[str, Any] = Field(alias="updatedByAgencyReference")
    eido_version: Literal["1.0"] = Field(alias="eidoVersion")
    issuing_element_identification: str = Field(alias="issuingElementIdentification")
    agency_component: list[dict[str, Any]] = Field(alias="agencyComponent")
    agent_component: list[dict[str, Any]] | None = Field(None, alias="agentComponent")
    incident_component: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, alias="incidentComponent"
    )
    call_component: list[dict[str, Any]] | None = Field(None, alias="callComponent")
    location_component: list[dict[str, Any]] | None = Field(None, alias="locationComponent")
    person_component: list[dict[str, Any]] | None = Field(None, alias="personComponent")
    notes_component: list[dict[str, Any]] | None = Field(None, alias="notesComponent")
    emergency_resource_component: list[dict[str, Any]] | None = Field(
        None, alias="emergencyResourceComponent"
    )
    link_component: list[dict[str, Any]] | None = Field(None, alias="linkComponent")


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
    location: str | None = Field(
        None,
        description="a follow-up on a transferred incident: unchanged, call (the transferred "
        "call moved) or incident (the incident moved too)",
    )
    status: str | None = Field(
        None,
        description="a follow-up on a transferred incident: unchanged, closed (110 closed it "
        "before any unit was sent) or units_sent (not applied: 119 runs the operation)",
    )


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


class CallEventIn(BaseModel):
    """One event of the switch (docs/telephony.md)."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern="^(offered|answered|transferred|released)$")
    call_id: str = Field(min_length=1, max_length=64, description="The switch's call id.")
    at: AwareDatetime
    caller_number: str = Field("", max_length=32)
    trunk: str = Field("", max_length=32)
    seat: str = Field("", max_length=64)
    transferred_to: str = Field("", max_length=64)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address_text: str = Field("", max_length=300)


class SwitchCallOut(BaseModel):
    id: int
    switch_call_id: str
    state: str
    caller_number: str
    trunk: str
    seat: str
    transferred_to: str
    intake_call_id: int | None
    offered_at: datetime
    answered_at: datetime | None
    released_at: datetime | None
    applied: bool | None = None


class SwitchCallList(BaseModel):
    items: list[SwitchCallOut]
    count: int


class SeatRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(monitor|barge_in|release)$")
    note: str = Field("", max_length=300)


class SeatRequestOut(BaseModel):
    id: int
    call_id: int
    kind: str
    status: str
    requested_by: str
    requested_at: datetime
    answered_at: datetime | None
    note: str


class SeatRequestList(BaseModel):
    items: list[SeatRequestOut]
    count: int


class SeatAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(pattern="^(done|failed)$")
    note: str = Field("", max_length=300)
