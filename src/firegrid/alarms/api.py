"""HTTP routes of the monitoring centre (thin: they translate and call the services).

Every route is authenticated with ``require(...)``; every list and get is filtered by the
caller's jurisdiction scope and an alarm, task or work order outside it is a 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from firegrid.accounts.public import Principal
from firegrid.alarms import (
    admin,
    colours,
    feed,
    policy_store,
    queries,
    stats,
    verification,
    workorders,
)
from firegrid.alarms.directory import venue_dossier
from firegrid.alarms.lifecycle import Clock, alarm_dict
from firegrid.alarms.rules import Policy
from firegrid.alarms.schemas import (
    AlarmDetail,
    AlarmPage,
    AlarmStatsOut,
    CallIn,
    ColoursOut,
    ConfirmIn,
    DecisionOut,
    FalseIn,
    NoteIn,
    RuleIn,
    RuleOut,
    TaskOut,
    TaskResultOut,
    TaskWithVenue,
    VenueDossier,
    WindowIn,
    WindowOut,
    WorkOrderOut,
)
from firegrid.alarms.verification import task_dict, verification_dict
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.api.schemas import Counted
from firegrid.api.shutdown import stopping_of
from firegrid.core.clock import utcnow
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

router = APIRouter(prefix="/alarms", tags=["alarms"])

Reader = Annotated[Principal, Depends(require("alarms:read"))]
Actor = Annotated[Principal, Depends(require("alarms:act"))]
Admin = Annotated[Principal, Depends(require("alarms:admin"))]
TaskOwner = Annotated[Principal, Depends(require("tasks:own"))]
WorkOwner = Annotated[Principal, Depends(require("workorders:own"))]


def get_clock(request: Request) -> Clock:
    """The app's clock (tests inject one as ``app.state.alarms_clock``)."""
    clock: Clock = getattr(request.app.state, "alarms_clock", utcnow)
    return clock


def get_policy(request: Request, session: SessionDep) -> Policy:
    """The policy in force (a cheap version check per request; tests may pin one as
    ``app.state.alarms_policy``)."""
    pinned: Policy | None = getattr(request.app.state, "alarms_policy", None)
    return pinned or policy_store.current(session).document.policy


ClockDep = Annotated[Clock, Depends(get_clock)]
PolicyDep = Annotated[Policy, Depends(get_policy)]


def _detail(session: SessionDep, alarm: Any) -> dict[str, Any]:
    session.flush()
    return queries.alarm_detail(session, alarm)


def _decision(session: SessionDep, record: Any, alarm: Any) -> dict[str, Any]:
    """The verification step and the alarm after it (flushed first: the step has its id)."""
    detail = _detail(session, alarm)
    return {"verification": verification_dict(record), "alarm": detail}


# Static routes first (before /{alarm_id}) -------------------------------------------------


