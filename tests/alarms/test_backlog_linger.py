"""Fault and analog traffic waits a moment to be handled with what follows it; a fire never
waits (issue #25: at a few hundred events a second a transaction per event or two was most
of the correlator's CPU)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import func, select

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.models import Alarm
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.alarms.conftest import Site

LONG_S = 60.0  # longer than any test: what waits, waits until the test says otherwise


@contextlib.asynccontextmanager
async def opened_log(db: Database) -> AsyncIterator[DatabaseEventLog]:
    log = DatabaseEventLog(db)
    await log.start()
    try:
        yield log
    finally:
        await log.close()


def alarm_kinds(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Alarm.kind).order_by(Alarm.id)).all())


def test_a_few_faults_wait_and_a_fire_does_not(
    db: Database, site: Site, correlator: Correlator
) -> None:
    async def scenario() -> tuple[int, list[str], int, list[str], bool, int, list[str], int]:
        async with opened_log(db) as log:
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n) for n in range(3)])
            consumer = AlarmConsumer(db, log, correlator, batch=100, backlog_linger_s=LONG_S)
            first = await consumer.step()
            after_faults = alarm_kinds(db)
            await log.append_batch([site.ev(K.FIRE_ALARM)])
            second = await consumer.step()
            after_fire = alarm_kinds(db)
            waiting = consumer.lingering
            drained = await consumer.drain()
            return (
                first,
                after_faults,
                second,
                after_fire,
                waiting,
                drained,
                alarm_kinds(db),
                consumer.stored_offset(),
            )

    first, after_faults, second, after_fire, waiting, drained, kinds, offset = asyncio.run(
        scenario()
    )
    assert (first, after_faults) == (0, [])  # the faults wait
    assert (second, after_fire) == (0, ["fire"])  # the fire did not
    assert waiting
    assert drained == 4  # drain handles what waits at once (the fire is skipped, not redone)
    assert kinds == ["fire", "fault"]
    assert offset == 4


def test_what_waited_the_linger_is_handled(
    db: Database, site: Site, correlator: Correlator
) -> None:
    async def scenario() -> tuple[int, int]:
        async with opened_log(db) as log:
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n) for n in range(3)])
            consumer = AlarmConsumer(db, log, correlator, batch=100, backlog_linger_s=0.05)
            early = await consumer.step()
            await asyncio.sleep(0.1)
            return early, await consumer.step()

    early, later = asyncio.run(scenario())
    assert early == 0
    assert later == 3
    assert alarm_kinds(db) == ["fault"]


def test_enough_waiting_events_do_not_wait(
    db: Database, site: Site, correlator: Correlator
) -> None:
    async def scenario() -> list[int]:
        async with opened_log(db) as log:
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n % 5) for n in range(25)])
            consumer = AlarmConsumer(
                db, log, correlator, batch=100, linger_events=10, backlog_linger_s=LONG_S
            )
            steps = [await consumer.step()]
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n) for n in range(5)])
            steps += [await consumer.step(), await consumer.step()]
            return steps

    # 25 waiting (over 10) go at once; the 5 after them wait for more (or for the linger)
    assert asyncio.run(scenario()) == [25, 0, 0]
    with db.session() as session:
        assert session.scalar(select(func.sum(Alarm.event_count))) == 25


def test_the_service_loop_handles_what_waits(
    db: Database, site: Site, correlator: Correlator
) -> None:
    """``run`` keeps stepping while the backlog waits, and handles it once the linger ends."""

    async def scenario() -> int:
        stop = asyncio.Event()
        async with opened_log(db) as log:
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n) for n in range(3)])
            consumer = AlarmConsumer(db, log, correlator, batch=100, backlog_linger_s=0.05)
            running = asyncio.create_task(consumer.run(stop))
            for _ in range(200):  # 10 s at most
                if consumer.processed == 3:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await running
            return consumer.processed

    assert asyncio.run(scenario()) == 3
    assert alarm_kinds(db) == ["fault"]


def test_what_waits_at_stop_is_handled(db: Database, site: Site, correlator: Correlator) -> None:
    async def scenario() -> tuple[bool, int, int]:
        stop = asyncio.Event()
        async with opened_log(db) as log:
            await log.append_batch([site.ev(K.FAULT, "smoke", address=n) for n in range(3)])
            consumer = AlarmConsumer(db, log, correlator, batch=100, backlog_linger_s=LONG_S)
            running = asyncio.create_task(consumer.run(stop))
            for _ in range(200):  # 10 s at most
                if consumer.lingering:
                    break
                await asyncio.sleep(0.05)
            waited = consumer.lingering and consumer.processed == 0
            stop.set()
            await running
            return waited, consumer.processed, consumer.stored_offset()

    assert asyncio.run(scenario()) == (True, 3, 3)
    assert alarm_kinds(db) == ["fault"]
