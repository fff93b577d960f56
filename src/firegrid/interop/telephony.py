"""The telephony seam: call events from the fire command centre's switch, and the remote
seat's requests to it. The switch is outside firegrid; an adapter next to it speaks the
JSON protocol of docs/telephony.md. firegrid never carries or records voice.

* ``offered`` opens the call in intake (its network location when the switch has one, else
  its address text when given; a call with neither waits for the taker to locate it);
  ``answered`` notes the seat; ``transferred`` the destination; ``released`` ends it.
  Events are idempotent: an event already recorded for the call is not applied again, and
  an event out of order (answered before offered) opens the call first.
* The 110 remote seat asks to ``monitor``, ``barge_in`` or ``release`` a call: the request is
  queued; the adapter collects pending requests and answers each (done / failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.dispatch import intake
from firegrid.dispatch.timeline import Actor, actor_name
from firegrid.interop.models import SeatRequest, SwitchCall

EVENTS = ("offered", "answered", "transferred", "released")
REQUESTS = ("monitor", "barge_in", "release")
OUTCOMES = ("done", "failed")


@dataclass(frozen=True)
class CallEvent:
    event: str
    switch_call_id: str
    at: datetime
    caller_number: str = ""
    trunk: str = ""
    seat: str = ""
    transferred_to: str = ""
    lon: float | None = None
    lat: float | None = None
    address_text: str = ""


def _open(session: Session, actor: Actor, event: CallEvent) -> SwitchCall:
    call = SwitchCall(
        switch_call_id=event.switch_call_id,
        state="offered",
        caller_number=event.caller_number[:32],
        trunk=event.trunk[:32],
        offered_at=event.at,
        updated_at=event.at,
        events=[],
    )
    if (event.lon is not None and event.lat is not None) or event.address_text:
        try:
            taken = intake.receive_call(
                session,
                actor,
                intake.CallData(
                    source="call_119",
                    caller_number=event.caller_number,
                    address_text=event.address_text,
                    lon=event.lon,
                    lat=event.lat,
                    received_at=event.at,
                    external_ref=f"switch:{event.switch_call_id}"[:64],
                ),
            )
        except ValidationFailed:  # e.g. a network location outside the city: the taker
            taken = None  # locates the call; the switch's event is still recorded
        if taken is not None:
            session.flush()
            call.intake_call_id = taken.id
            call.jurisdiction_path = taken.jurisdiction_path
    session.add(call)
    return call


def record_event(session: Session, actor: Actor, event: CallEvent) -> dict[str, Any]:
    """Apply one switch event; the call after it (``applied`` False for a repeat)."""
    if event.event not in EVENTS:
        raise ValidationFailed(
            f"unknown call event {event.event!r}",
            {"events": EVENTS},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "event", "value": event.event, "allowed": EVENTS},
        )
    if event.at.tzinfo is None:
        raise ValidationFailed(
            "at must carry a UTC offset",
            {"field": "at"},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": "at"},
        )
    call = session.scalars(
        select(SwitchCall).where(SwitchCall.switch_call_id == event.switch_call_id)
    ).first()
    if call is None:
        call = _open(session, actor, event)
    seen = {e["event"] for e in call.events or []}
    if event.event in seen:
        return {**call_dict(call), "applied": False}
    if event.event == "answered":
        call.answered_at, call.seat = event.at, event.seat[:64]
    elif event.event == "transferred":
        call.transferred_to = event.transferred_to[:64]
    elif event.event == "released":
        call.released_at = event.at
    order = {name: i for i, name in enumerate(EVENTS)}
    if call.state != "released" and order[event.event] >= order.get(call.state, 0):
        call.state = event.event
    call.events = [*(call.events or []), {"event": event.event, "at": event.at.isoformat()}]
    call.updated_at = utcnow()
    session.flush()
    return {**call_dict(call), "applied": True}


def _visible(call: SwitchCall, scope_path: str) -> bool:
    if call.jurisdiction_path:
        return call.jurisdiction_path.startswith(scope_path)
    return len([p for p in scope_path.split("/") if p]) <= 1  # unlocated: city level only


def get_switch_call(session: Session, scope_path: str, call_id: int) -> SwitchCall:
    call = session.get(SwitchCall, call_id)
    if call is None or not _visible(call, scope_path):
        raise NotFound(
            f"call {call_id} not found",
            {"id": call_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "call", "id": call_id},
        )
    return call


def current_calls(session: Session, scope_path: str, limit: int = 200) -> list[SwitchCall]:
    rows = session.scalars(
        select(SwitchCall)
        .where(SwitchCall.state != "released")
        .order_by(SwitchCall.offered_at.desc())
        .limit(limit)
    ).all()
    return [c for c in rows if _visible(c, scope_path)]


def request_action(
    session: Session, actor: Actor, call: SwitchCall, kind: str, note: str = ""
) -> SeatRequest:
    """Queue a remote-seat request (monitor, barge in, release) for the switch."""
    if kind not in REQUESTS:
        raise ValidationFailed(
            f"unknown request {kind!r}",
            {"requests": REQUESTS},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kind", "value": kind, "allowed": REQUESTS},
        )
    if call.state == "released":
        raise Conflict("the call has ended", {"call_id": call.id}, text=TextCode.CALL_ENDED)
    request = SeatRequest(
        call_id=call.id,
        kind=kind,
        status="pending",
        requested_by=actor_name(actor),
        requested_at=utcnow(),
        note=note[:300],
    )
    session.add(request)
    session.flush()
    return request


def pending_requests(session: Session, limit: int = 100) -> list[SeatRequest]:
    return list(
        session.scalars(
            select(SeatRequest)
            .where(SeatRequest.status == "pending")
            .order_by(SeatRequest.id)
            .limit(limit)
        )
    )


def answer_request(session: Session, request_id: int, outcome: str, note: str = "") -> SeatRequest:
    """The switch's answer to a request: ``done`` or ``failed`` (once)."""
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            f"unknown outcome {outcome!r}",
            {"outcomes": OUTCOMES},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "outcome", "value": outcome, "allowed": OUTCOMES},
        )
    request = session.get(SeatRequest, request_id)
    if request is None:
        raise NotFound(
            f"request {request_id} not found",
            {"id": request_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "request", "id": request_id},
        )
    if request.status != "pending":
        if request.status == outcome:
            return request
        raise Conflict(
            "the request was already answered",
            {"status": request.status},
            text=TextCode.LINK_REQUEST_ANSWERED,
        )
    request.status, request.answered_at = outcome, utcnow()
    if note:
        request.note = note[:300]
    return request


def call_dict(call: SwitchCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "switch_call_id": call.switch_call_id,
        "state": call.state,
        "caller_number": call.caller_number,
        "trunk": call.trunk,
        "seat": call.seat,
        "transferred_to": call.transferred_to,
        "intake_call_id": call.intake_call_id,
        "offered_at": call.offered_at,
        "answered_at": call.answered_at,
        "released_at": call.released_at,
    }


def request_dict(request: SeatRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "call_id": request.call_id,
        "kind": request.kind,
        "status": request.status,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "answered_at": request.answered_at,
        "note": request.note,
    }
