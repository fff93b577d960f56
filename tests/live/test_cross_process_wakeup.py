"""On PostgreSQL a dispatch change committed by another process wakes this process's live
streams at once (the live writer sends the feed's ``NOTIFY``): a stream whose fallback poll
is ten minutes away still delivers the unit's new status."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from firegrid.alarms import feed
from firegrid.core.db import Database
from firegrid.live import stream
from tests.accounts.city import City

NEVER_S = 600.0  # the stream's fallback poll and heartbeat: the test would time out first

CHANGE = """
import sys
from firegrid.core.db import Database
from firegrid.dispatch.incidents import set_vehicle_status
from firegrid.dispatch.models import Vehicle
db = Database(sys.argv[1])
with db.session() as session:
    vehicle = session.get(Vehicle, int(sys.argv[2]))
    set_vehicle_status(session, "other process", vehicle, "out_of_service", cause="test")
"""


@pytest.mark.timeout(120)
def test_a_change_of_another_process_wakes_the_live_stream(db: Database, city: City) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the cross-process wake-up is PostgreSQL's; SQLite streams poll")
    vehicle_id = city.id("vehicle", "in")
    reader = stream.Reader(scope_path="/", alarms=True, incidents=True)

    async def scenario() -> str:
        messages = stream.stream(db, reader, None, poll_s=NEVER_S, heartbeat_s=NEVER_S)
        hello = await messages.__anext__()
        assert "event: hello" in hello
        listener = feed.listener_for(db)
        assert listener is not None
        assert await asyncio.to_thread(listener.connected.wait, 10)
        reading = asyncio.ensure_future(messages.__anext__())
        await asyncio.sleep(0.2)  # the stream has read the tables and waits
        assert not reading.done()
        try:
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", CHANGE, db.url, str(vehicle_id)],
                capture_output=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr.decode()[-2000:]
            return await asyncio.wait_for(reading, 30)
        finally:
            await messages.aclose()

    message = asyncio.run(scenario())
    assert "event: unit.status" in message
    assert f'"unit_id": {vehicle_id}' in message
