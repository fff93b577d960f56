"""The correlator as a consumer of the ingest event log, and the alarm services loop.

Delivery from the log is at least once. The consumer keeps its own offsets in
``alarm_consumer_state`` (all events, and the priority lane of fires and supervisory
signals, which it handles ahead of the backlog) and advances each (compare-and-set) in the
same transaction as the alarm changes it covers, so an event is applied exactly once even
when the process dies between handling and committing, and two correlator processes never
apply one batch twice.
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
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Table, bindparam, select, update
from sqlalchemy.orm import Session

from firegrid.alarms import feed
from firegrid.alarms.directory import DatabaseDirectory
from firegrid.alarms.lifecycle import Clock
from firegrid.alarms.models import ConsumerState
from firegrid.alarms.notify import channels_from_settings, deliver_pending
from firegrid.alarms.policy_store import current_from
from firegrid.alarms.rules import Policy, Rule
from firegrid.alarms.service import BatchResult, Correlator
from firegrid.alarms.settings import AlarmSettings
from firegrid.alarms.timers import fire_due_timers
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.log import EventLog, LoggedEvent

log = logging.getLogger(__name__)

CONSUMER_NAME = "alarms"


_STATE: Table = ConsumerState.__table__  # type: ignore[assignment]

# The consumer's statements, built once: a batch of a few events was mostly SQLAlchemy
# building and caching statements (the ORM ``get`` of both lanes cost ~1.3 ms of CPU).
#: takes a lane's row lock (SQLite: the write lock) and says where the lane stands
_LOCK_LANE = (
    update(_STATE)
    .where(_STATE.c.name == bindparam("lane"))
    .values(updated_at=bindparam("now"))
    .returning(_STATE.c.offset)
)
_LANE_OFFSET = select(_STATE.c.offset).where(_STATE.c.name == bindparam("lane"))
#: moves a lane on, if it still stands where this transaction found it
_ADVANCE_LANE = (
    update(_STATE)
    .where(_STATE.c.name == bindparam("lane"), _STATE.c.offset == bindparam("found"))
    .values(
        offset=bindparam("to"),
        events=_STATE.c.events + bindparam("added", type_=BigInteger),
        updated_at=bindparam("now"),
    )
)


@dataclass(frozen=True, slots=True)
class _Lane:
    """A lane's row as this transaction found it (locked, for the main lane)."""

    name: str
    offset: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


PRIORITY_SUFFIX = ":priority"
#: Batch of the backlog per transaction on SQLite (1,000 on PostgreSQL).
SQLITE_BATCH = 250
#: On PostgreSQL a consumer behind the log takes up to this many events per transaction
#: (200 fault alarms touched by 1,000 events cost 128 ms of CPU, by 4,000 events 319 ms:
#: ``bench_alarms.py --drain --workload fault-restore``); a fire waits at most one batch.
MAX_BATCH = 3000


