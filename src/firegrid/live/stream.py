"""The per-seat live channel as Server-Sent Events.

Every message carries an ``id:``: the channel's cursor ``<alarm feed id>-<live entry id>``,
the position in both append-only tables (``alarm_feed`` for alarms, tasks and work orders;
``live_entries`` for incidents and unit statuses). The first message is ``hello`` with the
position the stream starts from, so a browser always has a ``Last-Event-ID`` to resume
with, even on a quiet night; heartbeats are ``heartbeat`` messages with the current
position (the cursor moves past entries the caller may not read, too).

A client resuming from a cursor gets every entry after it that it may read. A cursor more
than ``REPLAY_LIMIT`` entries behind (or one the tables never reached: another database)
gets a ``reload`` message instead, with the current position: the client reloads its lists
(that is the cheaper answer to a long outage) and follows from there.

Scope: alarms, tasks and work orders need ``alarms:read`` (a venue manager only those of
its venues); incidents and units need ``incidents:read``; every entry must lie in the
caller's jurisdiction (an incident also in the jurisdictions asked for aid). An entry the
caller may not read is never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.alarms import feed
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.live.models import LiveEntry

REPLAY_LIMIT = 2000
HEARTBEAT_S = 15.0
POLL_S = 0.1
BATCH = 500
CURSOR_RE = re.compile(r"^(\d{1,18})-(\d{1,18})$")


@dataclass(frozen=True)
class Cursor:
    """A position in both tables: the last alarm feed id and the last live entry id."""

    feed: int
    live: int

    @property
    def text(self) -> str:
        return f"{self.feed}-{self.live}"

    def behind(self, head: Cursor) -> int:
        return max(head.feed - self.feed, head.live - self.live)

    def ahead_of(self, head: Cursor) -> bool:
        return self.feed > head.feed or self.live > head.live


#: a position no table has reached: the stream answers it with ``reload``
UNKNOWN = Cursor(2**62, 2**62)


def parse_cursor(text: str, what: str = "Last-Event-ID") -> Cursor:
    """``"<feed id>-<live id>"`` as a :class:`Cursor` (a clear error otherwise)."""
    match = CURSOR_RE.match(text.strip())
    if match is None:
        raise ValidationFailed(
            f"{what} must be a live channel position such as 120-37",
            {what.lower().replace("-", "_"): text[:40]},
            text=TextCode.VALIDATION_BAD_CURSOR,
            params={"field": what},
        )
    return Cursor(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Reader:
    """What one caller may read on the channel."""

    scope_path: str
    alarms: bool
    incidents: bool
    venue_ids: frozenset[int] | None = None

    @classmethod
    def of(cls, principal: Principal) -> Reader:
        return cls(
            scope_path=principal.scope_path,
            alarms=principal.has("alarms:read"),
            incidents=principal.has("incidents:read"),
            venue_ids=principal.venue_ids if principal.role == "venue_manager" else None,
        )

    def sees_entry(self, type_: str, path: str, paths: list[str] | None) -> bool:
        if not self.incidents or not type_.startswith(("incident.", "unit.")):
            return False
        return path.startswith(self.scope_path) or any(
            p.startswith(self.scope_path) for p in paths or ()
        )


@dataclass(frozen=True)
class Message:
    cursor: Cursor
    type: str
    at: datetime
    data: dict[str, Any]


def head(session: Session) -> Cursor:
    """The current end of both tables."""
    last = session.scalar(select(LiveEntry.id).order_by(LiveEntry.id.desc()).limit(1))
    return Cursor(feed.last_id(session), int(last or 0))


def read_after(
    session: Session, reader: Reader, after: Cursor, limit: int = BATCH
) -> tuple[list[Message], Cursor, bool]:
    """Messages after ``after`` the reader may see, oldest first per table, the cursor past
    everything scanned, and whether a table had more than ``limit`` left."""
    messages: list[Message] = []
    feed_id = after.feed
    full = False
    if reader.alarms:
        items, feed_id = feed.read_after(
            session, reader.scope_path, after.feed, limit, venue_ids=reader.venue_ids
        )
        full = feed_id - after.feed >= limit
        for item in items:
            body = dict(item.data)
            if "id" in body:  # an item's own id (a task's) travels as item_id
                body["item_id"] = body.pop("id")
            body["feed_id"] = item.id
            messages.append(Message(Cursor(item.id, after.live), item.type, item.at, body))
    else:
        feed_id = feed.last_id(session)
    rows = session.execute(
        select(
            LiveEntry.id,
            LiveEntry.type,
            LiveEntry.at,
            LiveEntry.jurisdiction_path,
            LiveEntry.paths,
            LiveEntry.payload,
        )
        .where(LiveEntry.id > after.live)
        .order_by(LiveEntry.id)
        .limit(limit)
    ).all()
    live_id = int(rows[-1][0]) if rows else after.live
    full = full or len(rows) >= limit
    for row in rows:
        if reader.sees_entry(row[1], row[3], row[4]):
            messages.append(Message(Cursor(feed_id, int(row[0])), row[1], row[2], dict(row[5])))
    # feed messages first, then live ones: both halves of the cursor only grow
    return messages, Cursor(feed_id, live_id), full


def format_message(message: Message) -> str:
    body = dict(message.data)
    body.update(id=message.cursor.text, type=message.type, at=message.at.isoformat())
    data = json.dumps(body, ensure_ascii=False, default=str)
    return f"id: {message.cursor.text}\nevent: {message.type}\ndata: {data}\n\n"


def control(type_: str, cursor: Cursor, **data: Any) -> str:
    """A ``hello``, ``reload`` or ``heartbeat`` message carrying the position."""
    return format_message(Message(cursor, type_, utcnow(), {"position": cursor.text, **data}))


def _head(db: Database) -> Cursor:
    with db.sessions() as session:
        return head(session)


def _read(db: Database, reader: Reader, after: Cursor) -> tuple[list[Message], Cursor, bool]:
    with db.sessions() as session:
        return read_after(session, reader, after)


async def stream(
    db: Database,
    reader: Reader,
    start: Cursor | None,
    *,
    stopping: Callable[[], bool] = lambda: False,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
    once: bool = False,
    replay_limit: int | None = None,
    heartbeat_s: float | None = None,
    poll_s: float | None = None,
) -> AsyncIterator[str]:
    """SSE text: ``hello`` (or ``reload``), the entries after the cursor, then live ones.

    Ends when ``stopping()`` (the server shuts down), the client went away, or with
    ``once`` when it has caught up."""
    limit = REPLAY_LIMIT if replay_limit is None else replay_limit
    heartbeat = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    listener = feed.listener_for(db)  # PostgreSQL: other processes' commits wake us
    wake = feed.HUB.register()
    try:
        now = await asyncio.to_thread(_head, db)
        if start is None:
            cursor = now
            first = control("hello", cursor)
        elif start.ahead_of(now) or start.behind(now) > limit:
            cursor = now
            first = control("reload", cursor, reason="unknown" if start.ahead_of(now) else "behind")
        else:
            cursor = start
            first = control("hello", cursor)
        yield "retry: 1000\n" + first  # the first message carries an id too
        sent = cursor
        last_beat = time.monotonic()
        while not stopping():
            if disconnected is not None and await disconnected():
                return
            wake.clear()
            messages, cursor, full = await asyncio.to_thread(_read, db, reader, cursor)
            for message in messages:
                yield format_message(message)
                sent = message.cursor
            if messages:
                last_beat = time.monotonic()
            if full:
                continue
            if once:
                if cursor != sent:
                    yield control("heartbeat", cursor)
                return
            if time.monotonic() - last_beat >= heartbeat:
                yield control("heartbeat", cursor)
                sent = cursor
                last_beat = time.monotonic()
            poll = poll_s
            if poll is None:
                listening = listener is not None and listener.connected.is_set()
                poll = feed.LISTEN_POLL_S if listening else POLL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll)
    finally:
        feed.HUB.unregister(wake)
