"""The live feed: entries persisted in ``alarm_feed`` and streamed as Server-Sent Events.

Every alarm change writes a :class:`FeedEntry` in the same transaction as the change, so
the feed never shows what was rolled back and never misses what was committed. The entry
id is the SSE ``id``: a client that reconnects with ``Last-Event-ID`` (or ``?after=``)
gets everything after it, across restarts.

Delivery: after a commit the writer calls :func:`notify`, which wakes every stream of this
process at once; streams also poll the table every ``poll_s`` (50 ms) so entries written
by another process (``firegrid alarms run``) arrive promptly too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from firegrid.alarms import bulk
from firegrid.alarms.models import FeedEntry
from firegrid.core.db import Database

HEARTBEAT_S = 15.0
POLL_S = 0.05
BATCH = 500
FEED_TABLE: Table = FeedEntry.__table__  # type: ignore[assignment]


class FeedHub:
    """Wakes the streams of this process when a writer committed new entries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def register(self) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiters.add((asyncio.get_running_loop(), event))
        return event

    def unregister(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = {w for w in self._waiters if w[1] is not event}

    def notify(self) -> None:
        """Wake every waiting stream (safe from any thread)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                self.unregister(event)


HUB = FeedHub()


def notify() -> None:
    HUB.notify()


def append(
    session: Session,
    type_: str,
    jurisdiction_path: str,
    payload: dict[str, Any],
    at: datetime,
    alarm_id: int | None = None,
) -> None:
    """Add a feed entry to the caller's transaction (queued for one bulk insert inside
    :func:`firegrid.alarms.bulk.collect`)."""
    row = {
        "at": at,
        "type": type_,
        "alarm_id": alarm_id,
        "jurisdiction_path": jurisdiction_path,
        "payload": payload,
    }
    if not bulk.queue(session, FEED_TABLE, row):
        session.add(FeedEntry(**row))


@dataclass(frozen=True)
class FeedItem:
    id: int
    type: str
    at: datetime
    data: dict[str, Any]


def read_after(
    session: Session,
    scope_path: str,
    after: int,
    limit: int = BATCH,
    venue_ids: frozenset[int] | None = None,
) -> tuple[list[FeedItem], int]:
    """Entries with id > ``after`` inside ``scope_path`` (and ``venue_ids`` when given),
    oldest first, and the last id scanned (a reader skips what it may not see)."""
    rows = session.execute(
        select(
            FeedEntry.id,
            FeedEntry.type,
            FeedEntry.at,
            FeedEntry.payload,
            FeedEntry.jurisdiction_path,
        )
        .where(FeedEntry.id > after)
        .order_by(FeedEntry.id)
        .limit(limit)
    ).all()
    items = [
        FeedItem(r[0], r[1], r[2], r[3])
        for r in rows
        if r[4].startswith(scope_path) and (venue_ids is None or r[3].get("venue_id") in venue_ids)
    ]
    return items, (int(rows[-1][0]) if rows else after)


def last_id(session: Session) -> int:
    value = session.scalar(select(FeedEntry.id).order_by(FeedEntry.id.desc()).limit(1))
    return int(value or 0)


def format_event(item: FeedItem) -> str:
    """One SSE message. ``id`` in the JSON is the feed id (as on the ``id:`` line); an
    item's own id (a task's) travels as ``item_id``."""
    body = dict(item.data)
    if "id" in body:
        body["item_id"] = body.pop("id")
    body.update(id=item.id, type=item.type, at=item.at.isoformat())
    data = json.dumps(body, ensure_ascii=False, default=str)
    return f"id: {item.id}\nevent: {item.type}\ndata: {data}\n\n"


def _read(
    db: Database, scope_path: str, after: int, venue_ids: frozenset[int] | None
) -> tuple[list[FeedItem], int]:
    with db.sessions() as session:
        return read_after(session, scope_path, after, venue_ids=venue_ids)


async def stream(
    db: Database,
    scope_path: str,
    after: int,
    *,
    disconnected: Callable[[], Any] | None = None,
    max_events: int | None = None,
    heartbeat_s: float | None = None,
    poll_s: float | None = None,
    venue_ids: frozenset[int] | None = None,
) -> AsyncIterator[str]:
    """SSE text for entries after ``after`` in scope, then live ones, with heartbeats."""
    heartbeat = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    poll = POLL_S if poll_s is None else poll_s
    wake = HUB.register()
    sent = 0
    try:
        yield f"retry: 1000\n: firegrid alarm feed after {after}\n\n"
        last_beat = time.monotonic()
        while True:
            if disconnected is not None and await disconnected():
                return
            wake.clear()
            items, scanned = await asyncio.to_thread(_read, db, scope_path, after, venue_ids)
            for item in items:
                yield format_event(item)
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
            full = scanned - after >= BATCH
            after = scanned
            if items:
                last_beat = time.monotonic()
            if full:
                continue
            if time.monotonic() - last_beat >= heartbeat:
                yield ": heartbeat\n\n"
                last_beat = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll)
    finally:
        HUB.unregister(wake)
