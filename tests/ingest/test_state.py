"""Device state: online/offline with a frozen clock, alarms and faults, survives restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.devices.state import DeviceRef, DeviceStateTracker
from firegrid.devices.state_models import DeviceStateRow
from firegrid.ingest.events import Component, DeviceEvent, EventKind, make_event_id
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestOptions, IngestService
from firegrid.ingest.simulate import register_devices


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
REF = DeviceRef(1, "700", "gb26875", 5, "/900000/")


def event(kind: EventKind, point: int, at: datetime, ref: DeviceRef = REF) -> DeviceEvent:
    return DeviceEvent(
        event_id=make_event_id("t", ref.external_id, kind, point, at.isoformat()),
        device_id=ref.device_id,
        external_id=ref.external_id,
        protocol=ref.protocol,
        venue_id=ref.venue_id,
        jurisdiction_path=ref.jurisdiction_path,
        occurred_at=at,
        received_at=at,
        kind=kind,
        component=Component(component_address=point, description=f"p{point}"),
    )


def test_offline_after_grace_and_online_again() -> None:
    clock = FrozenClock(T0)
    tracker = DeviceStateTracker(offline_grace_s=120, clock=clock)
    online = tracker.seen(REF, clock())
    assert online is not None
    assert online.kind is EventKind.ONLINE
    assert tracker.seen(REF, clock()) is None  # heartbeats while online: nothing to store
    clock.advance(119)
    assert tracker.check_offline() == []
    clock.advance(2)
    (offline,) = tracker.check_offline()
    assert offline.kind is EventKind.OFFLINE
    assert offline.device_id == 1
    assert offline.venue_id == 5
    assert offline.occurred_at == clock()
    assert tracker.check_offline() == []  # reported once
    status = tracker.get(1)
    assert status is not None
    assert not status.online
    back = tracker.seen(REF, clock())
    assert back is not None
    assert back.kind is EventKind.ONLINE


def test_the_offline_check_looks_only_at_the_candidates_it_is_given() -> None:
    clock = FrozenClock(T0)
    tracker = DeviceStateTracker(offline_grace_s=120, clock=clock)
    refs = [DeviceRef(n, str(700 + n), "gb26875", n, "/900000/") for n in (1, 2, 3)]
    for ref in refs:
        tracker.seen(ref, clock())
    clock.advance(121)
    candidates = tracker.offline_candidates(clock())
    assert sorted(candidates) == [1, 2, 3]
    tracker.seen(refs[0], clock())  # heard from after it was listed: not offline
    offline = tracker.check_offline(clock(), [1, 2, 99])  # 99: unknown, skipped
    assert [event.device_id for event in offline] == [2]
    (later,) = tracker.check_offline(clock())  # device 3, not a candidate then, is next
    assert later.device_id == 3


def test_alarms_and_faults_per_component_and_venue() -> None:
    tracker = DeviceStateTracker()
    tracker.observe(event(EventKind.FIRE_ALARM, 1, T0))
    tracker.observe(event(EventKind.FAULT, 2, T0))
    tracker.observe(event(EventKind.LOW_BATTERY, 3, T0))
    venue = tracker.venue(5)
    assert len(venue["alarms"][1]) == 1
    assert len(venue["faults"][1]) == 2
    assert tracker.venues_in_alarm() == {5: 1}
    tracker.observe(event(EventKind.FAULT_CLEARED, 2, T0))
    status = tracker.get(1)
    assert status is not None
    assert len(status.faults) == 1
    tracker.observe(event(EventKind.RESET, 0, T0))
    assert not status.alarms
    assert not status.faults


def test_state_is_flushed_in_batches_and_survives_restart(db: Database) -> None:
    device = register_devices(db, "gb26875", 1)[0]
    ref = DeviceRef(
        device.id, device.external_id, "gb26875", device.venue_id, device.jurisdiction_path
    )
    clock = FrozenClock(T0)

    async def first_life() -> None:
        service = IngestService(db, DatabaseEventLog(db), clock=clock)
        await service.start(background=False)
        for _ in range(50):  # heartbeats are not rows
            await service.admit(ref, [], seen_at=clock())
            clock.advance(1)
        alarm = event(EventKind.FIRE_ALARM, 7, clock(), ref)
        await service.admit(ref, [alarm], values={"battery": 55})
        assert await service.flush_state() == 1
        assert await service.flush_state() == 0  # nothing changed since
        await service.close()

    asyncio.run(first_life())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DeviceStateRow)) == 1

    async def second_life() -> None:
        service = IngestService(
            db, DatabaseEventLog(db), clock=clock, options=IngestOptions(offline_grace_s=60)
        )
        await service.start(background=False)
        status = service.state.get(device.id)
        assert status is not None
        assert status.online
        assert status.battery_pct == 55
        assert list(status.alarms) == [Component(component_address=7).key()]
        assert status.last_seen == T0 + timedelta(seconds=50)
        assert status.external_id == device.external_id  # bound to the registry again
        # silence past the grace period: an offline event is stored
        clock.advance(120)
        (offline,) = await service.check_offline()
        assert offline.kind is EventKind.OFFLINE
        assert offline.protocol == "gb26875"
        stored = [i.event.kind for i in await service.log.read(0, 100)]
        assert stored.count(EventKind.OFFLINE) == 1
        await service.close()

    asyncio.run(second_life())


def test_heartbeats_are_written_at_most_once_a_minute_per_device() -> None:
    clock = FrozenClock(T0)
    tracker = DeviceStateTracker(persist_seen_every_s=60, clock=clock)
    tracker.seen(REF, clock())
    assert len(tracker.take_dirty()) == 1
    for _ in range(5):
        clock.advance(10)
        tracker.seen(REF, clock())
    assert tracker.take_dirty() == []  # 50 s of heartbeats: nothing to write
    clock.advance(10)
    tracker.seen(REF, clock())
    (row,) = tracker.take_dirty()
    assert row["last_seen"] == clock()
    tracker.seen(REF, clock(), {"battery": 40})  # a new reading is written at once
    assert tracker.take_dirty()[0]["battery_pct"] == 40


def test_processes_sharing_the_port_do_not_call_each_others_devices_offline(
    db: Database,
) -> None:
    """Two ingest processes on one database (SO_REUSEPORT): only A holds the device's
    connection; B loaded its state at start and never hears it."""
    device = register_devices(db, "gb26875", 1)[0]
    ref = DeviceRef(
        device.id, device.external_id, "gb26875", device.venue_id, device.jurisdiction_path
    )
    clock = FrozenClock(T0)

    def options(worker_id: str) -> IngestOptions:
        return IngestOptions(offline_grace_s=600, worker_id=worker_id)

    async def scenario() -> None:
        a = IngestService(db, DatabaseEventLog(db), clock=clock, options=options("a"))
        await a.start(background=False)
        await a.admit(ref, [], seen_at=clock())
        await a.flush_state()
        b = IngestService(db, DatabaseEventLog(db), clock=clock, options=options("b"))
        await b.start(background=False)
        status_b = b.state.get(device.id)
        assert status_b is not None
        assert status_b.online
        for _ in range(20):  # A hears a heartbeat every 30 s and flushes
            clock.advance(30)
            await a.admit(ref, [], seen_at=clock())
            await a.flush_state()
        last_beat = clock()
        clock.advance(1)  # past B's grace period: B checks the stored state and stays quiet
        assert await b.check_offline() == []
        assert status_b.last_seen == last_beat
        assert await b.flush_state() == 0  # a time another process wrote is not rewritten
        # the device falls silent: A calls it offline once, B adopts A's mark
        clock.advance(600)
        (offline,) = await a.check_offline()
        assert offline.kind is EventKind.OFFLINE
        await a.flush_state()
        clock.advance(1)
        assert await b.check_offline() == []
        assert not status_b.online
        kinds = [i.event.kind for i in await a.log.read(0, 100)]
        assert kinds.count(EventKind.OFFLINE) == 1
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_a_stored_last_seen_never_moves_back(db: Database) -> None:
    device = register_devices(db, "gb26875", 1)[0]
    ref = DeviceRef(
        device.id, device.external_id, "gb26875", device.venue_id, device.jurisdiction_path
    )
    late, early = DeviceStateTracker(), DeviceStateTracker()
    late.seen(ref, T0 + timedelta(minutes=5))
    early.seen(ref, T0)
    late.flush(db)
    early.flush(db)  # e.g. a process replaying the log after a crash
    with db.session() as session:
        row = session.get(DeviceStateRow, device.id)
        assert row is not None
        assert row.last_seen == T0 + timedelta(minutes=5)
