"""The JetStream event log is bound to its database: a stream of another deployment, or an
unstamped stream with events this database never read, is refused before anything is
replayed; a fresh or empty stream is stamped; the stream follows the configured replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from firegrid.core.db import Database
from firegrid.core.deployment import deployment_id
from firegrid.core.migrate import upgrade
from firegrid.core.settings import nats_servers
from firegrid.ingest.log_jetstream import (
    DEPLOYMENT_MARK,
    DeploymentMismatch,
    JetStreamEventLog,
)
from tests.conftest import make_database_url, service_missing
from tests.ingest.conftest import NATS_URL, reachable
from tests.ingest.conftest import stream_name as stream_name  # the fixture
from tests.ingest.test_eventlog import event

pytestmark = pytest.mark.nats


@pytest.fixture(autouse=True)
def nats_up() -> None:
    if not reachable("127.0.0.1", 4222):
        service_missing("NATS JetStream at 127.0.0.1:4222")


@pytest.fixture
def other_db(tmp_path: Path) -> Iterator[Database]:
    place = tmp_path / "other"
    place.mkdir()
    for url in make_database_url(place):
        upgrade(url)
        database = Database(url)
        yield database
        database.dispose()


async def _description(stream: str) -> str | None:
    nc = await nats.connect(NATS_URL)
    try:
        info = await nc.jetstream().stream_info(stream)
        return info.config.description
    finally:
        await nc.close()


async def _append(db: Database, stream: str, n: int) -> None:
    log = JetStreamEventLog(NATS_URL, db, stream=stream)
    await log.start()
    try:
        await log.append_batch([event(i) for i in range(1, n + 1)])
    finally:
        await log.close()


def test_a_new_stream_carries_the_database_deployment(db: Database, stream_name: str) -> None:
    asyncio.run(_append(db, stream_name, 2))
    assert asyncio.run(_description(stream_name)) == f"{DEPLOYMENT_MARK}{deployment_id(db)}"


def test_another_deployments_stream_is_refused_before_any_read(
    db: Database, other_db: Database, stream_name: str
) -> None:
    asyncio.run(_append(db, stream_name, 3))
    assert deployment_id(db) != deployment_id(other_db)

    async def open_other() -> None:
        log = JetStreamEventLog(NATS_URL, other_db, stream=stream_name)
        try:
            await log.start()
        finally:
            await log.close()

    with pytest.raises(DeploymentMismatch, match=deployment_id(db)):
        asyncio.run(open_other())


def test_an_unstamped_stream_with_events_is_refused_and_an_empty_one_is_stamped(
    db: Database, stream_name: str
) -> None:
    async def legacy_stream(with_events: bool) -> None:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        await js.add_stream(name=stream_name, subjects=[f"{stream_name.lower()}.events.>"])
        if with_events:
            await js.publish(f"{stream_name.lower()}.events.gb26875", b"old")
        await nc.close()

    async def start() -> None:
        log = JetStreamEventLog(NATS_URL, db, stream=stream_name)
        try:
            await log.start()
        finally:
            await log.close()

    asyncio.run(legacy_stream(with_events=True))
    with pytest.raises(DeploymentMismatch, match="never read a stream"):
        asyncio.run(start())

    async def drop() -> None:
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().delete_stream(stream_name)
        await nc.close()

    asyncio.run(drop())
    asyncio.run(legacy_stream(with_events=False))
    asyncio.run(start())
    assert asyncio.run(_description(stream_name)) == f"{DEPLOYMENT_MARK}{deployment_id(db)}"


def test_a_cluster_url_lists_every_server() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
