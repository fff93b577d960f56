"""The 110 link end to end, as the demo runs it: firegrid's API (in process, on a
127.0.0.1 port) with its link worker, and ``firegrid link110 peer`` as a subprocess. A
119 incident reaches the peer and is acknowledged; the peer transfers a fire to 119; the
peer's follow-up is applied; a change on our side flows back to the peer. Bounded: every
wait has a deadline, the subprocess is killed at the end."""

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
import uvicorn
from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_api_key
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import Incident
from firegrid.interop.worker import link110_worker
from tests.dispatch.city import DCity
from tests.interop.conftest import backlog, close_incident, free_port, open_incident
from tests.interop.test_link_faults import urn

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Api:
    """firegrid's API and its link worker, each in a thread of this process."""

    def __init__(self, settings: Settings, db: Database, port: int) -> None:
        config = uvicorn.Config(
            create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.settings, self.db = settings, db
        self.worker = threading.Thread(target=self._work, daemon=True)

    def _work(self) -> None:
        async def main() -> None:
            self.stop = asyncio.Event()
            async with link110_worker(self.db, self.settings) as worker:
                await worker.run(self.stop)

        self.loop.run_until_complete(main())

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started, "the API to start", 15)
        self.worker.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.worker.join(15)
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def api(link_settings: Settings, db: Database, dcity: DCity) -> Iterator[Api]:
    server = Api(link_settings, db, free_port())
    server.start()
    yield server
    server.close()


def start_peer(
    settings: Settings, peer_port: int, api_url: str, key: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "FIREGRID_ENV": "test",
        "FIREGRID_DATABASE_URL": "sqlite://",
        "FIREGRID_LINK110_PEERS": str(settings.link110_peers),
        "FIREGRID_SECRET_KEY": settings.secret_key.get_secret_value(),
        "FIREGRID_LINK110_API_KEY": key,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firegrid.cli",
            "link110",
            "peer",
            "--listen",
            f"127.0.0.1:{peer_port}",
            "--target",
            api_url,
            "--seed",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_119_to_110_and_back_with_the_peer_as_a_subprocess(
    db: Database, dcity: DCity, link_settings: Settings, peer_port: int, api: Api
):
    with db.session() as session:
        key = create_api_key(
            session,
            system_principal("test"),
            name="110 link",
            role="integration",
            scope_code=dcity.codes["city"],
            routes=["/api/v1/link110"],
        ).secret
    api_url = f"http://127.0.0.1:{api.server.config.port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    peer = start_peer(link_settings, peer_port, api_url, key)
    try:
        with httpx.Client(base_url=peer_url, timeout=10) as client:

            def state() -> dict[str, Any]:
                return dict(client.get("/state").json())

            wait_for(lambda: client.get("/state").status_code == 200, "the peer to start")
            # 1. a 119 incident reaches the 110 centre and is acknowledged
            ours = open_incident(db, dcity, 0)
            wait_for(lambda: urn(link_settings, ours) in state()["incidents"], "the incident")
            wait_for(lambda: backlog(db) == 0, "the acknowledgement")
            assert state()["incidents"][urn(link_settings, ours)]["status"] == "created"
            # 2. the 110 centre transfers a fire to 119
            sent = client.post(
                "/send/transfer",
                json={
                    "lon": 113.15,
                    "lat": 23.07,
                    "address": "中镇人民路 8 号",
                    "notes": ["smoke from the third floor"],
                    "caller_number": "13900000000",
                    "fire_agency": f"fire119.{link_settings.city_code}.firegrid",
                },
            ).json()
            answer = sent["answers"][0]
            assert answer["status"] == 200, answer
            assert answer["body"]["result"] == "transferred"
            transferred = int(answer["body"]["incident_id"])
            with db.session() as session:
                incident = session.get(Incident, transferred)
                assert incident is not None
                assert incident.source == "transfer_110"
            # 3. its follow-up is applied once
            followed = client.post(
                "/send/followup",
                json={
                    "remote_id": sent["remote_id"],
                    "note": "two people trapped",
                    "note_id": "f1",
                },
            ).json()
            assert followed["answers"][0]["body"]["result"] == "updated"
            assert followed["answers"][0]["body"]["notes_added"] == 1
            # 4. our side changes: the follow-up flows back to 110 (and the transfer is known)
            close_incident(db, dcity, ours)
            wait_for(
                lambda: state()["incidents"][urn(link_settings, ours)]["status"] == "closed",
                "our follow-up to reach 110",
            )
            wait_for(lambda: urn(link_settings, transferred) in state()["incidents"], "transfer")
            final = state()
            assert final["applied"] == len(final["messages"])  # each message applied once
            assert all(times == 1 for times in final["messages"].values())
        with db.session() as session:
            assert len(session.scalars(select(Incident)).all()) == 2
    finally:
        peer.kill()
        peer.wait(10)