class AlarmConsumer:
    """Reads the event log after its stored offset and feeds the correlator.

    Two lanes, so a fire jumps the queue of a fault storm: the consumer reads ahead of
    what it has handled (up to ``lookahead`` events) and, before each batch of the backlog,
    handles the fire/supervisory lane (:meth:`~firegrid.alarms.service.Correlator.is_priority`:
    what folds into venue alarms) of everything read so far in a small transaction of its
    own. The two lanes never fold into the same alarm, so the result is the one of handling
    the log in order. An event's lane is decided once, when it is read (the rules it
    depends on may be reloaded meanwhile), and again after a restart.

    Two offsets make this restart-safe, each advanced (compare-and-set) in the
    transaction of the changes it covers: ``alarm_consumer_state[name]`` (every event up
    to it is applied; its ``events`` counts each event once) and
    ``alarm_consumer_state[name:priority]`` (every priority event up to it is applied).
    A restarted consumer starts from both and applies nothing twice.

    Fewer than ``linger_events`` (200) events of the backlog wait until the first of them
    has waited ``backlog_linger_s`` (the services use ``FIREGRID_ALARMS_BACKLOG_LINGER_S``,
    0.1 s), so a trickle of faults is one transaction per interval, not one per event or
    two; the priority lane is handled at every step, and :meth:`drain` takes everything at
    once.
    """

    def __init__(
        self,
        db: Database,
        event_log: EventLog,
        correlator: Correlator,
        *,
        name: str = CONSUMER_NAME,
        batch: int = 1000,
        max_batch: int | None = None,
        priority_batch: int = 200,
        lookahead: int = 20_000,
        poll_s: float = 0.01,
        idle_poll_max_s: float = 0.05,
        idle_ring_max_s: float = 0.5,
        backlog_linger_s: float = 0.0,
        linger_events: int = 200,
    ) -> None:
        self.db = db
        self.log = event_log
        self.correlator = correlator
        self.name = name
        self.priority_name = name + PRIORITY_SUFFIX
        self.batch = batch
        #: a consumer behind the log takes up to this many events at once (what a batch
        #: costs is largely per alarm it touches, so a larger one catches up sooner)
        self.max_batch = max(batch, max_batch or batch)
        self.priority_batch = priority_batch
        self.lookahead = max(lookahead, batch)
        self.poll_s = poll_s
        #: an idle log is polled less and less often, up to this (a fire arriving after a
        #: quiet spell waits at most this long; polling every 10 ms cost ~a third of a core)
        self.idle_poll_max_s = max(idle_poll_max_s, poll_s)
        #: the same for a log that rings when another process appends (JetStream): the
        #: reader wakes at the ring, so its timed reads only cover a ring that was lost
        self.idle_ring_max_s = max(idle_ring_max_s, poll_s)
        self.processed = 0
        #: while a batch is handled, the log is read again this often
        self.read_ahead_s = 0.02
        #: fewer than ``linger_events`` events of the backlog wait until the first of them
        #: has waited this long (the priority lane never waits): at a few hundred events a
        #: second a transaction per event or two cost most of the correlator's CPU
        self.backlog_linger_s = backlog_linger_s
        #: so many waiting are handled at once: a fire read meanwhile waits for the batch
        #: in hand, so it is kept short (350 events at 5,000 frames/s added ~20 ms to p99)
        self.linger_events = min(linger_events, batch)
        self._held_since: float | None = None  # monotonic time the waiting backlog began
        self._offset: int | None = None
        self._priority = 0
        self._buffer: deque[tuple[LoggedEvent, bool]] = deque()  # and its lane
        self._urgent: deque[LoggedEvent] = deque()
        self._read_to = 0

    def stored_offset(self) -> int:
        return self.stored_offsets()[0]

    def stored_offsets(self) -> tuple[int, int]:
        """The stored offset of all events and that of the priority lane."""
        with self.db.session() as session:
            main = self._state(session, self.name)
            return main.offset, max(main.offset, self._state(session, self.priority_name).offset)

    def _state(self, session: Session, name: str) -> ConsumerState:
        state = session.get(ConsumerState, name)
        if state is None:
            state = ConsumerState(name=name, offset=0, events=0, updated_at=utcnow())
            session.add(state)
            session.flush()
        return state

    def _lock(self, session: Session) -> tuple[_Lane, _Lane]:
        """Take the write lock first: on SQLite a transaction that read before writing
        fails at once if another writer committed meanwhile; on PostgreSQL the row lock
        serialises two correlators (and this consumer's two lanes)."""
        connection = session.connection()  # Core: no ORM loading or bulk-update machinery
        main = connection.execute(_LOCK_LANE, {"lane": self.name, "now": utcnow()}).scalar()
        if main is None:  # the first batch ever: the row is made (and locked) now
            main = self._state(session, self.name).offset
        urgent = connection.execute(_LANE_OFFSET, {"lane": self.priority_name}).scalar()
        if urgent is None:
            urgent = self._state(session, self.priority_name).offset
        return _Lane(self.name, int(main)), _Lane(self.priority_name, int(urgent))

    def _advance(self, session: Session, lane: _Lane, offset: int, events: int) -> bool:
        moved = session.connection().execute(
            _ADVANCE_LANE,
            {
                "lane": lane.name,
                "found": lane.offset,
                "to": offset,
                "added": events,
                "now": utcnow(),
            },
        )
        return bool(moved.rowcount == 1)

    def handle(
        self, logged: Sequence[LoggedEvent], lanes: Sequence[bool] | None = None
    ) -> BatchResult | None:
        """Apply one batch of the log (in order) and advance the offset atomically;
        priority events (``lanes``, or as the correlator says) the priority lane already
        applied are skipped. ``None`` if the batch was stale (another consumer applied
        it)."""
        if lanes is None:
            lanes = [self.correlator.is_priority(item.event) for item in logged]
        self._prefetch(logged)
        with self.db.session() as session:
            try:
                main, urgent = self._lock(session)
                start = main.offset
                done = max(urgent.offset, start)
                fresh = [item for item in logged if item.offset > start]
                if not fresh:
                    self._offset = None if self._offset not in (None, start) else start
                    return None
                todo = [
                    item.event
                    for item, urgent_lane in zip(logged, lanes, strict=True)
                    if item.offset > start and (item.offset > done or not urgent_lane)
                ]
                result = self.correlator.process(session, todo)
                last = fresh[-1].offset
                if not self._advance(session, main, last, len(fresh)):
                    session.rollback()
                    self.correlator.rollback()
                    self._offset = None  # another process advanced it: reload and retry
                    return None
            except BaseException:
                self.correlator.rollback()
                raise
        self.correlator.commit()
        self._offset = last
        self._priority = max(done, last)
        self.processed += len(fresh)
        feed.notify()
        return result

    def handle_priority(self, logged: Sequence[LoggedEvent], upto: int) -> BatchResult | None:
        """Apply priority events ``logged`` and record that every priority event up to
        ``upto`` is applied; ``None`` if another consumer got there first."""
        self._prefetch(logged)
        with self.db.session() as session:
            try:
                main, urgent = self._lock(session)
                done = max(urgent.offset, main.offset)
                if upto <= done:
                    self._offset = None  # somebody else moved: reload
                    return None
                fresh = [item for item in logged if item.offset > done]
                result = self.correlator.process(session, [item.event for item in fresh])
                if not self._advance(session, urgent, upto, len(fresh)):
                    session.rollback()
                    self.correlator.rollback()
                    self._offset = None
                    return None
            except BaseException:
                self.correlator.rollback()
                raise
        self.correlator.commit()
        self._priority = upto
        feed.notify()
        return result

    def _prefetch(self, logged: Sequence[LoggedEvent]) -> None:
        """On SQLite, read what the batch needs before taking the write lock (the write
        transaction then holds it for the correlation and the writes only)."""
        if self.db.is_sqlite and logged:
            with self.db.sessions() as session:
                self.correlator.prefetch(session, [item.event for item in logged])

    def _reload(self) -> None:
        self._offset, self._priority = self.stored_offsets()
        self._buffer.clear()
        self._urgent.clear()
        self._read_to = self._offset

    async def _read(self, after: int, limit: int) -> list[LoggedEvent]:
        return await self.log.read(after, limit)

    async def _fill(self) -> int:
        """Read ahead of what is handled, up to ``lookahead`` events (after a start with a
        backlog, several reads; then about one batch per step)."""
        total = 0
        while True:
            room = min(self.batch, self.lookahead - len(self._buffer))
            if room <= 0:
                break
            got = await self._read(self._read_to, room)
            if not got:
                break
            self._read_to = got[-1].offset
            for item in got:
                urgent = self.correlator.is_priority(item.event)
                self._buffer.append((item, urgent))
                if urgent and item.offset > self._priority:
                    self._urgent.append(item)
            total += len(got)
            if len(got) < room:
                break
        return total

    async def _read_while(self, handling: asyncio.Future[Any]) -> None:
        """Read ahead while a batch is handled in its thread (the log's round trips overlap
        the database's), so the next step finds the events, and a fire among them, read."""
        while not handling.done():
            try:
                await self._fill()
            except Exception:  # the next step reads again (and reports what is wrong)
                log.debug("alarm consumer: read-ahead failed", exc_info=True)
                return
            if not handling.done():
                await asyncio.wait({handling}, timeout=self.read_ahead_s)

    @property
    def lingering(self) -> bool:
        """Whether backlog events wait for :attr:`backlog_linger_s` (read, not handled)."""
        return self._held_since is not None

    async def step(self, *, at_once: bool = False) -> int:
        """Read ahead, handle the priority lane, then at most one batch of the backlog;
        returns how many events of the backlog it handled. Fewer than ``linger_events``
        waiting events are left for a later step until the first has waited
        ``backlog_linger_s`` (``at_once``: handle them now)."""
        if self._offset is None:
            await asyncio.to_thread(self._reload)
        await self._fill()
        while self._urgent and self._offset is not None:
            size = min(self.priority_batch, len(self._urgent))
            chunk = [self._urgent.popleft() for _ in range(size)]
            upto = self._read_to if not self._urgent else chunk[-1].offset
            await asyncio.to_thread(self.handle_priority, chunk, upto)
        if self._offset is None or not self._buffer:
            self._held_since = None
            return 0
        now = time.monotonic()
        if self._held_since is None:
            self._held_since = now
        if (
            not at_once
            and len(self._buffer) < self.linger_events
            and now - self._held_since < self.backlog_linger_s
        ):
            return 0
        self._held_since = None
        backlog = [self._buffer[i] for i in range(min(self.max_batch, len(self._buffer)))]
        handling = asyncio.get_running_loop().create_task(
            asyncio.to_thread(
                self.handle, [item for item, _ in backlog], [urgent for _, urgent in backlog]
            )
        )
        try:
            await self._read_while(handling)
        finally:
            await handling
        if self._offset is None:
            return 0
        for _ in backlog:
            self._buffer.popleft()
        if self._buffer:  # read meanwhile: they wait at most one more linger from now
            self._held_since = time.monotonic()
        return len(backlog)

    async def drain(self) -> int:
        """Handle everything currently in the log (tests, ``rules test``)."""
        total = 0
        while (count := await self.step(at_once=True)) > 0:
            total += count
        return total

    async def run(self, stop_event: asyncio.Event, *, offset_every_s: float = 1.0) -> None:
        """Consume until ``stop_event``; the log's consumer offset is stored once a second
        (our own offset is committed with every batch). A backlog that waits when
        ``stop_event`` is set is handled before this returns."""
        committed = -1
        last_store = 0.0
        idle_s = self.poll_s
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
            if count == 0 and not self.lingering:
                await self._wait_idle(stop_event, idle_s)
                idle_s = min(idle_s * 1.5, self._idle_max_s)
            elif count == 0:  # a backlog waits: keep looking for fires at the busy pace
                await _sleep_or_stop(stop_event, self.poll_s)
                idle_s = self.poll_s
            else:
                idle_s = self.poll_s
        if self.lingering and self._offset is not None:  # stopping: what waits is handled
            try:
                await self.step(at_once=True)
                await self.log.consumer(self.name).commit(self._offset)
            except Exception:  # read again from the stored offsets at the next start
                log.exception("alarm consumer: the waiting backlog was not handled at stop")

    @property
    def _idle_max_s(self) -> float:
        return self.idle_ring_max_s if self.log.rings else self.idle_poll_max_s

    async def _wait_idle(self, stop_event: asyncio.Event, seconds: float) -> None:
        """Nothing to do: wait ``seconds``, or less if the log rings or we are stopped."""
        if not self.log.rings:
            await _sleep_or_stop(stop_event, seconds)
            return
        ring = asyncio.ensure_future(self.log.wait_for_append(seconds))
        stop = asyncio.ensure_future(stop_event.wait())
        try:
            await asyncio.wait({ring, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (ring, stop):
                waiter.cancel()
        if ring.done() and not ring.cancelled() and ring.exception() is not None:
            log.debug("alarm consumer: waiting for the log failed", exc_info=ring.exception())
            await _sleep_or_stop(stop_event, seconds)  # read again at the timed pace


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
    backlog_linger_s: float | None = None,
) -> None:
    """Run the correlator (log consumer), timers and notifications until ``stop_event``.

    ``event_log`` lets the ingest process share its open log; otherwise the log chosen by
    ``settings.event_log`` is opened and closed here. Without ``policy`` and ``rules`` the
    services follow the stored policy in force (:mod:`firegrid.alarms.policy_store`).
    ``backlog_linger_s`` defaults to ``FIREGRID_ALARMS_BACKLOG_LINGER_S`` (:class:`AlarmSettings`).
    """
    from firegrid.ingest.log import open_event_log

    own_log = event_log is None
    event_log = event_log or open_event_log(settings, database)
    if own_log:
        await event_log.start()
    correlator = Correlator(DatabaseDirectory(), policy=policy, rules=rules, clock=clock)
    # SQLite has one writer at a time: smaller batches keep the correlator's write
    # transactions short, so ingest's group commits do not wait behind them.
    batch = SQLITE_BATCH if database.is_sqlite else 1000
    consumer = AlarmConsumer(
        database,
        event_log,
        correlator,
        batch=batch,
        max_batch=batch if database.is_sqlite else MAX_BATCH,
        poll_s=poll_s,
        backlog_linger_s=(
            AlarmSettings().backlog_linger_s if backlog_linger_s is None else backlog_linger_s
        ),
    )
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
