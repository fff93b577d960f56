"""The event log contract, on both backends (embedded database and NATS JetStream)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.ingest.events import (
    Component,
    DeviceEvent,
    EventKind,
    decode_event,
    encode_event,
    make_event_id,
)
from tests.ingest.conftest import make_log

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def event(n: int, kind: EventKind = EventKind.FAULT, device_id: int | None = 1) -> DeviceEvent:
    return DeviceEvent(
        event_id=make_event_id("test", "dev-1", n),
        device_id=device_id,
        external_id="dev-1",
        protocol="test",
        venue_id=3,
        jurisdiction_path="/900000/",
        occurred_at=T0 + timedelta(seconds=n),
        received_at=T0 + timedelta(seconds=n, milliseconds=5),
        kind=kind,
        component=Component(loop=1, point=n, description=f"点{n}"),
        values={"n": n},
        raw_ref=f"raw-{n}",
    )


def test_event_ids_are_stable_and_distinct() -> None:
    assert make_event_id("gb26875", "1", 2, b"x") == make_event_id("gb26875", "1", 2, b"x")
    assert make_event_id("gb26875", "1", 2, b"x") != make_event_id("gb26875", "1", 2, b"y")
    assert make_event_id("gb26875", "1", 2) != make_event_id("mqtt", "1", 2)


def test_events_must_be_timezone_aware() -> None:
    with pytest.raises(ValidationFailed):
        DeviceEvent(
            event_id="x",
            device_id=None,
            external_id="d",
            protocol="t",
            venue_id=None,
            jurisdiction_path="",
            occurred_at=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
            received_at=T0,
            kind=EventKind.OTHER,
        )


def test_encoding_round_trips() -> None:
    original = event(4, EventKind.FIRE_ALARM)
    assert decode_event(encode_event(original)) == original


def test_append_read_dedupe_and_order(db: Database, log_backend: str, stream_name: str) -> None:
    async def scenario() -> None:
        log = make_log(db, log_backend, stream_name)
        await log.start()
        try:
            await log.append_batch([event(n) for n in range(1, 6)])
            # a retransmission and an overlapping batch: stored once each
            await log.append_batch([event(3), event(5), event(6)])
            assert await log.count() == 6
            items = await log.read(0, 100)
            assert [i.event.values["n"] for i in items] == [1, 2, 3, 4, 5, 6]
            assert items[0].event == event(1)
            offsets = [i.offset for i in items]
            assert offsets == sorted(offsets)
            assert len(set(offsets)) == 6
            later = await log.read(offsets[2], 2)
            assert [i.event.values["n"] for i in later] == [4, 5]
            assert await log.read(offsets[-1], 10) == []
        finally:
            await log.close()

    asyncio.run(scenario())


def test_concurrent_appends_share_commits(db: Database, log_backend: str, stream_name: str) -> None:
    async def scenario() -> None:
        log = make_log(db, log_backend, stream_name)
        await log.start()
        try:
            await asyncio.gather(*(log.append_batch([event(n)]) for n in range(200)))
            assert await log.count() == 200
            stats = getattr(log, "stats", None)
            if stats is not None:  # the database log: group commit
                assert stats["batches"] < 200
        finally:
            await log.close()

    asyncio.run(scenario())


def test_consumer_is_at_least_once_with_stored_offsets(
    db: Database, log_backend: str, stream_name: str
) -> None:
    async def scenario() -> None:
        log = make_log(db, log_backend, stream_name)
        await log.start()
        try:
            await log.append_batch([event(n) for n in range(10)])
            consumer = log.consumer("alarms")
            first = await consumer.fetch(4)
            assert [i.event.values["n"] for i in first] == [0, 1, 2, 3]
            # not committed: a restarted consumer sees the same events again
            again = await log.consumer("alarms").fetch(4)
            assert again == first
            await consumer.commit(first[-1].offset)
            rest = await log.consumer("alarms").fetch(100)
            assert [i.event.values["n"] for i in rest] == list(range(4, 10))
            # consumers are independent
            assert len(await log.consumer("risk").fetch(100)) == 10
            # offsets never move backwards
            await consumer.commit(first[0].offset)
            assert await consumer.offset() == first[-1].offset
        finally:
            await log.close()

    asyncio.run(scenario())


def test_database_log_survives_reopen(db: Database) -> None:
    async def scenario() -> None:
        log = make_log(db, "database", "")
        await log.start()
        await log.append_batch([event(1), event(2)])
        await log.close()
        reopened = make_log(db, "database", "")
        await reopened.start()
        try:
            assert [i.event.values["n"] for i in await reopened.read(0, 10)] == [1, 2]
        finally:
            await reopened.close()

    asyncio.run(scenario())


def test_a_component_key_names_system_address_type_and_component() -> None:
    """``sys/addr/type/comp``; an unknown part is empty, a zero is written (state and the
    correlator's lines are keyed by it: a change here orphans stored keys)."""
    assert Component(1, 2, 30, 4000).key() == "1/2/30/4000"
    assert Component(0, 0, 0, 0).key() == "0/0/0/0"
    assert Component(component_address=7).key() == "///7"
    assert Component(system_type=1, loop=3, point=4).key() == "1///"
    assert Component().key() == "///"
