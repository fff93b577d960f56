"""Inbound dedupe: a message from a peer is claimed by its id in the transaction that
applies it; a second delivery finds the claim and gets the first answer back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.links.models import LinkInbox


def inbound_result(session: Session, link: str, peer: str, message_id: str) -> LinkInbox | None:
    """The record of a message already received, if any."""
    return session.get(LinkInbox, (link, peer, message_id))


def claim_inbound(
    session: Session, link: str, peer: str, message_id: str, kind: str = ""
) -> LinkInbox | None:
    """Claim ``message_id``: ``None`` when it is new (the caller applies it in this
    transaction), else the earlier record (a duplicate: do not apply it again).

    The insert runs in a savepoint, so a concurrent duplicate that commits first turns
    into the duplicate answer instead of failing the whole transaction.
    """
    existing = inbound_result(session, link, peer, message_id)
    if existing is not None:
        return existing
    row = LinkInbox(link=link, peer=peer, message_id=message_id, kind=kind, received_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return inbound_result(session, link, peer, message_id)
    return None


def store_inbound_result(
    session: Session, link: str, peer: str, message_id: str, result: dict[str, Any]
) -> None:
    row = inbound_result(session, link, peer, message_id)
    if row is not None:
        row.result = result
