"""From the change stream to the grid platform's outbox: hazards and fire tasks created,
updated, rectified or closed.

The relay reads ``hazard.changed`` and ``task.changed`` from ``domain_changes`` after its
durable cursor (``gridlink.domain_changes``) and, in one transaction, writes one message
per change to the peer serving the item's town (the item as it is now, with the action of
the change and its time) and moves the cursor. A crash before the commit leaves both
unchanged; the message id (``gl-<peer>-<change id>``) is the peer's idempotency key. The
messages of one item are delivered in order (order key ``hazard:<id>`` / ``task:<id>``).
Every message is checked against the schema before it is queued.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.changes import Change, changes_after
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.gridlink.messages import check, envelope, iso
from firegrid.gridlink.models import GridItem
from firegrid.inspections import public as insp
from firegrid.links.cursor import advance_cursor, read_cursor
from firegrid.links.outbox import enqueue
from firegrid.links.peers import LinkConfig, Peer
from firegrid.places.public import Venue

CURSOR = "gridlink.domain_changes"
BATCH = 500
KINDS = (insp.HAZARD_CHANGED, insp.TASK_CHANGED)


def message_id(peer: Peer, change_id: int) -> str:
    return f"gl-{peer.id}-{change_id}"[:64]


def _venue(session: Session, venue_id: int | None) -> dict[str, Any] | None:
    venue = session.get(Venue, venue_id) if venue_id is not None else None
    if venue is None:
        return None
    return {
        "id": venue.id,
        "code": venue.code,
        "name": venue.name,
        "lon": venue.lon,
        "lat": venue.lat,
    }


def _event_id(session: Session, peer: Peer, kind: str, local_id: int) -> str | None:
    return session.scalars(
        select(GridItem.event_id).where(
            GridItem.peer == peer.id, GridItem.kind == kind, GridItem.local_id == local_id
        )
    ).first()


def _item_envelope(
    session: Session,
    peer: Peer,
    change: Change,
    kind: str,
    item: insp.Hazard | insp.InspectionTask,
    action: str,
) -> dict[str, Any]:
    """The message of ``change`` to ``item`` (a hazard or a task) as it is now."""
    return envelope(
        kind=kind,
        message_id=message_id(peer, change.id),
        cursor=change.id,
        action=action,
        local_id=item.id,
        event_id=_event_id(session, peer, kind, item.id),
        updated_at=change.occurred_at,
        status=item.status,
        jurisdiction_path=item.jurisdiction_path,
        venue=_venue(session, item.venue_id),
    )


def hazard_message(session: Session, peer: Peer, change: Change) -> dict[str, Any] | None:
    hazard = session.get(insp.Hazard, int(change.key))
    if hazard is None:
        return None
    before = str(change.payload.get("from_status", ""))
    after = str(change.payload.get("status", hazard.status))
    if not before:
        action = "created"
    elif after == insp.HazardStatus.RECTIFIED.value and before != after:
        action = "rectified"
    else:
        action = "updated"
    try:
        declared = insp.category(hazard.category)
    except ValidationFailed:  # a category no longer declared travels by its code
        declared = None
    body = _item_envelope(session, peer, change, "hazard", hazard, action)
    body["hazard"] = {
        "category": hazard.category,
        "category_name_zh": declared.name_zh if declared else hazard.category,
        "severity": hazard.severity,
        "description": hazard.description,
        "found_at": iso(hazard.found_at),
        "deadline": iso(hazard.deadline),
        "rectified_at": iso(hazard.rectified_at),
        "rectification_note": hazard.evidence_note,
    }
    return body


def task_message(session: Session, peer: Peer, change: Change) -> dict[str, Any] | None:
    task = session.get(insp.InspectionTask, int(change.key))
    if task is None:
        return None
    before = str(change.payload.get("from_status", ""))
    after = str(change.payload.get("status", task.status))
    if not before:
        action = "created"
    elif after != insp.TaskStatus.OPEN.value and before == insp.TaskStatus.OPEN.value:
        action = "closed"
    else:
        action = "updated"
    body = _item_envelope(session, peer, change, "task", task, action)
    body["task"] = {
        "kind": task.kind,
        "title": task.title,
        "description": task.description,
        "due_at": iso(task.due_at),
        "closed_at": iso(task.closed_at),
        "close_cause": task.close_cause,
    }
    return body


def relay_grid_changes(db: Database, config: LinkConfig, batch: int = BATCH) -> int:
    """Turn the next batch of hazard and task changes into outbox messages; how many."""
    written = 0
    with db.session() as session:
        position = read_cursor(session, CURSOR)
        changes = changes_after(session, position, kinds=KINDS, limit=batch)
        if not changes:
            return 0
        for change in changes:
            peer = config.peer_for_path(change.scope_path) if change.scope_path else None
            if peer is None:
                continue
            kind = "hazard" if change.kind == insp.HAZARD_CHANGED else "task"
            build = hazard_message if kind == "hazard" else task_message
            body = build(session, peer, change)
            if body is None:
                continue
            check(body, f"{kind}_message")  # never queue a message the schema refuses
            enqueue(
                session,
                link=config.link,
                peer=peer.id,
                order_key=f"{kind}:{change.key}",
                kind=kind,
                body=body,
                message_id=body["message_id"],
            )
            written += 1
        advance_cursor(session, CURSOR, changes[-1].id)
    return written
