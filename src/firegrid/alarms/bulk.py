"""Rows written in bulk at the end of a step of the caller's transaction.

The correlator creates many small rows per batch (feed entries, timers, history lines,
notifications). Adding them as ORM objects costs more than the rest of the batch; inside
:func:`collect` the writers (:func:`firegrid.alarms.feed.append`,
:func:`firegrid.alarms.lifecycle.schedule`, the correlator) queue plain dicts instead, and
each table's rows go out as one Core ``INSERT`` (an ``executemany``) when the step ends,
in the order they were queued (so feed ids keep the order of the changes).

Outside :func:`collect` nothing is queued and the writers add ORM objects as before.
Queued rows are not visible to queries of the same transaction until :func:`flush`; a
writer that updates rows it may have queued (``cancel_timers``) flushes their table first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

_KEY = "firegrid.alarms.bulk"

Rows = dict[Table, list[dict[str, Any]]]


def pending(session: Session) -> Rows | None:
    """The rows queued in ``session`` (``None`` when not collecting)."""
    rows: Rows | None = session.info.get(_KEY)
    return rows


def queue(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """Queue ``row`` for ``table``; False when not collecting (the caller adds an object)."""
    rows = pending(session)
    if rows is None:
        return False
    rows.setdefault(table, []).append(row)
    return True


def flush(session: Session, table: Table | None = None) -> None:
    """Insert the queued rows (of ``table`` only, when given), one statement per table."""
    rows = pending(session)
    if not rows:
        return
    tables = [table] if table is not None else list(rows)
    connection = session.connection()
    for each in tables:
        batch = rows.pop(each, None)
        if batch:
            connection.execute(insert(each), batch)


@contextlib.contextmanager
def collect(session: Session) -> Iterator[None]:
    """Queue rows while the block runs and insert them when it ends without an error.

    Nested use joins the outer block (which inserts). On an error the queued rows are
    dropped: the caller's transaction is rolled back anyway.
    """
    if pending(session) is not None:
        yield
        return
    session.info[_KEY] = {}
    try:
        yield
        flush(session)
    finally:
        session.info.pop(_KEY, None)
