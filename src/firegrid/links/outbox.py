"""Write messages to the outbox (in the caller's transaction) and handle dead letters."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound
from firegrid.core.texts import TextCode
from firegrid.links.models import LinkOutbox
from firegrid.links.wakeup import notify_link


def new_message_id() -> str:
    return uuid.uuid4().hex


def body_text(body: dict[str, Any]) -> str:
    """The exact text sent (and signed): compact JSON, UTF-8, keys in the order given."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def enqueue(
    session: Session,
    *,
    link: str,
    peer: str,
    order_key: str,
    kind: str,
    body: dict[str, Any],
    message_id: str | None = None,
) -> LinkOutbox:
    """Add a message to the outbox in the session's transaction (sent after it commits)."""
    now = utcnow()
    row = LinkOutbox(
        link=link,
        peer=peer,
        order_key=order_key[:64],
        message_id=message_id or new_message_id(),
        kind=kind[:32],
        body=body_text(body),
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    notify_link(session, link)
    return row


def dead_letters(session: Session, link: str, limit: int = 100) -> list[LinkOutbox]:
    """Messages the peer refused (or that were given up on), newest first."""
    return list(
        session.scalars(
            select(LinkOutbox)
            .where(LinkOutbox.link == link, LinkOutbox.status == "dead")
            .order_by(LinkOutbox.id.desc())
            .limit(limit)
        )
    )


def retry_dead_letter(session: Session, link: str, outbox_id: int) -> LinkOutbox:
    """Put a dead letter back in the queue (sent again with the same idempotency key)."""
    row = session.get(LinkOutbox, outbox_id)
    if row is None or row.link != link or row.status != "dead":
        raise NotFound(
            f"no dead letter {outbox_id} on link {link}",
            {"id": outbox_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "dead_letter", "id": outbox_id},
        )
    row.status = "pending"
    row.next_attempt_at = utcnow()
    row.last_error = ""
    notify_link(session, link)
    return row


def message_dict(row: LinkOutbox) -> dict[str, Any]:
    return {
        "id": row.id,
        "peer": row.peer,
        "order_key": row.order_key,
        "message_id": row.message_id,
        "kind": row.kind,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": row.created_at,
        "acked_at": row.acked_at,
        "last_error": row.last_error,
    }
