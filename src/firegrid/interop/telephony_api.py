"""HTTP routes of the telephony seam: the switch adapter posts call events and collects the
remote seat's requests; the remote seat lists current calls and asks the switch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.interop import schemas as s
from firegrid.interop import telephony

router = APIRouter(tags=["telephony"])

Switch = Annotated[Principal, Depends(require("telephony:events"))]
Read = Annotated[Principal, Depends(require("incidents:read"))]
Seat = Annotated[Principal, Depends(require("incidents:110"))]


@router.post(
    "/telephony/events", response_model=s.SwitchCallOut, summary="A call event of the switch"
)
def post_event(body: s.CallEventIn, principal: Switch, session: SessionDep) -> dict[str, Any]:
    event = telephony.CallEvent(
        event=body.event,
        switch_call_id=body.call_id,
        at=body.at,
        caller_number=body.caller_number,
        trunk=body.trunk,
        seat=body.seat,
        transferred_to=body.transferred_to,
        lon=body.lon,
        lat=body.lat,
        address_text=body.address_text,
    )
    return telephony.record_event(session, principal, event)


@router.get("/telephony/calls", response_model=s.SwitchCallList, summary="Current 119 calls")
def list_calls(
    principal: Read, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> dict[str, Any]:
    calls = telephony.current_calls(session, principal.scope_path, limit)
    return {"items": [telephony.call_dict(c) for c in calls], "count": len(calls)}


@router.post(
    "/telephony/calls/{call_id}/requests",
    response_model=s.SeatRequestOut,
    status_code=201,
    summary="Ask the switch to monitor, barge in on or release a call (remote seat)",
)
def request_action(
    call_id: int, body: s.SeatRequestIn, principal: Seat, session: SessionDep
) -> dict[str, Any]:
    call = telephony.get_switch_call(session, principal.scope_path, call_id)
    return telephony.request_dict(
        telephony.request_action(session, principal, call, body.kind, body.note)
    )


@router.get(
    "/telephony/requests", response_model=s.SeatRequestList, summary="Pending seat requests"
)
def pending(
    principal: Switch, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    rows = telephony.pending_requests(session, limit)
    return {"items": [telephony.request_dict(r) for r in rows], "count": len(rows)}


@router.post(
    "/telephony/requests/{request_id}/answer",
    response_model=s.SeatRequestOut,
    summary="The switch's answer to a seat request",
)
def answer(
    request_id: int, body: s.SeatAnswerIn, principal: Switch, session: SessionDep
) -> dict[str, Any]:
    return telephony.request_dict(
        telephony.answer_request(session, request_id, body.outcome, body.note)
    )
