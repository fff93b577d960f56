"""HTTP routes of the downlink (mounted under ``/api/v1``).

- ``POST /device-commands/check-post``: a check post (查岗) to one venue's transmitters, or
  to every venue in the caller's jurisdiction (permission ``devices:command``);
- ``POST /devices/{device_id}/poll``: poll one transmitter now, or send it another
  downstream command (``kind`` and ``parameters``) (``devices:command``);
- ``GET /device-commands``: command results, newest first (``devices:read``).

The API process only writes ``queued`` rows; the ingest process holding the connection sends
them (see :mod:`firegrid.ingest.commands.dispatcher`).
"""

# No ``from __future__ import annotations``: FastAPI reads the real annotations.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.ingest.commands import catalogue, requests

router = APIRouter(tags=["device commands"])
MAX_ID = 2**31 - 1

CommandDevices = Annotated[Principal, Depends(require("devices:command"))]
ReadDevices = Annotated[Principal, Depends(require("devices:read"))]


class CheckPostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    venue_code: str | None = Field(None, max_length=40, description="One venue; or all=true.")
    all: bool = Field(False, description="Every venue with a transmitter in your jurisdiction.")
    reply_window_s: int | None = Field(
        None, ge=1, le=catalogue.MAX_REPLY_WINDOW_S, description="Seconds to press the button."
    )


class CheckPostOut(BaseModel):
    round_id: str
    commands: int
    devices: int
    venues: int
    venue: str | None
    reply_window_s: int
    command_ids: list[int]


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(catalogue.POLL, description="A downstream command kind.")
    parameters: dict[str, Any] = Field(default_factory=dict)


class CommandOut(BaseModel):
    id: int
    device_id: int
    venue_id: int | None
    kind: str
    parameters: dict[str, Any]
    requested_by: str
    cause: str
    round_id: str | None
    requested_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    finished_at: datetime | None
    status: str
    result: dict[str, Any] | None
    device_code: str | None = None
    venue_code: str | None = None
    venue_name: str | None = None


class CommandList(BaseModel):
    items: list[CommandOut]


@router.post(
    "/device-commands/check-post",
    summary="Check that the control rooms are staffed (查岗)",
    status_code=201,
    response_model=CheckPostOut,
)
def check_post(body: CheckPostIn, session: SessionDep, principal: CommandDevices) -> Any:
    return requests.start_check_post(
        session,
        principal,
        venue_code=body.venue_code,
        all_venues=body.all,
        reply_window_s=body.reply_window_s,
    )


@router.post(
    "/devices/{device_id}/poll",
    summary="Poll a transmitter now (巡检), or send it another downstream command",
    status_code=201,
    response_model=CommandOut,
)
def poll_device(
    device_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    principal: CommandDevices,
    body: CommandIn | None = None,
) -> Any:
    body = body or CommandIn()
    cause = "poll" if body.kind == catalogue.POLL else "command"
    row = requests.request_command(
        session, principal, device_id, kind=body.kind, parameters=body.parameters, cause=cause
    )
    return requests.command_out(row)


@router.get(
    "/device-commands", summary="Downstream commands and their results", response_model=CommandList
)
def list_commands(
    session: SessionDep,
    principal: ReadDevices,
    round_id: Annotated[str | None, Query(pattern="^[0-9a-f]{1,40}$")] = None,
    device_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    venue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Annotated[str | None, Query(pattern="^[a-z_]{1,16}$")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 100,
) -> Any:
    items = requests.list_commands(
        session,
        principal,
        round_id=round_id,
        device_id=device_id,
        venue_id=venue_id,
        status=status,
        limit=limit,
        venue_ids=sorted(principal.venue_ids) if principal.role == "venue_manager" else None,
    )
    return {"items": items}
