"""GET /api/v1/live: the per-seat live channel (Server-Sent Events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, get_principal
from firegrid.api.shutdown import stopping_of
from firegrid.core.errors import ValidationFailed
from firegrid.live import stream
from firegrid.live.stream import Reader, parse_cursor

router = APIRouter(tags=["live"])

SignedIn = Annotated[Principal, Depends(get_principal)]

EVENTS_DOC = (
    "`text/event-stream`. Every message has an `id:` (the position `<alarm feed id>-<live "
    "entry id>`), an `event:` and a JSON `data:` line. Events: `hello` (first message, with "
    "the position the stream starts from), `reload` (the position asked for is too far "
    "behind or unknown: reload your lists, then follow), `heartbeat` (the current position), "
    "`alarm.*`, `task.*`, `workorder.*` (with `alarms:read`), `incident.new`, "
    "`incident.updated`, `unit.status` (with `incidents:read`); only entries in your "
    "jurisdiction. Resume with the `Last-Event-ID` header (browsers send it) or `?after=`."
)


#: one message of the stream (its SSE fields); ``data`` is a JSON object as text
EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": r"^\d+-\d+$"},
        "event": {"type": "string"},
        "data": {"type": "string"},
        "retry": {"type": "integer"},
    },
}


@router.get(
    "/live",
    summary="Live channel of your seat: alarms, tasks, incidents and units (Server-Sent Events)",
    description=EVENTS_DOC,
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The event stream.",
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
        }
    },
)
async def live_channel(
    request: Request,
    principal: SignedIn,
    db: DbDep,
    after: Annotated[
        str | None,
        Query(max_length=40, description="Resume after this position (`<feed id>-<live id>`)."),
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
    once: Annotated[
        bool, Query(description="Stop once caught up (for scripts and tests).")
    ] = False,
) -> StreamingResponse:
    start = None
    if after is not None:
        start = parse_cursor(after, "after")
    elif last_event_id:
        try:
            start = parse_cursor(last_event_id)
        except ValidationFailed:  # a browser's id from elsewhere: reload, don't refuse
            start = stream.UNKNOWN
    return StreamingResponse(
        stream.stream(
            db,
            Reader.of(principal),
            start,
            stopping=stopping_of(request.app),
            disconnected=request.is_disconnected,
            once=once,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
