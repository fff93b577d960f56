"""The correlator's fast paths behave as the plain ones: the consumer's own log query reads
what ``DatabaseEventLog.read`` reads, and rows queued for bulk inserts are written in order,
once, and are seen by ``cancel_timers``. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from firegrid.alarms import bulk, feed
from firegrid.alarms.consumer import AlarmConsumer
from firegrid.alarms.lifecycle import ACK_ESCALATION, AUTO_FORWARD, cancel_timers, schedule
from firegrid.alarms.models import Alarm, AlarmTimer, FeedEntry
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import Component, DeviceEvent, EventKind
from firegrid.ingest.log import LoggedEvent
from firegrid.ingest.log_db import DatabaseEventLog, read_database_log
from firegrid.ingest.models import DeviceEventRow
from tests.alarms.conftest import T0, Site, event

CST = timezone(timedelta(hours=8))


def _odd_events(site: Site) -> list[DeviceEvent]:
    """Events with every shape a stored event can take."""
    return [
        event(EventKind.FIRE_ALARM, venue_id=site.venue_id, device_id=site.smoke, path=site.path),
        DeviceEvent(  # unknown device, no venue, local time zone, microseconds, non-ASCII
            event_id="odd:1",
            device_id=None,
            external_id="外部-1",
            protocol="gb26875",
            venue_id=None,
            jurisdiction_path=site.path,
            occurred_at=datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=CST),
            received_at=datetime(2026, 11, 25, 10, 0, 1, 7, tzinfo=CST),
            kind=EventKind.ANALOG_VALUE,
            component=Component(point=3, description="压力 sensor"),
            values={"pressure_mpa": 0.31, "nested": {"a": [1, 2]}, "flag": True, "none": None},
            raw_ref="raw/2026/11/25/x.bin",
        ),
        DeviceEvent(  # empty component and values
            event_id="odd:2",
            device_id=site.transmitter,
            external_id="X",
            protocol="http",
            venue_id=site.venue_id,
            jurisdiction_path=site.path,
            occurred_at=T0,
            received_at=T0,
            kind=EventKind.FAULT,
        ),
    ]


def test_log_reader_reads_what_the_event_log_reads(db: Database, site: Site) -> None:
    async def scenario() -> tuple[list[LoggedEvent], list[LoggedEvent], list[LoggedEvent]]:
        log = DatabaseEventLog(db)
        await log.start()
        try:
            await log.append_batch(_odd_events(site))
            with db.session() as session:  # a row whose JSON columns hold null
                session.execute(
                    insert(DeviceEventRow),
                    [
                        {
                            "event_id": "odd:null",
                            "device_id": None,
                            "external_id": "N",
                            "protocol": "http",
                            "venue_id": None,
                            "jurisdiction_path": site.path,
                            "kind": "fault",
                            "occurred_at": T0,
                            "received_at": T0,
                            "component": None,
                            "values": None,
                            "raw_ref": "",
                        }
                    ],
                )
            return await log.read(0, 100), await log.read(1, 2), await log.read(4, 10)
        finally:
            await log.close()

    everything, middle, none = asyncio.run(scenario())
    assert len(everything) == 4
    assert read_database_log(db, 0, 100) == everything
    assert read_database_log(db, 1, 2) == middle
    assert read_database_log(db, 4, 10) == none == []
    mine = read_database_log(db, 0, 100)
    for item in mine:
        assert item.event.occurred_at.tzinfo is not None
        assert item.event.received_at.utcoffset() == timedelta(0)
    assert mine[3].event.component == Component()
    assert mine[3].event.values == {}


class _OtherLog:
    """A log that is not the database log (as JetStream): read through ``EventLog.read``."""

    backend = "other"

    def __init__(self, inner: DatabaseEventLog) -> None:
        self.inner = inner
        self.reads = 0

    async def read(self, after_offset: int, limit: int) -> list[LoggedEvent]:
        self.reads += 1
        return await self.inner.read(after_offset, limit)


def test_consumer_reads_other_logs_through_their_read(
    db: Database, site: Site, correlator: Correlator
) -> None:
    async def scenario() -> tuple[int, int]:
        inner = DatabaseEventLog(db)
        await inner.start()
        try:
            await inner.append_batch(_odd_events(site))
            other = _OtherLog(inner)
            consumer = AlarmConsumer(db, other, correlator)  # type: ignore[arg-type]
            return await consumer.drain(), other.reads
        finally:
            await inner.close()

    handled, reads = asyncio.run(scenario())
    assert handled == 3
    assert reads >= 2
    with db.session() as session:
        kinds = sorted(session.scalars(select(Alarm.kind)).all())
    assert kinds == ["fault", "fire"]


def _alarm(session_db: Database) -> int:
    with session_db.session() as session:
        alarm = Alarm(
            kind="fire",
            status="new",
            fold_key="test:bulk",
            jurisdiction_path="/x/",
            opened_at=T0,
            first_received_at=T0,
            last_event_at=T0,
        )
        session.add(alarm)
        session.flush()
        return alarm.id


def test_queued_rows_are_written_once_in_order_when_the_block_ends(db: Database) -> None:
    alarm_id = _alarm(db)
    with db.session() as session:
        with bulk.collect(session):
            for n in range(3):
                feed.append(session, "test.entry", "/x/", {"n": n}, T0, alarm_id)
            with bulk.collect(session):  # nested: joins the outer block
                feed.append(session, "test.entry", "/x/", {"n": 3}, T0, alarm_id)
            schedule(session, AUTO_FORWARD, T0 + timedelta(seconds=60), T0, alarm_id=alarm_id)
            assert session.scalar(select(FeedEntry.id).limit(1)) is None  # not yet written
        assert bulk.pending(session) is None
    with db.session() as session:
        payloads = session.scalars(select(FeedEntry.payload).order_by(FeedEntry.id)).all()
        timers = session.scalars(select(AlarmTimer)).all()
    assert [p["n"] for p in payloads] == [0, 1, 2, 3]
    assert [(t.kind, t.alarm_id, t.fired_at, t.payload) for t in timers] == [
        (AUTO_FORWARD, alarm_id, None, {})
    ]


def test_outside_a_block_rows_are_orm_objects(db: Database) -> None:
    alarm_id = _alarm(db)
    with db.session() as session:
        feed.append(session, "test.entry", "/x/", {"n": 1}, T0, alarm_id)
        schedule(session, ACK_ESCALATION, T0, T0, alarm_id=alarm_id, level=0)
        assert any(isinstance(o, FeedEntry) for o in session.new)
        assert any(isinstance(o, AlarmTimer) for o in session.new)
    with db.session() as session:
        assert len(session.scalars(select(FeedEntry)).all()) == 1
        timer = session.scalars(select(AlarmTimer)).one()
        assert timer.payload == {"level": 0}


def test_a_failed_block_writes_nothing(db: Database) -> None:
    alarm_id = _alarm(db)

    def failing() -> None:
        with db.session() as session, bulk.collect(session):
            feed.append(session, "test.entry", "/x/", {"n": 1}, T0, alarm_id)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing()
    with db.session() as session:
        assert session.scalar(select(FeedEntry.id).limit(1)) is None
        assert bulk.pending(session) is None


def test_cancel_sees_timers_queued_in_the_same_transaction(db: Database) -> None:
    alarm_id = _alarm(db)
    with db.session() as session, bulk.collect(session):
        schedule(session, ACK_ESCALATION, T0, T0, alarm_id=alarm_id, level=0)
        schedule(session, AUTO_FORWARD, T0, T0, alarm_id=alarm_id, timeout_s=60)
        cancel_timers(session, alarm_id, (ACK_ESCALATION,), T0, "acknowledged")
        schedule(session, ACK_ESCALATION, T0, T0, alarm_id=alarm_id, level=1)  # after: pending
    with db.session() as session:
        rows: Sequence[AlarmTimer] = session.scalars(
            select(AlarmTimer).order_by(AlarmTimer.id)
        ).all()
        got = [(t.kind, t.fired_by, t.payload) for t in rows]
    assert got == [
        (ACK_ESCALATION, "cancelled", {"level": 0}),
        (AUTO_FORWARD, "", {"timeout_s": 60}),
        (ACK_ESCALATION, "", {"level": 1}),
    ]
