"""GB/T 26875.3 under hostile input: resynchronisation in linear time, a budget of bad input
per connection, bounded buffers, and other devices' confirms unaffected (issue #24)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from firegrid.core.db import Database
from firegrid.ingest.adapters.gb26875 import stream
from firegrid.ingest.adapters.gb26875.codec import (
    Command,
    DecodedFrame,
    FrameError,
    FrameErrorKind,
    StreamDecoder,
)
from firegrid.ingest.adapters.gb26875.limits import (
    BadInputBudget,
    ConnectionLimits,
    ReadAllowance,
)
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.events import EventKind
from firegrid.ingest.simulate import register_devices
from tests.hostile.ingest_fixtures import TcpDevice, fire, frame_bytes, ingest_errors
from tests.ingest.conftest import running_service

# -- the decoder's work is linear (counted, not timed) ---------------------------------------


@pytest.fixture
def frame_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the decoder's full frame checks (each costs up to a frame's bytes)."""
    calls = [0]
    real = stream._valid_frame_at

    def counted(buf: bytearray, start: int, end: int) -> bool:
        calls[0] += 1
        return real(buf, start, end)

    monkeypatch.setattr(stream, "_valid_frame_at", counted)
    return calls


def test_a_flood_of_at_signs_is_skipped_in_one_pass(frame_checks: list[int]) -> None:
    decoder = StreamDecoder()
    flood = b"@" * 4096
    for _ in range(256):  # 1 MiB
        decoder.feed(flood)
        assert decoder.pending_bytes <= stream.MAX_HELD_BYTES
    # a few checks per read at the end of the run, not several per byte
    assert frame_checks[0] <= 256 * 20  # the old decoder: ~5 per byte, 5 million
    assert decoder.errors == 1
    assert decoder.bytes_discarded + decoder.pending_bytes == 256 * 4096
    good = frame_bytes(7, 1, fire(1))
    events = decoder.feed(good)
    assert isinstance(events[-1], DecodedFrame)


def test_bytes_behind_an_incomplete_frame_are_not_rescanned(frame_checks: list[int]) -> None:
    """A plausible header (length 1000) then '@' one byte per read: each read looks at the
    new byte, not at the whole held frame again."""
    head = bytearray(frame_bytes(7, 1, fire(1))[:27])
    head[24:26] = (1000).to_bytes(2, "little")
    decoder = StreamDecoder()
    decoder.feed(bytes(head))
    for _ in range(1000):
        assert decoder.feed(b"@") == []
    assert frame_checks[0] <= 2000  # the old rescans did ~500,000
    assert decoder.pending_bytes <= stream.MAX_HELD_BYTES


def test_periodic_start_markers_resync_to_the_next_plausible_frame(
    frame_checks: list[int],
) -> None:
    decoder = StreamDecoder()
    events = []
    for _ in range(64):
        events += decoder.feed(b"@@@\x07" * 1024)
    good = frame_bytes(7, 2, fire(2))
    events += decoder.feed(good)
    assert frame_checks[0] <= 64 * 16
    errors = [e.kind for e in events if isinstance(e, FrameError)]
    assert errors[0] is FrameErrorKind.LENGTH_TOO_LARGE
    assert len(errors) <= 2  # + the debris of the last marker, cut short by the good frame
    assert isinstance(events[-1], DecodedFrame)
    assert events[-1].raw == good


def test_budget_and_allowance_are_leaky_buckets() -> None:
    limits = ConnectionLimits(max_bad_bytes=100, bad_bytes_per_s=10, max_bad_frames=3)
    budget = BadInputBudget(limits, 0.0)
    assert budget.charge(90, 1, 0.0) is None
    assert budget.charge(9, 1, 1.0) is None  # 10 bytes leaked meanwhile
    reason = budget.charge(30, 0, 1.0)
    assert reason is not None
    assert "100 bytes" in reason
    frames = BadInputBudget(limits, 0.0)
    assert [frames.charge(0, 1, 0.0) for _ in range(3)] == [None, None, None]
    assert "3 bad frames" in (frames.charge(0, 1, 0.0) or "")
    reads = ReadAllowance(ConnectionLimits(read_bytes_per_s=1000, read_burst_bytes=500), 0.0)
    assert reads.take(500, 0.0) == 0.0
    assert reads.take(250, 0.0) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="max_bad_bytes"):
        ConnectionLimits(max_bad_bytes=0)


# -- over real TCP -------------------------------------------------------------------------------


async def _closed_by_peer(device: TcpDevice, timeout: float) -> bool:
    """Whether the server closes ``device``'s connection within ``timeout`` s."""

    async def drain() -> None:
        while await device.reader.read(65536):
            pass

    try:
        await asyncio.wait_for(drain(), timeout)
    except (ConnectionError, OSError):
        return True
    except TimeoutError:
        return False
    return True


