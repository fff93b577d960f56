"""No loss: kill the ingest process with SIGKILL mid-stream, restart it, and check that
every frame the simulator saw confirmed is in the event log exactly once.

The simulator's GB clients send a numbered stream (component address = sequence number),
wait for confirms, retransmit unconfirmed frames on timeout and after reconnecting.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from firegrid.core.db import Database
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.log_jetstream import JetStreamEventLog
from firegrid.ingest.simulate import SimOptions, register_devices, simulate_gb
from tests.ingest.conftest import NATS_URL

DEVICES = 16
KILLS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Ingest:
    """``firegrid ingest run`` as a subprocess that can be killed and restarted."""

    def __init__(
        self, database_url: str, backend: str, stream: str, port: int, output: Path
    ) -> None:
        self.output = output
        self.args = [
            sys.executable,
            "-m",
            "firegrid.ingest.cli",
            "run",
            "--db",
            database_url,
            "--event-log",
            backend,
            "--stream",
            stream,
            "--gb26875",
            f"127.0.0.1:{port}",
        ]
        self.env = {**os.environ, "FIREGRID_LOG_LEVEL": "WARNING", "FIREGRID_NATS_URL": NATS_URL}
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        with self.output.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                *self.args, stdout=out, stderr=asyncio.subprocess.STDOUT, env=self.env
            )
        for _ in range(300):
            if self.output.read_text().count('{"ready"') >= self.starts:
                return
            assert self.process.returncode is None, self.output.read_text()[-2000:]
            await asyncio.sleep(0.05)
        raise AssertionError("ingest did not start: " + self.output.read_text()[-2000:])

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                await self.kill()


async def stored_numbers(db: Database, backend: str, stream: str) -> list[tuple[str, int]]:
    log: Any = (
        JetStreamEventLog(NATS_URL, db, stream=stream)
        if backend == "jetstream"
        else DatabaseEventLog(db)
    )
    await log.start()
    found: list[tuple[str, int]] = []
    offset = 0
    try:
        while True:
            batch = await log.read(offset, 5000)
            if not batch:
                break
            offset = batch[-1].offset
            found += [
                (i.event.external_id, i.event.component.component_address)
                for i in batch
                if i.event.kind == "fault_cleared"
            ]
    finally:
        await log.close()
    return found


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_confirmed_frames_survive_sigkill_exactly_once(
    database_url: str, db: Database, log_backend: str, stream_name: str, tmp_path: Path
) -> None:
    devices = register_devices(db, "gb26875", DEVICES)
    port = free_port()
    ingest = Ingest(database_url, log_backend, stream_name, port, tmp_path / "ingest.log")
    options = SimOptions(
        target=f"127.0.0.1:{port}",
        count=DEVICES,
        rate=600,
        duration_s=8,
        numbered=True,
        retransmit_s=1.0,
        drain_s=25,
        window=16,
    )

    async def scenario() -> Any:
        await ingest.start()

        async def killer() -> None:
            for _ in range(KILLS):
                await asyncio.sleep(2.0)
                await ingest.kill()
                await asyncio.sleep(0.3)
                await ingest.start()

        try:
            stats, _ = await asyncio.gather(simulate_gb(devices, options), killer())
        finally:
            await ingest.stop()
        return stats, await stored_numbers(db, log_backend, stream_name)

    stats, stored = asyncio.run(scenario())
    assert stats.reconnects >= KILLS
    assert stats.unconfirmed == 0, stats.summary()
    confirmed = {(ext, n) for ext, numbers in stats.confirmed_numbers.items() for n in numbers}
    assert len(confirmed) == stats.confirmed > 1000
    counts = collections.Counter(stored)
    missing = confirmed - set(counts)
    duplicated = {key: c for key, c in counts.items() if c > 1}
    assert not missing, f"{len(missing)} confirmed frames lost, e.g. {sorted(missing)[:5]}"
    assert not duplicated, f"stored more than once: {list(duplicated.items())[:5]}"
    # the last run stopped cleanly and reported its work (the database log: group commits;
    # it may have had nothing left to store if the devices had drained before it started)
    stopped = [
        json.loads(line)["stopped"]
        for line in (tmp_path / "ingest.log").read_text().splitlines()
        if line.startswith('{"stopped"')
    ]
    assert stopped, "the ingest's SIGTERM stop printed no report"
    if log_backend == "database":
        commits = stopped[-1]["event_log"]
        assert 0 <= commits["batches"] <= commits["events"], commits
        assert (commits["batches"] == 0) == (commits["events"] == 0), commits
    else:
        assert "event_log" not in stopped[-1]
