"""The GB/T 26875.3 listener's micro-batches: reads from many connections arriving within
``linger_s`` are stored with one append (the append's cost is mostly per batch), a full
batch (``batch_frames``) is taken at once, and nothing is confirmed before its append."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from firegrid.devices.public import DeviceRef
from firegrid.ingest.adapters.gb26875.server import GB26875Server, _Connection
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.service import IngestService
from tests.ingest.test_tcp import alarm, frame_bytes

ADDRESS = 810_000_000_000


class CountingLog:
    """An event log that keeps each append's events (nothing durable is needed here)."""

    backend = "test"

    def __init__(self) -> None:
        self.appends: list[int] = []
        self.release = asyncio.Event()
        self.release.set()

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        await self.release.wait()
        self.appends.append(len(events))


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _server(log: CountingLog, panels: int, **options: Any) -> tuple[GB26875Server, list[Any]]:
    service = IngestService(None, log)  # type: ignore[arg-type]  # no database is touched
    for n in range(panels):
        service.registry.add(DeviceRef(n + 1, str(ADDRESS + n), "gb26875", n + 1, "/810000/"))
    server = GB26875Server(service, **options)
    connections = []
    for _ in range(panels):
        connection = _Connection(server)
        transport = Transport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        connections.append((connection, transport))
    return server, connections


def _read_one_frame_each(connections: list[Any], serial: int) -> None:
    for n, (connection, _) in enumerate(connections):
        connection.data_received(frame_bytes(ADDRESS + n, serial, alarm(n + 1)))


async def _until(predicate: Any, timeout_s: float = 10.0) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(wait(), timeout_s)


def test_reads_within_the_linger_are_one_append() -> None:
    async def scenario() -> None:
        log = CountingLog()
        server, connections = _server(log, 20, linger_s=0.05, batch_frames=1000)
        _read_one_frame_each(connections[:10], 1)
        await asyncio.sleep(0.01)  # within the linger: the next reads join the same batch
        _read_one_frame_each(connections[10:], 1)
        assert log.appends == []
        await _until(lambda: all(t.written for _, t in connections))
        assert server.counters["batches"] == 1
        assert len(log.appends) == 1
        assert all(len(t.written) == 1 for _, t in connections)
        await server.close()

    asyncio.run(scenario())


def test_a_full_batch_is_taken_at_once_and_confirmed_only_after_its_append() -> None:
    async def scenario() -> None:
        log = CountingLog()
        log.release.clear()  # appends wait
        server, connections = _server(log, 20, linger_s=60.0, batch_frames=5, max_flushers=2)
        _read_one_frame_each(connections, 1)
        await _until(lambda: server.counters["batches"] == 2)  # two flushers, at once
        await asyncio.sleep(0.01)
        assert all(t.written == [] for _, t in connections)  # not before the appends
        log.release.set()
        # the first flusher to finish takes the 10 frames waiting (two full batches' worth:
        # due), without the linger
        await _until(lambda: all(t.written for _, t in connections), timeout_s=5.0)
        assert server.counters["batches"] == 3
        assert len(log.appends) == 3
        await server.close()

    asyncio.run(scenario())


def test_what_waits_at_close_is_stored_and_answered() -> None:
    async def scenario() -> None:
        log = CountingLog()
        server, connections = _server(log, 3, linger_s=60.0, batch_frames=1000)
        _read_one_frame_each(connections, 1)
        await server.close()
        assert server.counters["confirms"] == 3
        assert len(log.appends) == 1

    asyncio.run(scenario())
