"""The live feed learns of entries another process committed without polling for them
(PostgreSQL ``LISTEN``/``NOTIFY``): ``firegrid alarms run`` in its own process correlates a
fire, and a stream of this process whose fallback poll is ten minutes away sends it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from firegrid.alarms import feed
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.alarms.conftest import Site

NEVER_S = 600.0  # the stream's fallback poll: the test would time out long before


def _start_alarms(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FIREGRID_DATA_DIR": str(data_dir),
        "FIREGRID_LOG_LEVEL": "WARNING",
        "FIREGRID_ALARMS_FILE_CHANNELS": "",
    }
    code = "from firegrid.alarms.cli import alarms_app; alarms_app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "run", "--db", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.timeout(120)
def test_an_entry_of_another_process_wakes_the_stream(
    db: Database, site: Site, tmp_path: Path
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the cross-process wake-up is PostgreSQL's; SQLite streams poll")
    with db.sessions() as session:
        after = feed.last_id(session)

    async def scenario() -> str:
        stream = feed.stream(db, "/", after, poll_s=NEVER_S, heartbeat_s=NEVER_S)
        preamble = await stream.__anext__()
        assert preamble.startswith("retry:")
        listener = feed.listener_for(db)
        assert listener is not None
        assert await asyncio.to_thread(listener.connected.wait, 10)
        reading = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.2)  # the stream has read the table and waits
        assert not reading.done()
        alarms = _start_alarms(db.url, tmp_path)
        try:
            log = DatabaseEventLog(db)
            await log.start()
            await log.append_batch([site.ev(K.FIRE_ALARM)])  # nothing wakes this process
            await log.close()
            return await asyncio.wait_for(reading, 60)
        finally:
            alarms.send_signal(signal.SIGTERM)
            try:
                alarms.wait(10)
            except subprocess.TimeoutExpired:
                alarms.kill()
            await stream.aclose()

    message = asyncio.run(scenario())
    assert "event: alarm.new" in message
    assert f'"venue_id": {site.venue_id}' in message


@pytest.mark.timeout(60)
def test_stopped_listeners_have_ended_and_a_new_one_starts_on_demand(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("listeners are PostgreSQL's")
    first = feed.listener_for(db)
    assert first is not None
    assert first.connected.wait(10)
    feed.stop_listeners()
    assert not first.alive
    assert not first._thread.is_alive()  # joined: nothing of it can log afterwards
    second = feed.listener_for(db)
    assert second is not None
    assert second is not first
    assert second.connected.wait(10)
    feed.stop_listeners()
