"""A fire jumps the queue (issue #25): with a backlog of faults in the event log, the
consumer's first step puts the fire on the feed before it has handled most of the faults."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.models import Alarm, FeedEntry
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.alarms.conftest import Site

BACKLOG = 3000
BATCH = 500


def test_a_fire_behind_a_fault_backlog_is_handled_first(
    db: Database, site: Site, correlator: Correlator
) -> None:
    faults = [site.ev(K.FAULT, "smoke", address=n % 200) for n in range(BACKLOG)]

    async def scenario() -> tuple[int, int, int]:
        log = DatabaseEventLog(db)
        await log.start()
        try:
            await log.append_batch(faults)
            await log.append_batch([site.ev(K.FIRE_ALARM)])  # offset BACKLOG + 1
            consumer = AlarmConsumer(db, log, correlator, batch=BATCH)
            handled = await consumer.step()
            offset, priority = consumer.stored_offsets()
            return handled, offset, priority
        finally:
            await log.close()

    handled, offset, priority = asyncio.run(scenario())
    assert handled == BATCH
    assert offset == BATCH  # most of the backlog still waits
    assert priority == BACKLOG + 1  # the fire (and everything before it) in its lane
    with db.session() as session:
        kinds = session.scalars(select(Alarm.kind).order_by(Alarm.id)).all()
        first = session.scalars(select(FeedEntry).order_by(FeedEntry.id)).first()
    assert kinds == ["fire", "fault"]  # the fire's alarm opened first
    assert first is not None
    assert first.type == "alarm.new"
    assert first.payload["kind"] == "fire"


def test_a_consumer_behind_takes_a_larger_batch_and_a_fire_still_goes_first(
    db: Database, site: Site, correlator: Correlator
) -> None:
    """Behind the log, the consumer takes up to ``max_batch`` events per transaction (what a
    batch costs is largely per alarm touched); the fire's lane is still handled first."""
    faults = [site.ev(K.FAULT, "smoke", address=n % 200) for n in range(BACKLOG)]

    async def scenario() -> tuple[list[int], int]:
        log = DatabaseEventLog(db)
        await log.start()
        try:
            await log.append_batch(faults)
            await log.append_batch([site.ev(K.FIRE_ALARM)])
            consumer = AlarmConsumer(db, log, correlator, batch=BATCH, max_batch=2000)
            steps = [await consumer.step()]
            priority = consumer.stored_offsets()[1]
            while (handled := await consumer.step()) > 0:
                steps.append(handled)
            return steps, priority
        finally:
            await log.close()

    steps, priority = asyncio.run(scenario())
    assert priority == BACKLOG + 1  # the fire, in the first step
    assert steps == [2000, BACKLOG + 1 - 2000]  # not six batches of 500
    with db.session() as session:
        kinds = session.scalars(select(Alarm.kind).order_by(Alarm.id)).all()
    assert kinds == ["fire", "fault"]