def test_at_flood_on_one_connection_is_cut_off_and_other_devices_are_confirmed(
    db: Database,
) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service)
            await server.start()
            flooder = await TcpDevice.connect(server.port)
            probe = await TcpDevice.connect(server.port)
            flooder_peer = flooder.local_address

            async def flood() -> int:
                sent = 0
                with contextlib.suppress(ConnectionError, OSError):
                    while sent < 1024 * 1024:
                        await flooder.send(b"@" * 16384)
                        sent += 16384
                        await asyncio.sleep(0)
                return sent

            flooding = asyncio.create_task(flood())
            for serial in range(1, 21):
                await probe.send(frame_bytes(address, serial, fire(serial)))
                await probe.replies_within(serial)
            assert await _closed_by_peer(flooder, 15.0)
            sent = await flooding
            assert [r.command for r in probe.replies] == [Command.CONFIRM] * 20
            assert [r.serial for r in probe.replies] == list(range(1, 21))
            assert sent >= ConnectionLimits().max_bad_bytes
            assert server.counters["closed_bad_input"] == 1
            # the probe is still connected and served
            await probe.send(frame_bytes(address, 21, fire(21)))
            assert (await probe.replies_within(21))[-1].serial == 21
            await probe.close()
            await flooder.close()
            await server.close()
            events = [i.event for i in await service.log.read(0, 1000)]
            fires = [e for e in events if e.kind is EventKind.FIRE_ALARM]
            assert sorted(e.component.component_address or 0 for e in fires) == list(range(1, 22))
        (closed,) = ingest_errors(db, "connection_closed")
        assert closed.peer == flooder_peer
        assert closed.protocol == "gb26875"
        assert "bad input budget exhausted" in closed.message
        assert "bad bytes" in closed.message
        assert closed.raw_hex.startswith("4040")

    asyncio.run(scenario())


def test_a_noisy_device_keeps_its_connection_a_stream_of_bad_frames_does_not(
    db: Database,
) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)
    limits = ConnectionLimits(max_bad_frames=8)

    def corrupt(serial: int) -> bytes:
        bad = bytearray(frame_bytes(address, serial, fire(serial)))
        bad[-3] ^= 0xFF
        return bytes(bad)

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service, limits=limits)
            await server.start()
            noisy = await TcpDevice.connect(server.port)
            for serial in range(1, 9):  # a bad frame, its retransmission, 4 times
                await noisy.send(corrupt(serial) + frame_bytes(address, serial, fire(serial)))
                await noisy.replies_within(2 * serial)
            assert [r.command for r in noisy.replies] == [Command.DENY, Command.CONFIRM] * 8
            hostile = await TcpDevice.connect(server.port)
            await hostile.send(b"".join(corrupt(100 + n) for n in range(20)))
            assert await _closed_by_peer(hostile, 15.0)
            # the noisy device was never cut off
            await noisy.send(frame_bytes(address, 50, fire(50)))
            assert (await noisy.replies_within(17))[-1].serial == 50
            assert server.counters["closed_bad_input"] == 1
            await noisy.close()
            await hostile.close()
            await server.close()
        (closed,) = ingest_errors(db, "connection_closed")
        assert "more than 8 bad frames" in closed.message
        # the noisy device's 8, and no more than the budget of the hostile peer's 20
        assert len(ingest_errors(db, "bad_checksum")) == 8 + 8

    asyncio.run(scenario())


def test_a_connection_over_its_read_rate_is_paused_not_dropped(db: Database) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)
    limits = ConnectionLimits(read_bytes_per_s=40_000, read_burst_bytes=4096)

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service, limits=limits)
            await server.start()
            device = await TcpDevice.connect(server.port)
            frames = [frame_bytes(address, n, fire(n)) for n in range(1, 301)]  # ~23 KB
            await device.send(b"".join(frames))
            replies = await device.replies_within(300, timeout=30.0)
            assert sorted(r.serial for r in replies) == list(range(1, 301))
            assert server.counters["read_pauses"] >= 1
            assert server.counters["closed_bad_input"] == 0
            await device.close()
            await server.close()

    asyncio.run(scenario())


def test_a_peer_that_keeps_reconnecting_is_recorded_once_and_summed_up(db: Database) -> None:
    """Each reconnection of a flooding host is cut off too, but only the first is written
    on its own: the rest are summed up in one record (no durable write per connection)."""

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service)
            await server.start()
            for _ in range(5):
                flooder = await TcpDevice.connect(server.port)
                with contextlib.suppress(ConnectionError, OSError):
                    for _ in range(16):
                        await flooder.send(b"@" * 8192)
                assert await _closed_by_peer(flooder, 15.0)
                await flooder.close()
            assert server.counters["closed_bad_input"] == 5
            await server.close()

    asyncio.run(scenario())
    first, summary = ingest_errors(db, "connection_closed")
    assert "bad input budget exhausted" in first.message
    assert summary.peer == "127.0.0.1"
    assert summary.message.startswith("4 more connections from 127.0.0.1 closed for bad input")
    assert len(ingest_errors(db, "length_too_large")) == 1  # the first connection's only
