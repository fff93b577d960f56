"""GB/T 26875.3 over TCP on 127.0.0.1: framing, errors, quarantine, confirm-after-durable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.ingest.adapters.gb26875.codec import (
    ApplicationData,
    Command,
    ComponentStatus,
    ComponentStatusFlag,
    DecodedFrame,
    Frame,
    InfoObject,
    StreamDecoder,
    TransmitterStatus,
    TransmitterStatusFlag,
    encode_frame,
)
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.events import DeviceEvent, EventKind
from firegrid.ingest.models import DeviceEventRow, IngestError, QuarantineDevice
from firegrid.ingest.service import IngestOptions, IngestService
from firegrid.ingest.simulate import register_devices
from tests.ingest.conftest import make_log, running_service

NOW = datetime(2026, 11, 25, 10, 30, 5, tzinfo=CHINA_TZ)


def frame_bytes(address: int, serial: int, *objects: InfoObject, command: int = 2) -> bytes:
    adu = ApplicationData.of(objects) if objects else None
    return encode_frame(Frame(serial, (1, 1), NOW, address, 0, Command(command), adu))


def alarm(point: int, flags: int = ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM):
    return ComponentStatus(1, 1, 42, point, ComponentStatusFlag(flags), f"三楼{point}", NOW)


class Device:
    """A transmitter on a real socket that collects replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = StreamDecoder()
        self.replies: list[Frame] = []

    @classmethod
    async def connect(cls, port: int) -> Device:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def replies_within(self, count: int, timeout: float = 5.0) -> list[Frame]:
        async def collect() -> None:
            while len(self.replies) < count:
                data = await self.reader.read(4096)
                assert data, "connection closed"
                for item in self.decoder.feed(data):
                    assert isinstance(item, DecodedFrame)
                    self.replies.append(item.frame)

        await asyncio.wait_for(collect(), timeout)
        return self.replies

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def stored(service: IngestService) -> list[DeviceEvent]:
    """Stored events, without the online/offline transitions the state tracker adds."""
    transitions = {EventKind.ONLINE, EventKind.OFFLINE}
    return [i.event for i in await service.log.read(0, 1000) if i.event.kind not in transitions]


def test_split_and_coalesced_frames_are_confirmed_after_storage(
    db: Database, log_backend: str, stream_name: str
) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)

    async def scenario() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            server = GB26875Server(service)
            await server.start()
            device = await Device.connect(server.port)
            one = frame_bytes(address, 1, alarm(1))
            # one frame split across three writes, even inside the start marker
            for part in (one[:1], one[1:20], one[20:]):
                await device.send(part)
                await asyncio.sleep(0.02)
            (reply,) = await device.replies_within(1)
            assert reply.command is Command.CONFIRM
            assert reply.serial == 1
            assert (reply.source, reply.destination) == (0, address)
            # three frames in one write, plus the start of a fourth
            many = b"".join(frame_bytes(address, s, alarm(s)) for s in (2, 3, 4))
            fifth = frame_bytes(address, 5, alarm(5))
            await device.send(many + fifth[:10])
            await device.send(fifth[10:])
            replies = await device.replies_within(5)
            assert sorted(r.serial for r in replies) == [1, 2, 3, 4, 5]
            events = await stored(service)
            assert len(events) == 5
            assert {e.kind for e in events} == {EventKind.FIRE_ALARM}
            assert events[0].occurred_at == NOW
            assert events[0].external_id == str(address)
            # a retransmitted frame is confirmed again but stored once
            await device.send(one)
            await device.replies_within(6)
            assert len(await stored(service)) == 5
            await device.close()
            await server.close()

    asyncio.run(scenario())


def test_garbage_and_bad_checksum_deny_record_and_keep_the_connection(
    db: Database, log_backend: str, stream_name: str
) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)

    async def scenario() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            server = GB26875Server(service)
            await server.start()
            device = await Device.connect(server.port)
            # an impossible length field: silence, then a good frame is still confirmed
            impossible = bytearray(frame_bytes(address, 8, alarm(8)))
            impossible[24:26] = (2000).to_bytes(2, "little")
            await device.send(bytes(impossible) + frame_bytes(address, 9, alarm(9)))
            (reply,) = await device.replies_within(1)
            assert reply.command is Command.CONFIRM
            assert reply.serial == 9
            # garbage, then a frame whose checksum is wrong: DENY with its serial
            bad = bytearray(frame_bytes(address, 7, alarm(7)))
            bad[-3] ^= 0xFF  # checksum byte
            await device.send(b"\x00garbage\x23\x23" + bytes(bad))
            replies = await device.replies_within(2)
            assert replies[1].command is Command.DENY
            assert replies[1].serial == 7
            # the connection survives
            await device.send(frame_bytes(address, 10, alarm(10)))
            replies = await device.replies_within(3)
            assert replies[2].command is Command.CONFIRM
            assert replies[2].serial == 10
            await asyncio.sleep(0.1)
            assert len(device.replies) == 3
            assert [e.component.component_address for e in await stored(service)] == [9, 10]
            await device.close()
            await server.close()
        with db.session() as session:
            errors = session.scalars(select(IngestError)).all()
            kinds = {e.kind for e in errors}
            assert {"garbage", "bad_checksum", "length_too_large"} <= kinds
            assert all(e.raw_hex for e in errors)
            checksum_row = next(e for e in errors if e.kind == "bad_checksum")
            assert checksum_row.raw_hex == bytes(bad).hex()

    asyncio.run(scenario())


