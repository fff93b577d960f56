"""An idle consumer of a log that rings (JetStream) reads when an appender rings, not when
a poll comes round (issue #25: a fire after a quiet spell waited for the next poll, and the
polls were most of an idle centre's CPU)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import select

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.models import Alarm
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log import LoggedEvent
from firegrid.ingest.log_db import DatabaseEventLog
from tests.alarms.conftest import Site
from tests.helpers import until

NEVER_S = 3600.0  # a timed read never comes round during the test
LIMIT_S = 30.0


class RingingLog(DatabaseEventLog):
    """The database log with a doorbell the test rings by hand (as JetStream's appenders
    ring theirs); counts the reads and the waits."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.bell = asyncio.Event()
        self.reads = 0
        self.waits: list[float] = []

    @property
    def rings(self) -> bool:
        return True

    async def read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        self.bell.clear()
        self.reads += 1
        return await super().read(after_offset, limit)

    async def wait_for_append(self, timeout_s: float) -> bool:
        self.waits.append(timeout_s)
        try:
            await asyncio.wait_for(self.bell.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


def alarm_kinds(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Alarm.kind).order_by(Alarm.id)).all())


@contextlib.asynccontextmanager
async def consuming(log: DatabaseEventLog, consumer: AlarmConsumer) -> AsyncIterator[None]:
    """``consumer.run`` in a task while the body runs; at the end the stop must end it."""
    await log.start()
    stop = asyncio.Event()
    running = asyncio.ensure_future(consumer.run(stop))
    try:
        yield
        stop.set()
        await asyncio.wait_for(running, LIMIT_S)  # the stop ends an idle wait too
    finally:
        if not running.done():
            running.cancel()
        await log.close()


def test_an_idle_consumer_reads_at_the_ring_and_stops_at_once(
    db: Database, site: Site, correlator: Correlator
) -> None:
    async def scenario() -> tuple[list[str], list[float], int, int]:
        log = RingingLog(db)
        consumer = AlarmConsumer(db, log, correlator, poll_s=NEVER_S)
        async with consuming(log, consumer):
            await until(lambda: bool(log.waits), LIMIT_S)  # idle: waiting for the bell, for an hour
            reads_idle = log.reads
            await log.append_batch([site.ev(K.FIRE_ALARM)])
            await asyncio.sleep(0.1)
            before_ring = alarm_kinds(db)  # appended, not rung: nobody looked yet
            log.bell.set()
            await until(lambda: alarm_kinds(db) == ["fire"], LIMIT_S)
        return before_ring, log.waits, reads_idle, log.reads

    before_ring, waits, reads_idle, reads = asyncio.run(scenario())
    assert before_ring == []
    assert waits[0] == NEVER_S
    assert reads > reads_idle  # the ring made it read


def test_a_log_that_does_not_ring_is_polled(
    db: Database, site: Site, correlator: Correlator
) -> None:
    """The database log cannot hear another process's appends: the consumer reads it at
    the timed pace (at most ``idle_poll_max_s`` apart), as before."""

    async def scenario() -> list[str]:
        log = DatabaseEventLog(db)
        consumer = AlarmConsumer(db, log, correlator, idle_ring_max_s=NEVER_S)
        async with consuming(log, consumer):
            await asyncio.sleep(0.2)
            await log.append_batch([site.ev(K.FIRE_ALARM)])
            await until(lambda: alarm_kinds(db) == ["fire"], LIMIT_S)
        return alarm_kinds(db)

    assert asyncio.run(scenario()) == ["fire"]
