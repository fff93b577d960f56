"""Fixtures of the grid-link tests: the two-town city (``in`` / ``out``), a grid link whose
peer serves the ``in`` town only and points at an in-process grid-platform simulator on a
127.0.0.1 port, an API key of the link, and helpers to sign grid events and to run the
delivery worker until its backlog is drained. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_api_key
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.gridlink.config import link_config
from firegrid.gridlink.peer_sim import GridPlatformSimulator, simulator_app
from firegrid.gridlink.worker import gridlink_worker
from firegrid.links import signing
from firegrid.links.delivery import DeliveryWorker
from firegrid.links.models import LinkOutbox
from tests.accounts.city import City, build_city, use_cheap_hasher

PEER_ID = "testgrid"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """An ASGI app served by uvicorn in a thread of this process."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


@pytest.fixture
def peer_port() -> int:
    return free_port()


@pytest.fixture
def grid_settings(settings: Settings, tmp_path: Path, peer_port: int, city: City) -> Settings:
    peers = tmp_path / "gridpeers.yaml"
    peers.write_text(
        "link: gridlink\n"
        "peers:\n"
        f"  - id: {PEER_ID}\n"
        "    name: test grid platform\n"
        f"    url: http://127.0.0.1:{peer_port}/grid\n"
        "    secret_env: FIREGRID_TEST_GRIDLINK_SECRET_UNSET\n"
        f'    towns: ["{city.code("town", "in")}"]\n',
        encoding="utf-8",
    )
    return settings.model_copy(
        update={
            "gridlink_peers": peers,
            "link_ack_timeout_s": 5.0,
            "link_retry_base_s": 0.05,
            "link_retry_max_s": 0.2,
            "link_send_timeout_s": 2.0,
            "link_poll_s": 0.02,
            "link_probe_s": 0.1,
        }
    )


@pytest.fixture
def secret(grid_settings: Settings) -> bytes:
    peer = link_config(grid_settings).peer(PEER_ID)
    assert peer is not None
    return peer.secret


@pytest.fixture
def sim(secret: bytes) -> GridPlatformSimulator:
    return GridPlatformSimulator(secret, peer_id=PEER_ID, seed=3)


@pytest.fixture
def platform(sim: GridPlatformSimulator, peer_port: int) -> Iterator[ServerThread]:
    server = ServerThread(simulator_app(sim), peer_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(grid_settings: Settings, db: Database) -> FastAPI:
    return create_app(grid_settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def link_key(db: Database, city: City, side: str = "in") -> str:
    """An API key of the grid link (integration role) scoped to the town of ``side``."""
    with db.session() as session:
        return create_api_key(
            session,
            system_principal("test"),
            name=f"grid link {side} {uuid.uuid4().hex[:4]}",
            role="integration",
            scope_code=city.code("town", side),
            routes=["/api/v1/gridlink"],
        ).secret


@pytest.fixture
def key(db: Database, city: City) -> str:
    return link_key(db, city)


def hazard_event(city: City, event_id: str, updated_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "schema": "firegrid.gridlink/1",
        "type": "grid_event",
        "event_id": event_id,
        "category": "hazard",
        "status": "open",
        "updated_at": updated_at,
        "department": "城管",
        "reporter": "李四",
        "venue_code": city.code("venue", "in"),
        "hazard_category": "blocked_exit",
        "severity": "general",
        "description": "fire exit blocked by goods",
        **fields,
    }


def post_event(
    client: TestClient,
    secret: bytes,
    key: str,
    document: dict[str, Any],
    *,
    message_id: str | None = None,
    peer: str = PEER_ID,
) -> Any:
    body = json.dumps(document, ensure_ascii=False).encode()
    headers = signing.signed_headers(secret, peer, message_id or uuid.uuid4().hex, body)
    headers["X-API-Key"] = key
    return client.post("/api/v1/gridlink/events", content=body, headers=headers)


def pending(db: Database, link: str = "gridlink") -> int:
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count(LinkOutbox.id)).where(
                    LinkOutbox.link == link, LinkOutbox.status == "pending"
                )
            )
            or 0
        )


def drain(worker: DeliveryWorker, db: Database, link: str, timeout_s: float = 20.0) -> None:
    """Run delivery rounds until nothing is produced and nothing is pending."""

    async def main() -> None:
        deadline = time.monotonic() + timeout_s
        async with worker:
            while True:
                result = await worker.deliver_once()
                if result.produced == 0 and result.sent == 0 and pending(db, link) == 0:
                    return
                assert time.monotonic() < deadline, f"the {link} backlog did not drain"
                await asyncio.sleep(0.02)

    asyncio.run(main())


def run_gridlink(db: Database, settings: Settings) -> None:
    drain(gridlink_worker(db, settings), db, "gridlink")