def test_unknown_device_is_confirmed_and_quarantined_not_logged(
    db: Database, log_backend: str, stream_name: str
) -> None:
    register_devices(db, "gb26875", 1)

    async def scenario() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            server = GB26875Server(service)
            await server.start()
            device = await Device.connect(server.port)
            await device.send(frame_bytes(123456, 1, alarm(1)) + frame_bytes(123456, 2, alarm(2)))
            replies = await device.replies_within(2)
            assert {r.command for r in replies} == {Command.CONFIRM}
            assert await stored(service) == []
            await device.close()
            await server.close()
        with db.session() as session:
            (unknown,) = session.scalars(select(QuarantineDevice)).all()
            assert (unknown.protocol, unknown.external_id) == ("gb26875", "123456")
            assert unknown.message_count == 2
            assert unknown.first_seen <= unknown.last_seen

    asyncio.run(scenario())


def test_heartbeat_is_confirmed_but_not_a_row(db: Database) -> None:
    ref = register_devices(db, "gb26875", 1)[0]
    address = int(ref.external_id)

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service)
            await server.start()
            device = await Device.connect(server.port)
            beat = TransmitterStatus(TransmitterStatusFlag.NORMAL, NOW)
            await device.send(frame_bytes(address, 1, beat) + frame_bytes(address, 2))
            await device.replies_within(2)
            status = service.state.get(ref.id)
            assert status is not None
            assert status.online
            await device.close()
            await server.close()

    asyncio.run(scenario())
    # the only row is the device's "online" transition, no heartbeat rows
    with db.session() as session:
        kinds = session.scalars(select(DeviceEventRow.kind)).all()
    assert list(kinds) == ["online"]


class BlockingLog:
    """An event log whose append waits until the test lets it finish."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.backend = "database"
        self.release = asyncio.Event()
        self.appended = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        await self.release.wait()
        await self.inner.append_batch(events)  # type: ignore[attr-defined]
        self.appended += len(events)


def test_confirm_is_sent_only_after_the_append_returns(db: Database) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)

    async def scenario() -> None:
        blocking = BlockingLog(make_log(db, "database", ""))
        service = IngestService(db, blocking, options=IngestOptions())  # type: ignore[arg-type]
        await service.start(background=False)
        server = GB26875Server(service)
        await server.start()
        device = await Device.connect(server.port)
        await device.send(frame_bytes(address, 1, alarm(1)))
        try:
            await device.replies_within(1, timeout=0.5)
            raise AssertionError("a confirm arrived before the event was durable")
        except TimeoutError:
            pass
        assert blocking.appended == 0
        blocking.release.set()
        (reply,) = await device.replies_within(1)
        assert reply.command is Command.CONFIRM
        assert blocking.appended >= 1
        await device.close()
        await server.close()
        await service.close()

    asyncio.run(scenario())


def test_idle_connection_is_closed(db: Database) -> None:
    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service, idle_timeout_s=0.3)
            await server.start()
            device = await Device.connect(server.port)
            data = await asyncio.wait_for(device.reader.read(10), 3)
            assert data == b""  # closed by the server
            assert not server.connections
            await server.close()

    asyncio.run(scenario())


def test_received_at_is_utc(db: Database) -> None:
    ref = register_devices(db, "gb26875", 1)[0]

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service)
            await server.start()
            device = await Device.connect(server.port)
            await device.send(frame_bytes(int(ref.external_id), 1, alarm(3)))
            await device.replies_within(1)
            (event,) = [e for e in await stored(service) if e.kind == EventKind.FIRE_ALARM]
            assert event.received_at.utcoffset() is not None
            assert abs((event.received_at - utcnow()).total_seconds()) < 30
            assert event.device_id == ref.id
            assert event.venue_id == ref.venue_id
            await device.close()
            await server.close()

    asyncio.run(scenario())


def test_fast_reply_encoding_matches_the_codec() -> None:
    from firegrid.ingest.adapters.gb26875.codec import confirm, deny
    from firegrid.ingest.adapters.gb26875.server import reply_bytes

    frame = Frame(65535, (1, 7), NOW, 0xFFFF_FFFF_FFFE, 3, Command.SEND_DATA, None)
    now = utcnow()
    for build, command in ((confirm, Command.CONFIRM), (deny, Command.DENY)):
        assert reply_bytes(frame, command, now, 123456) == encode_frame(build(frame, now, 123456))
