"""Helpers for the hostile ingest tests (a GB/T 26875.3 device on a real socket, frames,
MQTT publishing); no fixtures shared with other test packages."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from sqlalchemy import select

from firegrid.core.clock import CHINA_TZ
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
    encode_frame,
)
from firegrid.ingest.models import IngestError

NOW = datetime(2026, 11, 25, 10, 30, 5, tzinfo=CHINA_TZ)


def frame_bytes(address: int, serial: int, *objects: InfoObject) -> bytes:
    adu = ApplicationData.of(objects) if objects else None
    return encode_frame(Frame(serial, (1, 1), NOW, address, 0, Command.SEND_DATA, adu))


def fire(point: int) -> ComponentStatus:
    flags = ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM
    return ComponentStatus(1, 1, 42, point, flags, f"三楼{point}", NOW)


class TcpDevice:
    """A transmitter on a real socket that collects the centre's replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = StreamDecoder()
        self.replies: list[Frame] = []

    @classmethod
    async def connect(cls, port: int) -> TcpDevice:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    @property
    def local_address(self) -> str:
        host, port = self.writer.get_extra_info("sockname")[:2]
        return f"{host}:{port}"

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def replies_within(self, count: int, timeout: float = 20.0) -> list[Frame]:
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
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def ingest_errors(db: Database, kind: str | None = None) -> list[IngestError]:
    with db.session() as session:
        query = select(IngestError).order_by(IngestError.id)
        if kind is not None:
            query = query.where(IngestError.kind == kind)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows
