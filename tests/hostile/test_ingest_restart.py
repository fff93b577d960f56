"""A killed ingest process is ready again quickly and loses nothing (issue #24): the ready
line comes once the registry is loaded (from its snapshot plus the changes since), device
state loads in the background, and what is admitted meanwhile reaches it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from firegrid.core.clock import utcnow
from firegrid.core.collector import SERVICE_GEN0_THRESHOLD
from firegrid.core.db import Database
from firegrid.devices.state import DeviceRef
from firegrid.devices.state_models import DeviceStateRow
from firegrid.ingest.adapters.gb26875.codec import ApplicationData, Command, Frame
from firegrid.ingest.adapters.gb26875.events import frame_events
from firegrid.ingest.events import EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.models import DeviceEventRow, QuarantineDevice
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import register_devices
from tests.alarms.live import free_port
from tests.hostile.ingest_fixtures import NOW, TcpDevice, fire, frame_bytes


class IngestRun:
    """``firegrid ingest run`` as a real process; reads its JSON lines."""

    def __init__(self, url: str, port: int, data_dir: Path, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "FIREGRID_DATA_DIR": str(data_dir),
            "FIREGRID_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        args = ["-m", "firegrid.ingest.cli", "run", "--db", url, "--gb26875", f"127.0.0.1:{port}"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, env=env
            )

    def line(self, key: str, timeout_s: float = 120.0) -> dict[str, Any]:
        """The body of the first output line ``{key: ...}`` (waits for it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for text in self.log.read_text().splitlines():
                if text.startswith(f'{{"{key}"'):
                    body: dict[str, Any] = json.loads(text)[key]
                    return body
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.05)
        raise AssertionError(f"no {key!r} line: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


async def _confirmed(port: int, frame: bytes) -> Command | int:
    device = await TcpDevice.connect(port)
    await device.send(frame)
    (reply,) = await device.replies_within(1, timeout=60.0)
    await device.close()
    return reply.command


def test_a_killed_ingest_process_is_ready_again_and_loses_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    devices = register_devices(db, "gb26875", 20)
    first, second = int(devices[0].external_id), int(devices[1].external_id)
    port = free_port()

    run = IngestRun(database_url, port, tmp_path, tmp_path / "run-1.log")
    try:
        ready = run.line("ready")
        assert ready["startup_counts"]["devices"] == 20
        assert {"registry", "adapters", "total"} <= set(ready["startup_s"])
        assert ready["collector"]["gen0_threshold"] == SERVICE_GEN0_THRESHOLD  # settled
        assert run.line("state_ready")["counts"]["states"] >= 0
        assert asyncio.run(_confirmed(port, frame_bytes(first, 1, fire(7)))) is Command.CONFIRM
    finally:
        run.kill()  # no flush of device state, no clean shutdown
    assert list((tmp_path / "ingest-registry").glob("*.msgpack"))  # the snapshot

    # registered while ingest was down: the restarted process must know it (not quarantine)
    late = register_devices(db, "gb26875", 21)[20]
    run = IngestRun(database_url, port, tmp_path, tmp_path / "run-2.log")
    try:
        ready = run.line("ready")
        assert ready["startup_counts"]["devices"] == 21
        frames = (frame_bytes(second, 1, fire(8)), frame_bytes(int(late.external_id), 1, fire(9)))
        for frame in frames:  # confirmed whether or not device state has loaded yet
            assert asyncio.run(_confirmed(port, frame)) is Command.CONFIRM
        state = run.line("state_ready")
        assert state["counts"]["states"] >= 1
        assert state["counts"]["events_replayed"] >= 1
    finally:
        run.stop()  # a clean stop flushes device state

    with db.session() as session:
        fires = select(DeviceEventRow).where(DeviceEventRow.kind == "fire_alarm")
        stored = {
            (row.device_id, row.component.get("component_address"))
            for row in session.scalars(fires)
        }
        assert stored == {(devices[0].id, 7), (devices[1].id, 8), (late.id, 9)}
        assert session.scalars(select(QuarantineDevice)).all() == []
        states = {row.device_id: row for row in session.scalars(select(DeviceStateRow))}
    # the alarm admitted before the kill was never flushed: replayed from the log on restart
    for device, point in ((devices[0], 7), (devices[1], 8), (late, 9)):
        assert device.id in states, device.id
        assert any(key.endswith(f"/{point}") for key in states[device.id].alarms), states[
            device.id
        ].alarms


def test_messages_admitted_while_device_state_loads_reach_it_afterwards(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held in the middle of loading device state, the service still stores (and so may
    confirm) a fire alarm; once the state is loaded the alarm and the online transition are
    applied to it, and nothing is flushed before."""
    (device,) = register_devices(db, "gb26875", 1)
    ref = DeviceRef(
        device.id, device.external_id, "gb26875", device.venue_id, device.jurisdiction_path
    )
    release = threading.Event()

    async def scenario() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        real_load = service.state.load

        def held_load(database: Database) -> int:
            release.wait(30)
            return real_load(database)

        monkeypatch.setattr(service.state, "load", held_load)
        await service.start(background=False, defer_state=True)
        try:
            assert service.state_loading
            received = utcnow()
            event = frame_events(
                Frame(
                    1,
                    (1, 1),
                    NOW,
                    int(device.external_id),
                    0,
                    Command.SEND_DATA,
                    ApplicationData.of([fire(5)]),
                ),
                ref,
                received,
                "",
            )
            await service.admit(ref, event, seen_at=received)
            kinds = [i.event.kind for i in await service.log.read(0, 10)]
            assert kinds == [EventKind.FIRE_ALARM]  # durable, no transition decided yet
            assert service.state.get(device.id) is None
            assert await service.flush_state() == 0  # no flush of a half-loaded state
            release.set()
            await asyncio.wait_for(service.state_ready.wait(), 30)
            status = service.state.get(device.id)
            assert status is not None
            assert status.online
            assert any(key.endswith("/5") for key in status.alarms)
            kinds = [i.event.kind for i in await service.log.read(0, 10)]
            assert kinds == [EventKind.FIRE_ALARM, EventKind.ONLINE]
            assert service.startup_counts["events_replayed"] == 1
        finally:
            release.set()
            await service.close()

    asyncio.run(scenario())
