"""Durable read positions over append-only tables (read and advanced in one transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.links.models import LinkCursor


def read_cursor(session: Session, name: str) -> int:
    """The position of ``name``, locked until the transaction ends on PostgreSQL (one
    reader advances a cursor at a time; SQLite serialises writers by itself)."""
    row = session.get(LinkCursor, name, with_for_update=True)
    return row.position if row is not None else 0


def advance_cursor(session: Session, name: str, position: int) -> None:
    row = session.get(LinkCursor, name)
    if row is None:
        session.add(LinkCursor(name=name, position=position, updated_at=utcnow()))
    elif position > row.position:
        row.position = position
        row.updated_at = utcnow()
