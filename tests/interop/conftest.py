"""Fixtures of the 110 link tests: the dispatch test city, a link configuration pointing at
an in-process 110 peer simulator on a 127.0.0.1 port, and helpers to open and change
incidents and to run the delivery worker until the backlog is drained."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch import incidents, intake
from firegrid.dispatch.incident_models import Incident
from firegrid.interop.config import link_config
from firegrid.interop.peer_sim import PeerSimulator, simulator_app
from firegrid.interop.worker import link110_worker
from firegrid.links.delivery import DeliveryWorker
from firegrid.links.models import LinkOutbox
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import DCity, build_dispatch_city

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
PEER_ID = "dg110"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PeerServer:
    """The simulator served by uvicorn in a thread; stop and start again = peer down/up."""

    def __init__(self, sim: PeerSimulator, port: int) -> None:
        self.sim = sim
        self.port = port
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            simulator_app(self.sim), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the peer simulator did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
        self.server = self.thread = None


def write_peers(path: Path, port: int) -> Path:
    path.write_text(
        "link: link110\n"
        "peers:\n"
        f"  - id: {PEER_ID}\n"
        "    name: test 110 centre\n"
        f"    url: http://127.0.0.1:{port}/eido\n"
        "    secret_env: FIREGRID_TEST_LINK110_SECRET_UNSET\n"
        '    towns: ["*"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def peer_port() -> int:
    return free_port()


@pytest.fixture
def link_settings(settings: Settings, tmp_path: Path, peer_port: int) -> Settings:
    return settings.model_copy(
        update={
            "link110_peers": write_peers(tmp_path / "peers110.yaml", peer_port),
            "link_ack_timeout_s": 1.0,
            "link_retry_base_s": 0.05,
            "link_retry_max_s": 0.3,
            "link_send_timeout_s": 1.0,
            "link_poll_s": 0.02,
            "link_probe_s": 0.2,
        }
    )


@pytest.fixture
def sim(link_settings: Settings) -> PeerSimulator:
    peer = link_config(link_settings).peer(PEER_ID)
    assert peer is not None
    return PeerSimulator(peer.secret, peer_id=PEER_ID, seed=7)


@pytest.fixture
def peer(sim: PeerSimulator, peer_port: int) -> Iterator[PeerServer]:
    server = PeerServer(sim, peer_port)
    yield server
    server.stop()


@pytest.fixture
def dcity(db: Database) -> DCity:
    return build_dispatch_city(db)


def open_incident(
    db: Database, dcity: DCity, i: int, *, incident_type: str = "building_fire"
) -> int:
    """Incident ``i``: a call a day after the one before (never merged with it)."""
    taker = dcity.principal("dispatcher", "city")
    lon = 113.01 + (i % 25) * 0.011
    lat = 23.01 + (i // 25 % 8) * 0.01
    with db.session() as session:
        result = intake.take_call(
            session,
            taker,
            intake.CallData(
                lon=lon,
                lat=lat,
                caller_number=f"1380000{i:04d}",
                received_at=T0 + timedelta(days=i),
                description=f"test fire {i}",
            ),
            scope_path="/",
            incident_type=incident_type,
            level=1 + i % 3,
            auto=True,
        )
        assert result.incident is not None
        return result.incident.id


def close_incident(db: Database, dcity: DCity, incident_id: int) -> None:
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incidents.set_incident_status(
            session, dcity.principal("dispatcher", "city"), incident, "closed", cause="false alarm"
        )


def backlog(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count(LinkOutbox.id)).where(LinkOutbox.status == "pending"))
            or 0
        )


async def _drain(worker: DeliveryWorker, db: Database, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await worker.deliver_once()
        if result.produced == 0 and backlog(db) == 0:
            await worker.deliver_once()  # a last round: clears alerts
            return
        assert time.monotonic() < deadline, f"backlog not drained: {backlog(db)} left"
        if result.sent == 0:
            await asyncio.sleep(0.02)


def drain(db: Database, settings: Settings, timeout_s: float = 30.0) -> None:
    """Run the link worker until everything is acknowledged."""

    async def main() -> None:
        async with link110_worker(db, settings) as worker:
            worker._last_alert_check = float("-inf")
            await _drain(worker, db, timeout_s)
            _raised, _cleared = await asyncio.to_thread(worker.check_alerts)

    asyncio.run(main())


def run_until(
    db: Database, settings: Settings, reached: Callable[[], bool], timeout_s: float = 30.0
) -> float:
    """Run the worker until ``reached()`` (asked every 50 ms), however slow the machine is;
    return the seconds it ran. What a test then counts is bounded by what happened, not by
    how much a loaded machine managed in a fixed time."""

    async def main() -> float:
        started = time.monotonic()
        async with link110_worker(db, settings) as worker:
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            try:
                while not await asyncio.to_thread(reached):
                    assert time.monotonic() - started < timeout_s, "not reached in time"
                    assert not task.done(), "the worker stopped"
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await task
        return time.monotonic() - started

    return asyncio.run(main())
