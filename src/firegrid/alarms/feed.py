"""The live feed: entries persisted in ``alarm_feed`` and streamed as Server-Sent Events.

Every alarm change writes a :class:`FeedEntry` in the same transaction as the change, so
the feed never shows what was rolled back and never misses what was committed. The entry
id is the SSE ``id``: a client that reconnects with ``Last-Event-ID`` (or ``?after=``)
gets everything after it, across restarts.

Delivery: after a commit the writer calls :func:`notify`, which wakes every stream of this
process at once. Entries written by another process (``firegrid alarms run``, the timer
loop) wake the streams too:

- PostgreSQL: a transaction that wrote feed entries sends ``NOTIFY firegrid_alarm_feed``
  (sent by the server when, and only if, it commits); each API process keeps one
  ``LISTEN`` connection (:class:`FeedListener`) that wakes its streams. The table stays the
  record: a stream reads what it has not sent, so a notification lost while the listener
  reconnects costs at most one fallback poll (``LISTEN_POLL_S``).
- SQLite (one machine, the embedded profile): streams poll the table every ``POLL_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from firegrid.alarms import bulk
from firegrid.alarms.models import FeedEntry
from firegrid.core.db import Database

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
POLL_S = 0.05
#: Fallback poll of a stream whose process listens for PostgreSQL notifications.
LISTEN_POLL_S = 1.0
CHANNEL = "firegrid_alarm_feed"
#: A listener that cannot connect this many times in a row stops (the next stream starts
#: another); meanwhile streams poll.
GIVE_UP_AFTER = 10
_WROTE = "firegrid.alarms.feed.wrote"
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
    session.info[_WROTE] = True


@sa_event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    """A transaction that wrote feed entries tells the listeners of other processes
    (PostgreSQL delivers the notification when the transaction commits)."""
    if session.info.pop(_WROTE, False) and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@sa_event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    session.info.pop(_WROTE, None)


#: The listener's connection in ``pg_stat_activity`` (an operator, or a test resetting the
#: database, can tell it from the sessions that hold data).
LISTENER_APPLICATION_NAME = "firegrid-alarm-feed-listener"


class FeedListener:
    """One ``LISTEN`` connection of this process to a PostgreSQL database: every
    notification wakes the streams (:data:`HUB`). Reconnects on its own; while it is not
    connected the streams fall back to polling every ``POLL_S``."""

    def __init__(self, url: str) -> None:
        self.conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alarm-feed-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set() and failures < GIVE_UP_AFTER:
            try:
                with psycopg.connect(
                    self.conninfo,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=LISTENER_APPLICATION_NAME,
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    failures = 0
                    HUB.notify()  # whatever was committed while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            HUB.notify()
            except (psycopg.Error, OSError) as exc:  # the database restarted, network dropped
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(level, "alarm feed listener: %s; reconnecting", exc)
            finally:
                self.connected.clear()
            self._stop.wait(1.0)
        # gone (or the database is): streams poll; the next stream starts a new listener
        self._stop.set()

    @property
    def alive(self) -> bool:
        return not self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


_LISTENERS: dict[str, FeedListener] = {}
_LISTENERS_LOCK = threading.Lock()


def stop_listeners(timeout_s: float = 3.0) -> None:
    """Stop this process's listeners and wait for their threads (before the database they
    listen to is dropped: a test session's end), so none reports a lost connection after
    its process has closed its log streams."""
    with _LISTENERS_LOCK:
        listeners = list(_LISTENERS.values())
        _LISTENERS.clear()
    for listener in listeners:
        listener.stop()
    for listener in listeners:
        listener.join(timeout_s)


def listener_for(db: Database) -> FeedListener | None:
    """This process's listener for ``db`` (started on first use); ``None`` on SQLite."""
    if db.engine.dialect.name != "postgresql":
        return None
    with _LISTENERS_LOCK:
        listener = _LISTENERS.get(db.url)
        if listener is None or not listener.alive:
            listener = _LISTENERS[db.url] = FeedListener(db.url)
        return listener


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
    once: bool = False,
) -> AsyncIterator[str]:
    """SSE text for entries after ``after`` in scope, then live ones, with heartbeats
    (``once``: stop when caught up instead)."""
    heartbeat = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    listener = listener_for(db)
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
            if once:
                return
            if time.monotonic() - last_beat >= heartbeat:
                yield ": heartbeat\n\n"
                last_beat = time.monotonic()
            poll = poll_s
            if poll is None:
                listening = listener is not None and listener.connected.is_set()
                poll = LISTEN_POLL_S if listening else POLL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll)
    finally:
        HUB.unregister(wake)
