"""Helpers for the hostile ingest tests (a GB/T 26875.3 device on a real socket, frames,
MQTT publishing); no fixtures shared with other test packages."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiomqtt
from sqlalchemy import select

from firegrid.core.clock import CHINA_TZ
from firegrid.core.db import Database
from firegrid.ingest.adapters.gb26875.codec import (
    ApplicationData,
    Command,
    ComponentStatus,
    ComponentStatusFlag,
    Frame,
    InfoObject,
    encode_frame,
)
from firegrid.ingest.adapters.http.codec import signature
from firegrid.ingest.models import IngestError
from tests.ingest.test_tcp import Device

NOW = datetime(2026, 11, 25, 10, 30, 5, tzinfo=CHINA_TZ)


def frame_bytes(address: int, serial: int, *objects: InfoObject) -> bytes:
    adu = ApplicationData.of(objects) if objects else None
    return encode_frame(Frame(serial, (1, 1), NOW, address, 0, Command.SEND_DATA, adu))


def fire(point: int) -> ComponentStatus:
    flags = ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM
    return ComponentStatus(1, 1, 42, point, flags, f"三楼{point}", NOW)


class TcpDevice(Device):
    """The ingest tests' transmitter (tests/ingest/test_tcp.py), with its local address, a
    longer wait for replies on a loaded machine, and a close that tolerates a connection the
    server already cut."""

    @property
    def local_address(self) -> str:
        host, port = self.writer.get_extra_info("sockname")[:2]
        return f"{host}:{port}"

    async def replies_within(self, count: int, timeout: float = 20.0) -> list[Frame]:
        return await super().replies_within(count, timeout)

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


# -- MQTT and HTTP push ------------------------------------------------------------------------


def native_event(n: int, kind: str = "fire_alarm", device: str | None = None) -> dict[str, Any]:
    """A native-schema event (vendor ``firegrid``)."""
    event: dict[str, Any] = {
        "id": f"h-{n}",
        "time": "2026-11-25T10:30:05+08:00",
        "kind": kind,
        "component": {"description": "三楼走廊", "loop": 1, "point": n},
    }
    if device is not None:
        event["device"] = device
    return event


def nested(depth: int) -> bytes:
    """JSON nesting ``depth`` lists: the payload that stalled MQTT ingest."""
    return b"[" * depth + b"]" * depth


async def publish(topic: str, *payloads: bytes) -> None:
    """Publish at QoS 1 from a fresh client (waits for each PUBACK from the broker)."""
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"h-{uuid.uuid4().hex[:8]}") as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


async def forget_session(client_id: str) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=client_id, clean_session=True):
        pass


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` s; whether it became true."""

    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        return False
    return True


def signed_headers(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": "application/json",
        "X-Firegrid-Timestamp": timestamp,
        "X-Firegrid-Signature": signature(secret, timestamp, body),
    }
