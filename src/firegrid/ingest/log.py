"""The event log: one interface, two backends.

- ``database`` (the embedded default): table ``device_events`` in the platform database,
  batched group commits (:mod:`firegrid.ingest.log_db`).
- ``jetstream`` (production): a NATS JetStream stream on file storage, deduplicated by
  ``Nats-Msg-Id`` = ``event_id`` (:mod:`firegrid.ingest.log_jetstream`).

Contract:

- :meth:`EventLog.append_batch` returns only once every event is durable; only then may an
  adapter acknowledge the device. An event whose ``event_id`` is already stored is dropped
  (idempotent), so devices may retransmit freely.
- :meth:`EventLog.read` returns events in log order after an offset.
- :meth:`EventLog.wait_for_append` lets an idle reader wait for the next append instead of
  polling (a hint, never a guarantee: the reader reads again after the timeout anyway).
- :meth:`EventLog.consumer` gives a named reader whose offset is stored in the database
  (``event_consumers``). Delivery is at-least-once: a consumer that crashes between handling
  events and :meth:`Consumer.commit` sees them again, so consumers must be idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy import Table, bindparam, select, update

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.models import EventConsumer


class LoggedEvent(msgspec.Struct, frozen=True):
    """An event and its offset in the log."""

    offset: int
    event: DeviceEvent


class EventLog(Protocol):
    """What every event log backend offers."""

    backend: str

    async def start(self) -> None:
        """Connect and start background tasks (idempotent)."""

    async def close(self) -> None:
        """Flush what is pending and release connections."""

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        """Store ``events``; durable when this returns. Duplicates are dropped."""

    async def read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        """Events with offset > ``after_offset``, oldest first, at most ``limit``."""

    async def wait_for_append(self, timeout_s: float) -> bool:
        """Wait until an append may have happened since this log's last :meth:`read` began,
        at most ``timeout_s``; True if one was signalled. A backend that cannot tell waits
        the whole time and returns False (``rings`` is False)."""

    @property
    def rings(self) -> bool:
        """Whether :meth:`wait_for_append` is told of appends by other processes."""

    async def count(self) -> int:
        """How many events the log holds."""

    async def last_offset(self) -> int:
        """The offset of the newest event (0 when the log is empty)."""

    def consumer(self, name: str) -> Consumer:
        """A named consumer with a stored offset."""


_CONSUMERS: Table = EventConsumer.__table__  # type: ignore[assignment]
#: a consumer's offset moves forward only
_MOVE_ON = (
    update(_CONSUMERS)
    .where(
        _CONSUMERS.c.name == bindparam("consumer"),
        _CONSUMERS.c.backend == bindparam("log"),
        _CONSUMERS.c.offset < bindparam("to"),
    )
    .values(offset=bindparam("to"), updated_at=bindparam("now"))
)


class Consumer:
    """A named reader of a log; its offset lives in ``event_consumers``."""

    def __init__(self, log: EventLog, db: Database, name: str) -> None:
        self.log = log
        self.db = db
        self.name = name

    def _load(self) -> int | None:
        with self.db.session() as session:
            row = session.get(EventConsumer, (self.name, self.log.backend))
            return None if row is None else int(row.offset)

    def _store(self, offset: int, now: datetime) -> None:
        with self.db.session() as session:
            moved = session.connection().execute(  # the usual case: one statement built once
                _MOVE_ON,
                {"consumer": self.name, "log": self.log.backend, "to": offset, "now": now},
            )
            # nothing moved: the first commit (no row yet), or an offset not ahead of the
            # stored one (left as it is: offsets never move backwards)
            if (
                moved.rowcount == 0
                and session.get(EventConsumer, (self.name, self.log.backend)) is None
            ):
                session.add(
                    EventConsumer(
                        name=self.name, backend=self.log.backend, offset=offset, updated_at=now
                    )
                )

    async def offset(self) -> int:
        """The last committed offset (0 before the first commit)."""
        return await self.committed() or 0

    async def committed(self) -> int | None:
        """The last committed offset, ``None`` if this consumer never committed (a commit
        of 0 counts: it records that the consumer has started)."""
        return await asyncio.to_thread(self._load)

    async def fetch(self, limit: int = 500) -> list[LoggedEvent]:
        """Events after the committed offset (the same ones again until committed)."""
        return await self.log.read(await self.offset(), limit)

    async def commit(self, offset: int) -> None:
        """Record that every event up to ``offset`` has been handled."""
        await asyncio.to_thread(self._store, offset, utcnow())


def list_consumers(db: Database) -> list[dict[str, object]]:
    """Every stored consumer offset (for diagnostics)."""
    with db.session() as session:
        rows = session.scalars(select(EventConsumer).order_by(EventConsumer.name)).all()
        return [
            {"name": r.name, "backend": r.backend, "offset": r.offset, "updated_at": r.updated_at}
            for r in rows
        ]


def open_event_log(settings: Settings, db: Database, *, stream: str | None = None) -> EventLog:
    """The backend chosen by ``settings.event_log`` (not started yet)."""
    if settings.event_log == "jetstream":
        from firegrid.ingest.log_jetstream import JetStreamEventLog

        return JetStreamEventLog(
            settings.nats_url,
            db,
            stream=stream or settings.event_stream,
            replicas=settings.event_replicas,
        )
    from firegrid.ingest.log_db import DatabaseEventLog

    return DatabaseEventLog(db)


def _event_dict(offset: int, event: DeviceEvent) -> dict[str, Any]:
    return {"offset": offset, **msgspec.to_builtins(event)}


async def find_events(
    settings: Settings,
    db: Database,
    *,
    device_id: int | None = None,
    since: datetime | None = None,
    kind: str | None = None,
    limit: int = 50,
    stream: str | None = None,
    scan: int = 50_000,
) -> list[dict[str, Any]]:
    """Newest stored events matching the filters, as JSON-ready dicts.

    The database log answers with one indexed query; the JetStream log scans the newest
    ``scan`` messages of the stream.
    """
    if settings.event_log == "database":
        return await asyncio.to_thread(_find_in_database, db, device_id, since, kind, limit)
    event_log = open_event_log(settings, db, stream=stream)
    await event_log.start()
    try:
        from firegrid.ingest.log_jetstream import JetStreamEventLog

        assert isinstance(event_log, JetStreamEventLog)
        end = await event_log.last_offset()
        items = await event_log.read(max(0, end - scan), scan)
    finally:
        await event_log.close()
    found = [
        i
        for i in reversed(items)
        if (device_id is None or i.event.device_id == device_id)
        and (since is None or i.event.received_at >= since)
        and (kind is None or i.event.kind == kind)
    ]
    return [_event_dict(i.offset, i.event) for i in found[:limit]]


def _find_in_database(
    db: Database, device_id: int | None, since: datetime | None, kind: str | None, limit: int
) -> list[dict[str, Any]]:
    from firegrid.ingest.log_db import row_to_event
    from firegrid.ingest.models import DeviceEventRow

    query = select(DeviceEventRow).order_by(DeviceEventRow.id.desc()).limit(limit)
    if device_id is not None:
        query = query.where(DeviceEventRow.device_id == device_id)
    if since is not None:
        query = query.where(DeviceEventRow.received_at >= since)
    if kind is not None:
        query = query.where(DeviceEventRow.kind == kind)
    with db.session() as session:
        return [_event_dict(row.id, row_to_event(row)) for row in session.scalars(query).all()]
