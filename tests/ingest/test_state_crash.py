"""Device state after a crash: the events logged since the last covering flush are replayed."""

from __future__ import annotations

import asyncio
from typing import Any

from firegrid.core.db import Database
from firegrid.devices.state import DeviceRef
from firegrid.ingest.events import Component, EventKind
from firegrid.ingest.service import STATE_CONSUMER
from firegrid.ingest.simulate import register_devices
from tests.ingest.conftest import make_log, running_service
from tests.ingest.test_state import T0, FrozenClock, event


def registered(db: Database) -> tuple[Any, DeviceRef]:
    """One registered GB transmitter and its registry reference."""
    device = register_devices(db, "gb26875", 1)[0]
    ref = DeviceRef(
        device.id, device.external_id, "gb26875", device.venue_id, device.jurisdiction_path
    )
    return device, ref


def test_state_catches_up_with_the_log_after_a_crash(
    db: Database, log_backend: str, stream_name: str
) -> None:
    device, ref = registered(db)
    clock = FrozenClock(T0)

    async def first_life() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            service.clock = clock
            await service.admit(ref, [event(EventKind.FAULT, 1, clock(), ref)])
            assert await service.flush_state() == 1  # covers nothing yet (first flush)
            assert await service.flush_state() == 0  # now the fault's offset is covered
            offset = await service.log.consumer(STATE_CONSUMER).offset()
            assert offset == await service.log.last_offset()
        # A second life that dies with SIGKILL: events are logged, the state never flushed.
        crashed = make_log(db, log_backend, stream_name)
        from firegrid.ingest.service import IngestService

        service = IngestService(db, crashed, clock=clock)
        await service.start(background=False)
        clock.advance(5)
        await service.admit(
            ref,
            [
                event(EventKind.FIRE_ALARM, 7, clock(), ref),
                event(EventKind.FAULT_CLEARED, 1, clock(), ref),
            ],
        )
        await crashed.close()  # no service.close(): nothing flushed

    asyncio.run(first_life())

    async def after_restart() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            status = service.state.get(device.id)
            assert status is not None
            assert list(status.alarms) == [Component(component_address=7).key()]
            assert status.faults == {}  # the fault was cleared before the crash
            assert status.online
            assert status.last_seen == T0.replace(second=5)

    asyncio.run(after_restart())


def test_first_start_takes_the_table_as_current(
    db: Database, log_backend: str, stream_name: str
) -> None:
    device, ref = registered(db)

    async def scenario() -> None:
        log = make_log(db, log_backend, stream_name)
        await log.start()
        await log.append_batch([event(EventKind.FIRE_ALARM, 3, T0, ref)])  # an old event
        await log.close()
        async with running_service(db, log_backend, stream_name) as service:
            assert service.state.get(device.id) is None  # not replayed from the beginning
            assert await service.log.consumer(STATE_CONSUMER).offset() >= 1

    asyncio.run(scenario())


def test_processes_sharing_the_port_each_keep_their_own_offset(
    db: Database, log_backend: str, stream_name: str
) -> None:
    """Worker "b" logs a fire alarm and dies before flushing it while worker "a" goes on
    flushing: a's offset moves past the alarm, b's does not, so b's restart replays it."""
    device, ref = registered(db)
    clock = FrozenClock(T0)
    from firegrid.ingest.service import IngestOptions, IngestService

    async def shared_lives() -> None:
        async with running_service(db, log_backend, stream_name, worker_id="a") as a:
            crashed = make_log(db, log_backend, stream_name)
            b = IngestService(db, crashed, clock=clock, options=IngestOptions(worker_id="b"))
            await b.start(background=False)
            await b.admit(ref, [event(EventKind.FIRE_ALARM, 7, clock(), ref)])
            await crashed.close()  # SIGKILL: b never flushes
            await a.flush_state()
            await a.flush_state()  # a's offset now covers the alarm's
            assert await a.log.consumer("device-state.a").offset() == await a.log.last_offset()
            assert await a.log.consumer("device-state.b").offset() < await a.log.last_offset()

    asyncio.run(shared_lives())

    async def b_restarts() -> None:
        async with running_service(db, log_backend, stream_name, worker_id="b") as b:
            status = b.state.get(device.id)
            assert status is not None
            assert list(status.alarms) == [Component(component_address=7).key()]

    asyncio.run(b_restarts())
