"""The grid link end to end, as the demo runs it: firegrid's API (in process, on a
127.0.0.1 port) with the grid link's worker, and ``firegrid gridlink peer`` as a
subprocess. A grid event sent by the platform becomes a hazard in firegrid; the hazard goes
back to the platform with the platform's event id and is acknowledged; rectifying it here
reaches the platform too. Bounded: every wait has a deadline, the subprocess is killed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from firegrid.accounts.principal import system_principal
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.gridlink.worker import gridlink_worker
from firegrid.inspections import service
from tests.accounts.city import City
from tests.gridlink.conftest import ServerThread, free_port

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = condition()
            if value:
                return value
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Worker:
    """The grid link's worker in a thread of this process (as ``serve`` runs it)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.stop = asyncio.Event()
            async with gridlink_worker(self.db, self.settings) as worker:
                await worker.run(self.stop)

        self.loop.run_until_complete(main())

    def close(self) -> None:
        if self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)


@pytest.fixture
def api_url(grid_settings: Settings, db: Database) -> Iterator[str]:
    port = free_port()
    server = ServerThread(create_app(grid_settings, db), port)
    server.start()
    worker = Worker(db, grid_settings)
    worker.thread.start()
    yield f"http://127.0.0.1:{port}"
    worker.close()
    server.stop()


def test_grid_events_flow_both_ways_with_the_platform_as_a_subprocess(
    api_url: str,
    db: Database,
    city: City,
    grid_settings: Settings,
    key: str,
    peer_port: int,
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "FIREGRID_ENV": "test",
        "FIREGRID_DATABASE_URL": "sqlite://",
        "FIREGRID_GRIDLINK_PEERS": str(grid_settings.gridlink_peers),
        "FIREGRID_SECRET_KEY": grid_settings.secret_key.get_secret_value(),
        "FIREGRID_GRIDLINK_API_KEY": key,
    }
    peer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firegrid.cli",
            "gridlink",
            "peer",
            "--listen",
            f"127.0.0.1:{peer_port}",
            "--target",
            api_url,
            "--peer-id",
            "testgrid",
            "--seed",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{peer_port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/state", timeout=2).status_code == 200, "the peer")
        sent = httpx.post(
            f"{base}/send/event",
            json={
                "event_id": "GE-E2E-1",
                "category": "hazard",
                "venue_code": city.code("venue", "in"),
                "hazard_category": "blocked_exit",
                "description": "corridor blocked",
                "department": "城管",
            },
            timeout=15,
        ).json()
        (answer,) = sent["answers"]
        assert answer["status"] == 200, answer
        hazard_id = answer["body"]["id"]

        def platform_item() -> dict[str, Any] | None:
            items = httpx.get(f"{base}/state", timeout=2).json()["items"]
            item: dict[str, Any] | None = items.get(f"hazard:{hazard_id}")
            return item

        item = wait_for(platform_item, "the hazard at the platform")
        assert item["event_id"] == "GE-E2E-1"
        assert item["actions"] == ["created"]
        with db.session() as session:
            principal = system_principal("tests")
            hazard = service.get_hazard(session, principal, hazard_id)
            service.rectify_hazard(session, principal, hazard, note="corridor cleared")
        wait_for(lambda: (platform_item() or {}).get("status") == "rectified", "the rectification")
        state = httpx.get(f"{base}/state", timeout=2).json()
        assert state["invalid"] == 0
        assert state["bad_signatures"] == 0
        assert state["applied"] == 2
    finally:
        peer.kill()
        _out, err = peer.communicate(timeout=10)
    printed = _out.decode()  # the simulator prints what it got and sent
    assert '"received": "hazard:' in printed, err.decode()
    assert '"sent": "GE-E2E-1"' in printed, err.decode()
