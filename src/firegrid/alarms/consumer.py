"""The correlator as a consumer of the ingest event log, and the alarm services loop.

Delivery from the log is at least once. The consumer keeps its own offset in
``alarm_consumer_state`` and advances it (compare-and-set) in the same transaction as the
alarm changes of the batch, so a batch is applied exactly once even when the process dies
between handling and committing, and two correlator processes never apply one batch twice.
The log's own named consumer offset (``event_consumers``) is updated afterwards for
diagnostics. The log drops duplicate ``event_id`` values, so a retransmitted device message
never reaches the correlator twice either.

:func:`run_alarm_services` runs the consumer, the timer loop and notification delivery
until ``stop_event`` is set: ``firegrid alarms run`` uses it, and ``firegrid ingest run``
can call it to correlate in the ingest process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import String, Table, Text, cast, select, type_coerce, update
from sqlalchemy.orm import Session

from firegrid.alarms import feed
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.lifecycle import Clock
from firegrid.alarms.models import ConsumerState
from firegrid.alarms.notify import channels_from_settings, deliver_pending
from firegrid.alarms.policy_store import current_from
from firegrid.alarms.rules import Policy, Rule
from firegrid.alarms.service import BatchResult, Correlator
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.events import Component, DeviceEvent, EventKind
from firegrid.ingest.log import EventLog, LoggedEvent
from firegrid.ingest.models import DeviceEventRow

log = logging.getLogger(__name__)

CONSUMER_NAME = "alarms"


_EVENTS = DeviceEventRow.__table__.c
_STATE: Table = ConsumerState.__table__  # type: ignore[assignment]
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


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class AlarmConsumer:
    """Reads the event log after its stored offset and feeds the correlator."""

    def __init__(
        self,
        db: Database,
        event_log: EventLog,
        correlator: Correlator,
        *,
        name: str = CONSUMER_NAME,
        batch: int = 1000,
        poll_s: float = 0.01,
    ) -> None:
        self.db = db
        self.log = event_log
        self.correlator = correlator
        self.name = name
        self.batch = batch
        self.poll_s = poll_s
        self.processed = 0
        self._offset: int | None = None

    def stored_offset(self) -> int:
        with self.db.session() as session:
            return self._state(session).offset

    def _state(self, session: Session) -> ConsumerState:
        state = session.get(ConsumerState, self.name)
        if state is None:
            state = ConsumerState(name=self.name, offset=0, events=0, updated_at=utcnow())
            session.add(state)
            session.flush()
        return state

    def _lock(self, session: Session) -> None:
        """Take the write lock first: on SQLite a transaction that read before writing
        fails at once if another writer committed meanwhile; on PostgreSQL the row lock
        serialises two correlators."""
        moved = session.connection().execute(  # Core: no ORM bulk-update machinery
            update(_STATE).where(_STATE.c.name == self.name).values(updated_at=utcnow())
        )
        if moved.rowcount == 0:
            self._state(session)

    def handle(self, logged: Sequence[LoggedEvent]) -> BatchResult | None:
        """Apply one batch and advance the offset atomically; ``None`` if it was stale."""
        with self.db.session() as session:
            self._lock(session)
            state = self._state(session)
            start = state.offset
            fresh = [item for item in logged if item.offset > start]
            if not fresh:
                self._offset = start
                return None
            result = self.correlator.process(session, [item.event for item in fresh])
            last = fresh[-1].offset
            moved = session.connection().execute(
                update(_STATE)
                .where(_STATE.c.name == self.name, _STATE.c.offset == start)
                .values(offset=last, events=_STATE.c.events + len(fresh), updated_at=utcnow())
            )
            if moved.rowcount != 1:
                session.rollback()
                self._offset = None  # another process advanced it: reload and retry
                return None
        self._offset = last
        self.processed += len(fresh)
        feed.notify()
        return result

    async def step(self) -> int:
        """Handle at most one batch; returns how many events it read."""
        if self._offset is None:
            self._offset = await asyncio.to_thread(self.stored_offset)
        from firegrid.ingest.log_db import DatabaseEventLog

        if isinstance(self.log, DatabaseEventLog):
            # Read (with a lighter query of our own) and handle in one hop to a thread.
            return await asyncio.to_thread(self._step_database, self.log.db, self._offset)
        logged = await self.log.read(self._offset, self.batch)
        if not logged:
            return 0
        await asyncio.to_thread(self.handle, logged)
        return len(logged)

    def _step_database(self, log_db: Database, offset: int) -> int:
        logged = read_database_log(log_db, offset, self.batch)
        if logged:
            self.handle(logged)
        return len(logged)

    async def drain(self) -> int:
        """Handle everything currently in the log (tests, ``rules test``)."""
        total = 0
        while (count := await self.step()) > 0:
            total += count
        return total

    async def run(self, stop_event: asyncio.Event, *, offset_every_s: float = 1.0) -> None:
        """Consume until ``stop_event``; the log's consumer offset is stored once a second
        (our own offset is committed with every batch)."""
        committed = -1
        last_store = 0.0
        loop = asyncio.get_running_loop()
        while not stop_event.is_set():
            try:
                count = await self.step()
            except Exception:
                log.exception("alarm consumer: batch failed; retrying")
                self._offset = None
                count = 0
                await _sleep_or_stop(stop_event, 0.05)
            if (
                self._offset is not None
                and self._offset != committed
                and (count == 0 or loop.time() - last_store >= offset_every_s)
            ):
                try:
                    await self.log.consumer(self.name).commit(self._offset)
                    committed = self._offset
                    last_store = loop.time()
                except Exception:
                    log.exception("alarm consumer: could not store the log offset")
            if count == 0:
                await _sleep_or_stop(stop_event, self.poll_s)


async def _sleep_or_stop(stop_event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), seconds)


def policy_in_force(db: Database) -> Policy:
    return current_from(db).document.policy


async def run_timers(
    db: Database,
    policy: Policy | None,
    clock: Clock,
    stop_event: asyncio.Event,
    *,
    interval_s: float = 0.5,
    settings: Settings | None = None,
) -> None:
    """Fire due timers every ``interval_s``; ``policy=None`` follows the stored policy in
    force (one cheap version check per pass)."""
    worker = worker_name()
    channels = channels_from_settings(settings) if settings is not None else []
    while not stop_event.is_set():
        try:
            in_force = (
                policy if policy is not None else await asyncio.to_thread(policy_in_force, db)
            )
            await asyncio.to_thread(fire_due_timers, db, in_force, clock, worker=worker)
            if channels:
                await asyncio.to_thread(deliver_pending, db, channels, clock)
        except Exception:
            log.exception("alarm timers: pass failed")
        await _sleep_or_stop(stop_event, interval_s)


async def run_alarm_services(
    database: Database,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    event_log: EventLog | None = None,
    clock: Clock = utcnow,
    policy: Policy | None = None,
    rules: Sequence[Rule] | None = None,
    timer_interval_s: float = 0.5,
    poll_s: float = 0.01,
) -> None:
    """Run the correlator (log consumer), timers and notifications until ``stop_event``.

    ``event_log`` lets the ingest process share its open log; otherwise the log chosen by
    ``settings.event_log`` is opened and closed here. Without ``policy`` and ``rules`` the
    services follow the stored policy in force (:mod:`firegrid.alarms.policy_store`).
    """
    from firegrid.ingest.log import open_event_log

    own_log = event_log is None
    event_log = event_log or open_event_log(settings, database)
    if own_log:
        await event_log.start()
    correlator = Correlator(DatabaseDirectory(), policy=policy, rules=rules, clock=clock)
    consumer = AlarmConsumer(database, event_log, correlator, poll_s=poll_s)
    tasks = [
        asyncio.create_task(consumer.run(stop_event), name="alarms-consumer"),
        asyncio.create_task(
            run_timers(
                database, policy, clock, stop_event, interval_s=timer_interval_s, settings=settings
            ),
            name="alarms-timers",
        ),
    ]
    try:
        await stop_event.wait()
    finally:
        stop_event.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_log:
            await event_log.close()
