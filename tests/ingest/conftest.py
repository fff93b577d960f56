"""Helpers for ingest tests: an ingest service on either event log backend.

``log_backend`` is parametrised over the embedded database log and NATS JetStream; the
JetStream variant uses a stream of its own (deleted afterwards) and skips locally (fails in
CI) when NATS is not reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from firegrid.core.db import Database
from firegrid.ingest.log import EventLog
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestOptions, IngestService
from tests.conftest import service_missing

NATS_URL = "nats://127.0.0.1:4222"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["database", "jetstream"])
def log_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "jetstream" and not reachable("127.0.0.1", 4222):
        service_missing("NATS JetStream at 127.0.0.1:4222")
    return backend


@pytest.fixture
def stream_name() -> Iterator[str]:
    name = f"FG_TEST_{uuid.uuid4().hex[:10].upper()}"
    yield name
    if reachable("127.0.0.1", 4222):
        asyncio.run(_delete_stream(name))


async def _delete_stream(name: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL, connect_timeout=2)
    with contextlib.suppress(Exception):  # the test may never have created it
        await nc.jetstream().delete_stream(name)
    await nc.close()


def make_log(db: Database, backend: str, stream: str) -> EventLog:
    if backend == "jetstream":
        from firegrid.ingest.log_jetstream import JetStreamEventLog

        return JetStreamEventLog(NATS_URL, db, stream=stream)
    return DatabaseEventLog(db)


@asynccontextmanager
async def running_service(
    db: Database, backend: str, stream: str, **options: Any
) -> AsyncIterator[IngestService]:
    service = IngestService(db, make_log(db, backend, stream), options=IngestOptions(**options))
    await service.start(background=False)
    try:
        yield service
    finally:
        await service.close()