async def _with_position(start: int, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """The feed's text, with the starting position as an ``id:`` right after its opening:
    a browser then has a Last-Event-ID even if no event came before the connection broke
    (an id-only message sets it without dispatching an event)."""
    first = True
    async for chunk in chunks:
        yield chunk
        if first:
            first = False
            yield f"id: {start}\n\n"


@router.get(
    "/feed",
    summary="Live feed of alarm changes (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The event stream."}},
)
async def alarm_feed(
    request: Request,
    principal: Reader,
    db: DbDep,
    after: Annotated[int | None, Query(ge=0, description="Resume after this feed id.")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    max_events: Annotated[int | None, Query(ge=1, description="Stop after N events.")] = None,
    once: Annotated[
        bool, Query(description="Stop once caught up (for scripts and tests).")
    ] = False,
) -> StreamingResponse:
    start = after
    if start is None and last_event_id:
        if not last_event_id.strip().isdigit():
            raise ValidationFailed(
                "Last-Event-ID must be a feed id",
                {"last_event_id": last_event_id},
                text=TextCode.VALIDATION_BAD_CURSOR,
                params={"field": "Last-Event-ID"},
            )
        start = int(last_event_id)
    if start is None:
        with db.sessions() as session:
            start = feed.last_id(session)
    stopping = stopping_of(request.app)

    async def gone() -> bool:  # the client left, or the server shuts down
        return stopping() or await request.is_disconnected()

    return StreamingResponse(
        _with_position(
            start,
            feed.stream(
                db,
                principal.scope_path,
                start,
                disconnected=gone,
                max_events=max_events,
                once=once,
                venue_ids=principal.venue_ids if principal.role == "venue_manager" else None,
            ),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/stats", response_model=AlarmStatsOut, summary="Alarm statistics in your scope")
def alarm_stats(
    principal: Reader,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    return stats.alarm_stats(session, principal, since=since, until=until)


@router.get(
    "/colours",
    response_model=ColoursOut,
    summary="Three-colour status per venue, grid, village or town",
)
def alarm_colours(
    principal: Reader,
    session: SessionDep,
    clock: ClockDep,
    level: Annotated[str, Query(pattern="^(venue|grid|village|town)$")] = "venue",
) -> dict[str, Any]:
    items = colours.colours(session, principal, level, clock())  # type: ignore[arg-type]
    return {"level": level, "items": items, "count": len(items)}


@router.get(
    "/tasks", response_model=Counted[TaskOut], summary="Grid worker: my on-site verification tasks"
)
def my_tasks(
    principal: TaskOwner,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(open|done|cancelled)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    tasks = verification.list_tasks(session, principal, status=status, limit=limit)
    return {"items": [task_dict(t) for t in tasks], "count": len(tasks)}


@router.get(
    "/tasks/{task_id}",
    response_model=TaskWithVenue,
    summary="One verification task with the venue's data",
)
def get_task(principal: TaskOwner, session: SessionDep, task_id: int) -> dict[str, Any]:
    task = verification.get_task(session, principal, task_id)
    data = task_dict(task)
    data["venue"] = venue_dossier(session, task.venue_id) if task.venue_id else {}
    return data


@router.post(
    "/tasks/{task_id}/result",
    response_model=TaskResultOut,
    summary="Grid worker: submit the on-site result",
)
async def submit_task(
    principal: TaskOwner,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    policy: PolicyDep,
    task_id: int,
    result: Annotated[str, Form(pattern="^(fire|false_alarm|fault)$")],
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    task = verification.get_task(session, principal, task_id)
    photo_path = ""
    if photo is not None:
        content = await photo.read(verification.MAX_PHOTO_BYTES + 1)
        photo_path = verification.store_photo(
            settings.data_dir, f"task-{task.id}", photo.content_type or "", content
        )
    task, record = verification.submit_task(
        session,
        principal,
        task,
        result=result,
        reason=reason,
        note=note,
        photo_path=photo_path,
        now=clock(),
        policy=policy,
    )
    session.flush()  # the verification step gets its id
    return {"task": task_dict(task), "verification": verification_dict(record)}


@router.get(
    "/workorders", response_model=Counted[WorkOrderOut], summary="Work orders in your scope"
)
def list_work_orders(
    principal: WorkOwner,
    session: SessionDep,
    clock: ClockDep,
    status: Annotated[str | None, Query(pattern="^(open|done)$")] = None,
    overdue: bool | None = None,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    now = clock()
    orders = workorders.list_orders(
        session, principal, status=status, overdue=overdue, now=now, limit=limit, after_id=after
    )
    return {"items": [workorders.work_order_dict(o, now) for o in orders], "count": len(orders)}


@router.post(
    "/workorders/{order_id}/close",
    response_model=WorkOrderOut,
    summary="Close a work order with evidence",
)
async def close_work_order(
    principal: WorkOwner,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    order_id: int,
    note: Annotated[str, Form(max_length=2000)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    order = workorders.get_order(session, principal, order_id)
    photo_path = ""
    if photo is not None:
        content = await photo.read(verification.MAX_PHOTO_BYTES + 1)
        photo_path = verification.store_photo(
            settings.data_dir, f"workorder-{order.id}", photo.content_type or "", content
        )
    now = clock()
    order = workorders.close_order(
        session,
        order,
        actor=verification.actor_of(principal),
        note=note,
        photo_path=photo_path,
        now=now,
    )
    return workorders.work_order_dict(order, now)


@router.get("/rules", response_model=Counted[RuleOut], summary="Effective correlation rules")
def list_rules(principal: Reader, session: SessionDep) -> dict[str, Any]:
    items = admin.rules_view(session)
    return {"items": items, "count": len(items)}


@router.put("/rules/{name}", response_model=RuleOut, summary="Create or replace a stored rule")
def put_rule(
    principal: Admin, session: SessionDep, clock: ClockDep, name: str, body: RuleIn
) -> dict[str, Any]:
    if body.name != name:
        raise ValidationFailed(
            "the rule's name must match the path",
            {"name": body.name},
            text=TextCode.ALARM_RULE_NAME_MISMATCH,
            params={"name": body.name},
        )
    return admin.put_rule(session, principal, body.model_dump(), clock())


@router.delete("/rules/{name}", status_code=204, summary="Delete a stored rule")
def delete_rule(principal: Admin, session: SessionDep, name: str) -> None:
    admin.delete_rule(session, principal, name)


@router.get(
    "/maintenance-windows",
    response_model=Counted[WindowOut],
    summary="Test and maintenance windows",
)
def list_windows(
    principal: Reader,
    session: SessionDep,
    venue_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = admin.list_windows(session, principal, venue_id=venue_id, limit=limit)
    items = [WindowOut.model_validate(r, from_attributes=True) for r in rows]
    return {"items": items, "count": len(rows)}


@router.post(
    "/maintenance-windows",
    response_model=WindowOut,
    status_code=201,
    summary="Declare a test window",
)
def add_window(principal: Actor, session: SessionDep, clock: ClockDep, body: WindowIn) -> WindowOut:
    row = admin.add_window(
        session,
        principal,
        venue_id=body.venue_id,
        device_id=body.device_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
        note=body.note,
        now=clock(),
    )
    return WindowOut.model_validate(row, from_attributes=True)


@router.delete("/maintenance-windows/{window_id}", status_code=204)
def delete_window(principal: Actor, session: SessionDep, window_id: int) -> None:
    admin.delete_window(session, principal, window_id)


# Alarms ------------------------------------------------------------------------------------


@router.get("", response_model=AlarmPage, summary="Alarms in your scope, newest first")
def list_alarms(
    principal: Reader,
    session: SessionDep,
    status: str | None = None,
    kind: Annotated[str | None, Query(pattern="^(fire|supervisory|fault)$")] = None,
    venue_id: int | None = None,
    open: bool = False,
    before: Annotated[int | None, Query(description="Page: alarms with id < before.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = queries.list_alarms(
        session,
        principal,
        status=status,
        kind=kind,
        venue_id=venue_id,
        open_only=open,
        after_id=before,
        limit=limit,
    )
    return {
        "items": [alarm_dict(a) for a in rows],
        "count": len(rows),
        "next_before": rows[-1].id if len(rows) == limit else None,
    }


@router.get(
    "/{alarm_id}",
    response_model=AlarmDetail,
    summary="One alarm with its events, transitions and work",
)
def get_alarm(principal: Reader, session: SessionDep, alarm_id: int) -> dict[str, Any]:
    return queries.alarm_detail(session, verification.get_alarm(session, principal, alarm_id))


@router.get(
    "/{alarm_id}/venue",
    response_model=VenueDossier,
    response_model_exclude_unset=True,
    summary="The venue's devices, states and pre-plan data",
)
def alarm_venue(principal: Reader, session: SessionDep, alarm_id: int) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    return venue_dossier(session, alarm.venue_id) if alarm.venue_id else {}


@router.post("/{alarm_id}/acknowledge", response_model=AlarmDetail, summary="Acknowledge")
def acknowledge(
    principal: Actor, session: SessionDep, clock: ClockDep, alarm_id: int
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    verification.acknowledge(session, principal, alarm, clock())
    return _detail(session, alarm)


@router.post("/{alarm_id}/verify", response_model=AlarmDetail, summary="Start verification")
def start_verification(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    alarm_id: int,
    body: NoteIn | None = None,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    verification.start_verification(session, principal, alarm, clock(), body.note if body else "")
    return _detail(session, alarm)


@router.post(
    "/{alarm_id}/calls",
    response_model=DecisionOut,
    summary="Record the outcome of a call to the venue contact",
)
def record_call(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    alarm_id: int,
    body: CallIn,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    record = verification.record_call(
        session,
        principal,
        alarm,
        outcome=body.outcome,
        reason=body.reason.value if body.reason else "",
        note=body.note,
        now=clock(),
        policy=policy,
    )
    return _decision(session, record, alarm)


@router.post(
    "/{alarm_id}/tasks",
    response_model=TaskOut,
    status_code=201,
    summary="Ask the grid worker to check",
)
def create_task(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    alarm_id: int,
    body: NoteIn | None = None,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    task = verification.create_task(
        session, principal, alarm, note=body.note if body else "", now=clock(), policy=policy
    )
    return task_dict(task)


@router.post(
    "/{alarm_id}/confirm",
    response_model=DecisionOut,
    summary="Confirm a fire (forwarded unless forward=false)",
)
def confirm(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    alarm_id: int,
    body: ConfirmIn | None = None,
) -> dict[str, Any]:
    body = body or ConfirmIn()
    alarm = verification.get_alarm(session, principal, alarm_id)
    record = verification.operator_decision(
        session,
        principal,
        alarm,
        outcome="fire",
        note=body.note,
        forward=body.forward,
        now=clock(),
        policy=policy,
    )
    return _decision(session, record, alarm)


@router.post(
    "/{alarm_id}/false", response_model=DecisionOut, summary="Declare a false alarm with its reason"
)
def declare_false(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    alarm_id: int,
    body: FalseIn,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    record = verification.operator_decision(
        session,
        principal,
        alarm,
        outcome="false_alarm",
        reason=body.reason.value,
        note=body.note,
        now=clock(),
        policy=policy,
    )
    return _decision(session, record, alarm)


@router.post("/{alarm_id}/fault", response_model=DecisionOut, summary="Declare a device fault")
def declare_fault(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    alarm_id: int,
    body: NoteIn | None = None,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    record = verification.operator_decision(
        session,
        principal,
        alarm,
        outcome="fault",
        note=body.note if body else "",
        now=clock(),
        policy=policy,
    )
    return _decision(session, record, alarm)


@router.post(
    "/{alarm_id}/forward",
    response_model=AlarmDetail,
    summary="Forward a confirmed fire to the command centre",
)
def forward(
    principal: Actor, session: SessionDep, clock: ClockDep, policy: PolicyDep, alarm_id: int
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    verification.forward(session, principal, alarm, now=clock(), policy=policy)
    return _detail(session, alarm)


@router.post("/{alarm_id}/close", response_model=AlarmDetail, summary="Close a decided alarm")
def close(
    principal: Actor,
    session: SessionDep,
    clock: ClockDep,
    alarm_id: int,
    body: NoteIn | None = None,
) -> dict[str, Any]:
    alarm = verification.get_alarm(session, principal, alarm_id)
    verification.close(session, principal, alarm, note=body.note if body else "", now=clock())
    return _detail(session, alarm)
