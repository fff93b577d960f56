"""The embedded event log: table ``device_events`` in the platform database.

Writes are group commits. Callers hand events to one writer task and wait; the writer
collects for at most ``max_delay_s`` (5 ms) or ``max_items`` (500) events, commits them in
one transaction on its own thread, then wakes every waiting caller. Under load one commit
(one fsync) acknowledges hundreds of device messages.

Durability: on SQLite the log's connections run ``synchronous=FULL`` in WAL mode, so a
committed batch survives a process kill and a power cut; on PostgreSQL a commit is durable
with the server's default ``synchronous_commit=on``. Retransmissions are dropped by the
unique ``event_id`` (``INSERT … ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import (
    Connection,
    Engine,
    String,
    Text,
    cast,
    event,
    func,
    insert,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from firegrid.core.db import Database
from firegrid.core.errors import DomainError
from firegrid.core.texts import TextCode
from firegrid.ingest.events import Component, DeviceEvent, EventKind
from firegrid.ingest.log import Consumer, LoggedEvent
from firegrid.ingest.models import DeviceEventRow

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP: Any = object()  # queue sentinel: commit what came before, then stop


class LogUnavailable(DomainError):
    """The event log could not store a batch (nothing was acknowledged)."""

    status = 503
    code = "event_log_unavailable"


class BatchWriter(Generic[T]):
    """Group commit: many concurrent ``submit`` calls, one ``commit(items)`` per batch.

    The writer waits at most ``max_delay_s`` for a batch to reach ``max_items``; whatever
    is already queued when it commits goes into the same batch (up to ``max_batch``), so a
    backlog that built up during a slow commit (an fsync) is absorbed by the next one.

    ``commit`` runs on a dedicated thread; each ``submit`` returns when the batch holding
    its items has been committed, or raises if that commit failed.
    """

    def __init__(
        self,
        commit: Callable[[list[T]], None],
        *,
        name: str,
        max_delay_s: float = 0.005,
        max_items: int = 500,
        max_batch: int = 20_000,
    ) -> None:
        self._commit = commit
        self.max_batch = max_batch
        self.name = name
        self.max_delay_s = max_delay_s
        self.max_items = max_items
        self._queue: asyncio.Queue[tuple[Sequence[T], asyncio.Future[None]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fg-{name}")
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        if self._task is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def submit(self, items: Sequence[T]) -> None:
        """Hand ``items`` to the writer; return once they are committed."""
        if not items:
            return
        self.start()
        assert self._queue is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((items, future))
        await future

    async def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        if self._task is not None and self._queue is not None:
            self._queue.put_nowait(_STOP)
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 30)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._queue is not None:
            while not self._queue.empty():
                entry = self._queue.get_nowait()
                if entry is not _STOP and not entry[1].done():
                    entry[1].set_exception(
                        LogUnavailable(
                            f"{self.name} closed",
                            text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
                            params={},
                        )
                    )
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is _STOP:
                return
            batch = [first]
            size = len(first[0])
            deadline = time.monotonic() + self.max_delay_s
            while True:
                if queue.empty():
                    if size >= self.max_items:
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        entry = await asyncio.wait_for(queue.get(), remaining)
                    except TimeoutError:
                        break
                elif size >= self.max_batch:
                    break
                else:
                    entry = queue.get_nowait()
                if entry is _STOP:
                    stopping = True
                    break
                batch.append(entry)
                size += len(entry[0])
            items = [item for entry in batch for item in entry[0]]
            try:
                await loop.run_in_executor(self._executor, self._commit, items)
            except Exception as exc:
                log.exception("%s: commit of %d items failed", self.name, len(items))
                error = LogUnavailable(
                    f"{self.name}: commit failed: {type(exc).__name__}",
                    text=TextCode.SERVICE_EVENT_LOG_UNAVAILABLE,
                    params={},
                )
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            self.items += len(items)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


def event_to_row(event: DeviceEvent) -> dict[str, Any]:
    """Column values of a ``device_events`` row."""
    return {
        "event_id": event.event_id,
        "device_id": event.device_id,
        "external_id": event.external_id,
        "protocol": event.protocol,
        "venue_id": event.venue_id,
        "jurisdiction_path": event.jurisdiction_path,
        "kind": str(event.kind),
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "component": msgspec.to_builtins(event.component),
        "values": event.values,
        "raw_ref": event.raw_ref,
    }


def row_to_event(row: DeviceEventRow) -> DeviceEvent:
    """Inverse of :func:`event_to_row`."""
    return DeviceEvent(
        event_id=row.event_id,
        device_id=row.device_id,
        external_id=row.external_id,
        protocol=row.protocol,
        venue_id=row.venue_id,
        jurisdiction_path=row.jurisdiction_path,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        kind=EventKind(row.kind),
        component=msgspec.convert(row.component or {}, Component),
        values=dict(row.values or {}),
        raw_ref=row.raw_ref,
    )


def _full_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def insert_ignoring_duplicates(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """``INSERT … ON CONFLICT (event_id) DO NOTHING`` for SQLite and PostgreSQL."""
    if connection.dialect.name == "postgresql":
        stmt: Any = pg_insert(DeviceEventRow).on_conflict_do_nothing(index_elements=["event_id"])
    elif connection.dialect.name == "sqlite":
        stmt = sqlite_insert(DeviceEventRow).on_conflict_do_nothing(index_elements=["event_id"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(DeviceEventRow)
    connection.execute(stmt, rows)


_COLUMNS = (
    "event_id, device_id, external_id, protocol, venue_id, jurisdiction_path, kind, "
    'occurred_at, received_at, component, "values", raw_ref'
)
_SQLITE_INSERT = (
    f"INSERT INTO device_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (event_id) DO NOTHING"
)
_PG_INSERT = (
    f"INSERT INTO device_events ({_COLUMNS}) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::json, %s::json, %s) "
    "ON CONFLICT (event_id) DO NOTHING"
)
_JSON = msgspec.json.Encoder()


def _sqlite_time(value: datetime, _memo: dict[datetime, str] = {}) -> str:  # noqa: B006
    """The text SQLAlchemy's SQLite DateTime stores (UTC, no offset, microseconds).

    Memoised: a batch repeats the same few timestamps (one receive time per read, device
    time tags with one-second resolution).
    """
    text = _memo.get(value)
    if text is None:
        if len(_memo) > 4096:
            _memo.clear()
        utc = value.astimezone(UTC).replace(tzinfo=None)
        text = _memo[value] = utc.isoformat(sep=" ", timespec="microseconds")
    return text


def insert_events_fast(connection: Connection, events: list[DeviceEvent]) -> None:
    """One driver-level ``executemany`` (the hot path: no per-row ORM/Core processing).

    Writes exactly what :func:`insert_ignoring_duplicates` would (same column formats), so
    rows read back through the ORM unchanged.
    """
    if not events:
        return
    sqlite = connection.dialect.name == "sqlite"
    stamp: Callable[[datetime], Any] = _sqlite_time if sqlite else (lambda v: v)
    rows = [
        (
            e.event_id,
            e.device_id,
            e.external_id,
            e.protocol,
            e.venue_id,
            e.jurisdiction_path,
            str(e.kind),
            stamp(e.occurred_at),
            stamp(e.received_at),
            _JSON.encode(e.component).decode(),
            _JSON.encode(e.values).decode(),
            e.raw_ref,
        )
        for e in events
    ]
    connection.exec_driver_sql(_SQLITE_INSERT if sqlite else _PG_INSERT, rows)


class DatabaseEventLog:
    """:class:`~firegrid.ingest.log.EventLog` on the ``device_events`` table."""

    backend = "database"

    def __init__(self, db: Database, *, max_delay_s: float = 0.005, max_items: int = 500) -> None:
        self.db = db
        # The log owns its engine so its SQLite connections can run synchronous=FULL.
        self._engine: Engine = Database(db.url).engine
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _full_sync)
        self._writer: BatchWriter[DeviceEvent] = BatchWriter(
            self._commit, name="event-log", max_delay_s=max_delay_s, max_items=max_items
        )

    async def start(self) -> None:
        self._writer.start()

    async def close(self) -> None:
        await self._writer.close()
        self._engine.dispose()

    def _commit(self, events: list[DeviceEvent]) -> None:
        unique: dict[str, DeviceEvent] = {}
        for item in events:
            unique.setdefault(item.event_id, item)
        with self._engine.begin() as connection:
            insert_events_fast(connection, list(unique.values()))

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        await self._writer.submit(events)

    def _read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        return read_database_log(self.db, after_offset, limit)

    async def read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        return await asyncio.to_thread(self._read, after_offset, limit)

    @property
    def rings(self) -> bool:
        return False  # another process's appends are only seen by reading

    async def wait_for_append(self, timeout_s: float) -> bool:
        await asyncio.sleep(timeout_s)
        return False

    def _count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(DeviceEventRow)) or 0)

    async def count(self) -> int:
        return await asyncio.to_thread(self._count)

    def _last_offset(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.max(DeviceEventRow.id))) or 0)

    async def last_offset(self) -> int:
        return await asyncio.to_thread(self._last_offset)

    def consumer(self, name: str) -> Consumer:
        return Consumer(self, self.db, name)

    @property
    def stats(self) -> dict[str, int]:
        return {"batches": self._writer.batches, "events": self._writer.items}


_EVENTS = DeviceEventRow.__table__.c
_DECODE_COMPONENT = msgspec.json.Decoder(Component | None)
_DECODE_VALUES = msgspec.json.Decoder(dict[str, Any] | None)


def _parse_sqlite_time(text: str, memo: dict[str, datetime]) -> datetime:
    """What :class:`~firegrid.core.db.UTCDateTime` returns for a stored SQLite timestamp
    (memoised: a batch repeats a few receive times and one-second device times)."""
    value = memo.get(text)
    if value is None:
        value = memo[text] = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return value


def read_database_log(db: Database, after_offset: int, limit: int) -> list[LoggedEvent]:
    """Events of the database event log after ``after_offset``, as
    :meth:`DatabaseEventLog.read` returns them, with one column query instead of ORM rows:
    JSON is decoded straight into the event's types, SQLite timestamps parsed once each."""
    sqlite = db.engine.dialect.name == "sqlite"
    # SQLite stores timestamps as text: take the text and parse it here (memoised).
    occurred: Any = type_coerce(_EVENTS.occurred_at, String()) if sqlite else _EVENTS.occurred_at
    received: Any = type_coerce(_EVENTS.received_at, String()) if sqlite else _EVENTS.received_at
    query = (
        select(
            _EVENTS.id,
            _EVENTS.event_id,
            _EVENTS.device_id,
            _EVENTS.external_id,
            _EVENTS.protocol,
            _EVENTS.venue_id,
            _EVENTS.jurisdiction_path,
            _EVENTS.kind,
            occurred,
            received,
            cast(_EVENTS.component, Text),
            cast(_EVENTS["values"], Text),
            _EVENTS.raw_ref,
        )
        .where(_EVENTS.id > after_offset)
        .order_by(_EVENTS.id)
        .limit(limit)
    )
    memo: dict[str, datetime] = {}
    kinds: dict[str, EventKind] = {}
    out: list[LoggedEvent] = []
    with db.engine.connect() as connection:
        rows = connection.execute(query).all()
    for row in rows:
        kind = kinds.get(row[7])
        if kind is None:
            kind = kinds[row[7]] = EventKind(row[7])
        occurred_at = _parse_sqlite_time(row[8], memo) if sqlite else row[8]
        received_at = _parse_sqlite_time(row[9], memo) if sqlite else row[9]
        component = (_DECODE_COMPONENT.decode(row[10]) if row[10] else None) or Component()
        values = _DECODE_VALUES.decode(row[11]) if row[11] else None
        out.append(
            LoggedEvent(
                int(row[0]),
                DeviceEvent(
                    event_id=row[1],
                    device_id=row[2],
                    external_id=row[3],
                    protocol=row[4],
                    venue_id=row[5],
                    jurisdiction_path=row[6],
                    occurred_at=occurred_at,
                    received_at=received_at,
                    kind=kind,
                    component=component,
                    values=values or {},
                    raw_ref=row[12],
                ),
            )
        )
    return out
