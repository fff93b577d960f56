"""Grid events in: a hazard found, or a fire-related report, by another department's grid
worker becomes a hazard (an inspection of the venue with it) or an inspection task —
through inspections' public module, in the request's transaction. Each message is applied
at most once.

* The message is claimed in the link inbox by the peer's message id (the signed
  ``X-Link-Message-Id``) in the transaction that applies it: a duplicate gets the first
  answer back, nothing more.
* A grid event carries the whole current state of its item (``event_id``). The first one
  seen creates our hazard or task (a first event that is already rectified/closed creates
  it and closes it); a later one applies only when its ``updated_at`` is newer than the
  last applied (``stale`` otherwise: an update that arrives after a newer one is never
  applied over it).
* Venue and grid must lie in the caller's (the link API key's) jurisdiction and in a town
  the peer serves; anything else is a clear 422 before anything is applied.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.gridlink.messages import GridEvent, parse_event
from firegrid.gridlink.models import GridItem
from firegrid.inspections import public as insp
from firegrid.links.inbox import claim_inbound, store_inbound_result
from firegrid.links.peers import Peer
from firegrid.places.public import Jurisdiction, Venue


@dataclass(frozen=True)
class Inbound:
    link: str
    peer: Peer
    message_id: str


def receive_event(
    session: Session, principal: Principal, inbound: Inbound, document: Any
) -> dict[str, Any]:
    """Apply ``document`` once; the answer (repeated to duplicates)."""
    event = parse_event(document)  # invalid: 422 before anything is claimed
    if not inbound.message_id:
        raise ValidationFailed(
            "a grid event needs X-Link-Message-Id",
            {"field": "message_id"},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "X-Link-Message-Id"},
        )
    earlier = claim_inbound(session, inbound.link, inbound.peer.id, inbound.message_id, "event")
    if earlier is not None:
        return {**(earlier.result or {}), "duplicate": True}
    actor = dataclasses.replace(
        principal,
        username=f"{principal.username} · {event.department or inbound.peer.id}"
        f"{' · ' + event.reporter if event.reporter else ''}"[:120],
    )
    result = _apply(session, actor, inbound.peer, event)
    result = {
        **result,
        "message_id": inbound.message_id,
        "event_id": event.event_id,
        "duplicate": False,
    }
    store_inbound_result(session, inbound.link, inbound.peer.id, inbound.message_id, result)
    return result


def _apply(
    session: Session, actor: Principal, peer: Peer, event: GridEvent, *, again: bool = False
) -> dict[str, Any]:
    item = session.scalars(
        select(GridItem).where(GridItem.peer == peer.id, GridItem.event_id == event.event_id)
    ).first()
    expected = "hazard" if event.category == "hazard" else "task"
    if item is None:
        item = GridItem(
            peer=peer.id,
            event_id=event.event_id,
            kind=expected,
            local_id=0,  # set once the hazard or task exists (same transaction)
            last_update_at=event.updated_at,
            updates_applied=1,
        )
        try:  # the item is claimed first: a concurrent first event of it waits, then updates
            with session.begin_nested():
                session.add(item)
                session.flush()
        except IntegrityError:
            if again:
                raise Conflict(
                    f"event {event.event_id} is being created by another message; send again",
                    {"event_id": event.event_id},
                    text=TextCode.GRID_EVENT_IN_PROGRESS,
                    params={"event_id": event.event_id},
                ) from None
            return _apply(session, actor, peer, event, again=True)
        _kind, item.local_id = (_new_hazard if event.category == "hazard" else _new_task)(
            session, actor, peer, event
        )
        return {"outcome": "created", "kind": expected, "id": item.local_id}
    if item.kind != expected:
        raise ValidationFailed(
            f"event {event.event_id} was a {item.kind}; it cannot become a {expected}",
            {"field": "category"},
            text=TextCode.GRID_EVENT_CATEGORY_CHANGED,
            params={"event_id": event.event_id, "from": item.kind, "to": expected},
        )
    if event.updated_at <= item.last_update_at:
        return {"outcome": "stale", "kind": item.kind, "id": item.local_id}
    if item.kind == "hazard":
        _update_hazard(session, actor, item.local_id, event)
    else:
        _update_task(session, actor, item.local_id, event)
    item.last_update_at = event.updated_at
    item.updates_applied += 1
    return {"outcome": "updated", "kind": item.kind, "id": item.local_id}


def _town_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else ""


def _check_served(peer: Peer, path: str, what: str) -> None:
    if not peer.serves(_town_of(path)):
        raise ValidationFailed(
            f"the {what} lies in a town the grid platform {peer.id!r} does not serve",
            {"field": what, "jurisdiction_path": path},
            text=TextCode.GRID_TOWN_NOT_SERVED,
            params={"peer": peer.id},
        )


def _venue(session: Session, actor: Principal, event: GridEvent) -> Venue | None:
    if event.venue_id is None and event.venue_code is None:
        return None
    query = select(Venue).where(
        Venue.deleted_at.is_(None), actor.scope_filter(Venue.jurisdiction_path)
    )
    if event.venue_id is not None:
        query = query.where(Venue.id == event.venue_id)
    if event.venue_code is not None:
        query = query.where(Venue.code == event.venue_code)
    venue = session.scalars(query).first()
    if venue is None:
        raise ValidationFailed(
            "no such venue in your jurisdiction",
            {"field": "venue_code" if event.venue_code else "venue_id"},
            text=TextCode.ENTITY_NOT_IN_SCOPE,
            params={"kind": "venue", "id": event.venue_code or event.venue_id},
        )
    return venue


def _new_hazard(
    session: Session, actor: Principal, peer: Peer, event: GridEvent
) -> tuple[str, int]:
    venue = _venue(session, actor, event)
    assert venue is not None  # the schema requires a venue for a hazard
    _check_served(peer, venue.jurisdiction_path, "venue")
    insp.category(event.hazard_category)  # 422 for an unknown category
    found_at = event.found_at or event.updated_at
    _inspection, hazards = insp.record_inspection(
        session,
        actor,
        venue_id=venue.id,
        inspected_at=found_at,
        hazards=[
            insp.HazardSpec(
                category=event.hazard_category,
                severity=event.severity,
                description=event.description,
                deadline=event.deadline,
            )
        ],
        note=f"grid event {event.event_id} ({event.department or peer.id})"[:2000],
    )
    hazard = hazards[0]
    if event.status == "rectified":
        insp.rectify_hazard(
            session, actor, hazard, note=event.note or f"rectified (grid event {event.event_id})"
        )
    return "hazard", hazard.id


def _update_hazard(session: Session, actor: Principal, hazard_id: int, event: GridEvent) -> None:
    hazard = insp.get_hazard(session, actor, hazard_id)
    if hazard.status != insp.HazardStatus.OPEN.value:
        return  # rectified here already: a grid update does not reopen it
    if event.status == "rectified":
        insp.rectify_hazard(
            session, actor, hazard, note=event.note or f"rectified (grid event {event.event_id})"
        )
        return
    severity = event.severity if event.severity != hazard.severity else None
    description = event.description if event.description != hazard.description else None
    deadline = event.deadline if event.deadline and event.deadline != hazard.deadline else None
    if severity is not None or description is not None or deadline is not None:
        insp.revise_hazard(
            session,
            actor,
            hazard,
            severity=severity,
            description=description,
            deadline=deadline,
            cause=f"grid event {event.event_id} updated",
        )


def _task_path(session: Session, actor: Principal, event: GridEvent) -> tuple[str, int | None]:
    venue = _venue(session, actor, event)
    if venue is not None:
        return venue.jurisdiction_path, venue.id
    grid = session.scalars(select(Jurisdiction).where(Jurisdiction.code == event.grid_code)).first()
    if grid is None or not actor.can_see_path(grid.path):
        raise ValidationFailed(
            "no such grid in your jurisdiction",
            {"field": "grid_code"},
            text=TextCode.ENTITY_NOT_IN_SCOPE,
            params={"kind": "grid", "id": event.grid_code},
        )
    return grid.path, None


def _new_task(session: Session, actor: Principal, peer: Peer, event: GridEvent) -> tuple[str, int]:
    path, venue_id = _task_path(session, actor, event)
    _check_served(peer, path, "grid")
    task = insp.open_task(
        session,
        actor,
        jurisdiction_path=path,
        venue_id=venue_id,
        title=event.title or event.description[:60] or f"grid report {event.event_id}",
        description=event.description,
        kind="grid_report",
        source=f"gridlink:{peer.id}",
        source_ref=event.event_id,
        cause=f"grid event {event.event_id} ({event.department or peer.id})",
    )
    if event.status == "closed":
        insp.close_task(
            session, actor, task, status="done", cause=event.note or "closed by the grid platform"
        )
    return "task", task.id


def _update_task(session: Session, actor: Principal, task_id: int, event: GridEvent) -> None:
    task = session.get(insp.InspectionTask, task_id)
    if task is None or task.status != insp.TaskStatus.OPEN.value:
        return  # closed here already
    if event.status == "closed":
        insp.close_task(
            session, actor, task, status="done", cause=event.note or "closed by the grid platform"
        )
        return
    title = event.title or None
    if (title and title != task.title) or event.description != task.description:
        insp.revise_task(
            session,
            actor,
            task,
            title=title,
            description=event.description,
            cause=f"grid event {event.event_id} updated",
        )
