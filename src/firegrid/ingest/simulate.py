"""Device simulator: drives registered devices over the real protocols.

``firegrid simulate devices`` picks ``count`` devices of the chosen protocol from the
database (``--register`` creates simulated ones first) and sends a realistic mix for
``duration`` seconds at ``rate`` messages per second in total:

- heartbeats (transmitter status "normal"), component faults and their clearing, analog
  values, fire alarms (``fire_ratio``) and, now and then, a storm (one message from every
  device at once, as in a power cut);
- GB/T 26875.3: one real TCP client per device; every frame waits for its CONFIRM, is
  retransmitted (same bytes) after ``retransmit_s`` and again after a reconnect; the
  centre's downstream commands are answered (:mod:`firegrid.ingest.simulate_downlink`: reads
  answered, controls confirmed, check posts answered by a simulated operator after
  ``operator_delay_s``, or not at all for ``1 - operator_answer_ratio`` of them);
- MQTT: QoS 1 publishes through the broker (confirmed = broker PUBACK);
- HTTP push: signed batches to ``/api/v1/ingest/push/{integration}`` (confirmed = 2xx).

With ``numbered=True`` every message is a component status whose component address is a
per-device sequence number (the no-loss test checks each confirmed number is stored once).

Stats (JSON): sent, confirmed, retransmits, errors, p50/p99 confirm latency in ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import msgspec
from sqlalchemy import func, insert, select

from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device, DeviceKind, DeviceProtocol
from firegrid.ingest.adapters.gb26875.codec import (
    AnalogValue,
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
from firegrid.ingest.models import IngestIntegration
from firegrid.ingest.simulate_downlink import DownlinkResponder
from firegrid.places.public import Jurisdiction, Venue

SIM_JURISDICTION = "990000"
SIM_VENUE = "SIM-VENUE-0001"
GB_ADDRESS_BASE = 7_000_000_000


@dataclass
class SimOptions:
    """What to simulate."""

    target: str
    protocol: str = "gb26875"
    count: int = 10
    rate: float = 100.0
    duration_s: float = 10.0
    fire_ratio: float = 0.01
    heartbeat_ratio: float = 0.3
    numbered: bool = False
    retransmit_s: float = 3.0
    drain_s: float = 15.0
    window: int = 64
    seed: int = 7
    integration: str = "simulator"
    http_batch: int = 50
    storm_every_s: float = 0.0
    #: downstream commands: share of check posts an operator answers, and after how long
    operator_answer_ratio: float = 0.9
    operator_delay_s: float = 1.0
    #: When > 0: offer exactly this many messages (paced at ``rate``) whatever the time they
    #: take; ``duration_s`` is then only an upper bound.
    total: int = 0


@dataclass
class SimStats:
    """What happened (printed as JSON)."""

    protocol: str
    devices: int
    sent: int = 0
    confirmed: int = 0
    retransmits: int = 0
    errors: int = 0
    reconnects: int = 0
    backpressured: int = 0
    unconfirmed: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    confirmed_numbers: dict[str, list[int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies_ms")
        data.pop("confirmed_numbers")
        lat = sorted(self.latencies_ms)
        data["confirm_p50_ms"] = round(_quantile(lat, 0.50), 3)
        data["confirm_p99_ms"] = round(_quantile(lat, 0.99), 3)
        data["confirm_mean_ms"] = round(statistics.fmean(lat), 3) if lat else 0.0
        data["confirmed_per_s"] = round(self.confirmed / self.elapsed_s, 1) if self.elapsed_s else 0
        return data


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


# ---------------------------------------------------------------------------------------------
# Registering simulated devices


def register_devices(db: Database, protocol: str, count: int) -> list[Device]:
    """Make sure ``count`` simulated devices of ``protocol`` exist; return ``count`` devices."""
    if protocol not in {p.value for p in DeviceProtocol}:
        raise ValidationFailed(
            f"unknown protocol {protocol!r}",
            {"protocol": protocol},
            text=TextCode.VALIDATION_UNKNOWN,
            params={"field": "protocol", "value": protocol},
        )
    with db.session() as session:
        venue = session.scalars(select(Venue).where(Venue.code == SIM_VENUE)).first()
        if venue is None:
            city = Jurisdiction(
                code=SIM_JURISDICTION,
                level="city",
                path=f"/{SIM_JURISDICTION}/",
                name_zh="模拟市",
                name_en="Simulated city",
                center_lon=113.75,
                center_lat=23.02,
            )
            session.add(city)
            session.flush()
            venue = Venue(
                code=SIM_VENUE,
                name="模拟单位",
                jurisdiction_id=city.id,
                category="other",
                lon=113.75,
                lat=23.02,
                jurisdiction_path=city.path,
            )
            session.add(venue)
            session.flush()
        have = session.scalar(
            select(func.count())
            .select_from(Device)
            .where(Device.protocol == protocol, Device.code.like(f"SIM-{protocol}-%"))
        )
        kind = DeviceKind.TRANSMITTER if protocol == "gb26875" else DeviceKind.SMOKE_ALARM
        rows = [
            {
                "code": f"SIM-{protocol}-{n:07d}",
                "kind": str(kind),
                "protocol": protocol,
                "external_id": sim_external_id(protocol, n),
                "venue_id": venue.id,
                "jurisdiction_path": venue.jurisdiction_path,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for n in range(int(have or 0), count)
        ]
        if rows:
            session.execute(insert(Device), rows)
    return load_devices(db, protocol, count)


def sim_external_id(protocol: str, n: int) -> str:
    if protocol == "gb26875":
        return str(GB_ADDRESS_BASE + n)
    return f"sim-{protocol}-{n:07d}"


def load_devices(db: Database, protocol: str, count: int) -> list[Device]:
    """``count`` registered devices of ``protocol`` (simulated ones first)."""
    with db.session() as session:
        devices = list(
            session.scalars(
                select(Device)
                .where(Device.protocol == protocol, Device.deleted_at.is_(None))
                .order_by(Device.code.like("SIM-%").desc(), Device.id)
                .limit(count)
            ).all()
        )
    if protocol == "gb26875":
        devices = [d for d in devices if d.external_id.isdigit()]
    return devices


def ensure_integration(db: Database, name: str, vendor: str = "firegrid") -> str:
    """The HMAC secret of integration ``name``, generating one if it does not exist."""
    with db.session() as session:
        row = session.scalars(
            select(IngestIntegration).where(IngestIntegration.name == name)
        ).first()
        if row is None:
            row = IngestIntegration(name=name, vendor=vendor, secret=secrets.token_hex(32))
            session.add(row)
        return row.secret


# ---------------------------------------------------------------------------------------------
# The message mix


class Mix:
    """Chooses what a device sends next."""

    def __init__(self, options: SimOptions, rng: random.Random) -> None:
        self.options = options
        self.rng = rng

    def pick(self) -> str:
        roll = self.rng.random()
        o = self.options
        if roll < o.fire_ratio:
            return "fire_alarm"
        roll -= o.fire_ratio
        if roll < o.heartbeat_ratio:
            return "heartbeat"
        return self.rng.choice(("fault", "fault_cleared", "analog", "fault", "analog"))


_GB_STATUS = {
    "fire_alarm": ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM,
    "fault": ComponentStatusFlag.NORMAL | ComponentStatusFlag.FAULT,
    "fault_cleared": ComponentStatusFlag.NORMAL,
}


def gb_object(kind: str, number: int, now: datetime, rng: random.Random) -> InfoObject:
    """One GB information object for ``kind`` (``number`` makes it unique)."""
    if kind == "heartbeat":
        return TransmitterStatus(TransmitterStatusFlag.NORMAL, now)
    if kind == "analog":
        return AnalogValue(1, 1, 91, number, 4, rng.randint(2, 12), now)
    return ComponentStatus(1, 1, 42, number, _GB_STATUS[kind], f"点位{number % 1000}", now)


# ---------------------------------------------------------------------------------------------
# GB/T 26875.3 client


class GBClient:
    """A transmitter: one TCP connection, confirms awaited, retransmission on timeout."""

    def __init__(
        self,
        host: str,
        port: int,
        address: int,
        stats: SimStats,
        *,
        retransmit_s: float,
        window: int,
        responder: DownlinkResponder | None = None,
    ) -> None:
        self.responder = responder
        self._later: set[asyncio.Task[None]] = set()
        self.host = host
        self.port = port
        self.address = address
        self.stats = stats
        self.retransmit_s = retransmit_s
        self.window = asyncio.Semaphore(window)
        self.serial = 0
        self.pending: dict[int, tuple[bytes, float, int | None]] = {}
        self.writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.confirmed_numbers: list[int] = []

    async def connect(self, pause_s: float = 0.0) -> None:
        delay = 0.05
        await asyncio.sleep(pause_s)
        while not self._closing:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            self.writer = writer
            self._reader_task = asyncio.get_running_loop().create_task(self._read(reader))
            self._connected.set()
            for serial, (data, _, number) in list(self.pending.items()):
                self.pending[serial] = (data, time.perf_counter(), number)
                writer.write(data)
                self.stats.retransmits += 1
            return

    async def _read(self, reader: asyncio.StreamReader) -> None:
        decoder = StreamDecoder()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                now = time.perf_counter()
                for item in decoder.feed(data):
                    if isinstance(item, DecodedFrame) and item.frame.command is Command.CONFIRM:
                        entry = self.pending.pop(item.frame.serial, None)
                        if entry is not None:
                            self.window.release()
                            self.stats.confirmed += 1
                            self.stats.latencies_ms.append((now - entry[1]) * 1000)
                            if entry[2] is not None:
                                self.confirmed_numbers.append(entry[2])
                    elif isinstance(item, DecodedFrame) and item.frame.command is Command.DENY:
                        self.stats.errors += 1
                    elif isinstance(item, DecodedFrame) and self.responder is not None:
                        self._answer(item.frame)
        except (ConnectionError, OSError):
            pass
        finally:
            self._lost()

    def _answer(self, frame: Frame) -> None:
        """Answer a downstream command (see :mod:`firegrid.ingest.simulate_downlink`)."""
        assert self.responder is not None
        reply, later, delay_s = self.responder.handle(frame)
        if reply is not None and self.writer is not None and not self.writer.is_closing():
            with contextlib.suppress(ConnectionError, OSError):
                self.writer.write(reply)
        if later is not None:
            task = asyncio.get_running_loop().create_task(self._send_later(later, delay_s))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    async def _send_later(self, obj: InfoObject, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        if hasattr(obj, "occurred_at"):  # the operator pressed the button now
            now = utcnow().astimezone(CHINA_TZ).replace(microsecond=0)
            obj = msgspec.structs.replace(obj, occurred_at=now)
        if not self._closing:
            await self.send(obj, None)

    def _lost(self) -> None:
        if self._closing:
            return
        self._connected.clear()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.stats.reconnects += 1
        asyncio.get_running_loop().create_task(self.connect(pause_s=0.1))

    async def send(self, obj: InfoObject, number: int | None) -> None:
        """Send one frame (queued for the next connection if the link is down).

        Waits at most ``retransmit_s`` for room in the window; if the centre is not
        confirming, the message is skipped and counted in ``backpressured``.
        """
        try:
            await asyncio.wait_for(self.window.acquire(), self.retransmit_s)
        except TimeoutError:
            self.stats.backpressured += 1
            return
        self.serial = (self.serial + 1) & 0xFFFF
        while self.serial in self.pending:
            self.serial = (self.serial + 1) & 0xFFFF
        now = utcnow().astimezone(CHINA_TZ).replace(microsecond=0)
        frame = Frame(
            self.serial, (1, 1), now, self.address, 0, Command.SEND_DATA, ApplicationData.of([obj])
        )
        data = encode_frame(frame)
        self.pending[self.serial] = (data, time.perf_counter(), number)
        self.stats.sent += 1
        if self.writer is not None and not self.writer.is_closing():
            with contextlib.suppress(ConnectionError, OSError):
                self.writer.write(data)

    def retransmit_due(self) -> None:
        limit = time.perf_counter() - self.retransmit_s
        if self.writer is None or self.writer.is_closing():
            return
        for serial, (data, sent, number) in list(self.pending.items()):
            if sent < limit:
                self.pending[serial] = (data, time.perf_counter(), number)
                self.stats.retransmits += 1
                with contextlib.suppress(ConnectionError, OSError):
                    self.writer.write(data)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._later):
            task.cancel()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


def _host_port(target: str) -> tuple[str, int]:
    parsed = urlparse(target if "://" in target else f"tcp://{target}")
    if parsed.hostname is None or parsed.port is None:
        raise ValidationFailed(
            f"target {target!r} is not HOST:PORT",
            {"target": target},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "target", "value": target, "expected": "HOST:PORT"},
        )
    return parsed.hostname, parsed.port


async def _paced(
    options: SimOptions,
    senders: int,
    send_one: Callable[[int, int], Any],
    tick: Callable[[], None] | None = None,
) -> None:
    """Call ``send_one(sender_index, n)`` at ``options.rate`` per second in total."""
    start = time.perf_counter()
    sent = 0
    n = 0
    step = 0.01
    last_storm = start
    while True:
        now = time.perf_counter()
        elapsed = now - start
        if elapsed >= options.duration_s or (options.total and n >= options.total):
            break
        due = int(elapsed * options.rate) - sent
        if options.storm_every_s and now - last_storm >= options.storm_every_s:
            due += senders
            last_storm = now
        if options.total:
            due = min(due, options.total - n)
        tasks = []
        for _ in range(max(0, due)):
            tasks.append(send_one(n % senders, n))
            n += 1
        sent += max(0, due)
        if tasks:
            await asyncio.gather(*tasks)
        if tick is not None:
            tick()
        await asyncio.sleep(step)


async def simulate_gb(devices: list[Device], options: SimOptions) -> SimStats:
    host, port = _host_port(options.target)
    stats = SimStats("gb26875", len(devices))
    rng = random.Random(options.seed)
    mix = Mix(options, rng)
    clients = [
        GBClient(
            host,
            port,
            int(d.external_id),
            stats,
            retransmit_s=options.retransmit_s,
            window=options.window,
            responder=DownlinkResponder(
                int(d.external_id),
                operator_answer_ratio=options.operator_answer_ratio,
                operator_delay_s=options.operator_delay_s,
                rng=random.Random(options.seed + i),
            ),
        )
        for i, d in enumerate(devices)
    ]
    for start in range(0, len(clients), 500):
        await asyncio.gather(*(c.connect() for c in clients[start : start + 500]))
    counters = [0] * len(clients)
    began = time.perf_counter()

    async def send_one(index: int, n: int) -> None:
        client = clients[index]
        counters[index] += 1
        number = counters[index]
        now = utcnow().astimezone(CHINA_TZ).replace(microsecond=0)
        if options.numbered:
            obj: InfoObject = ComponentStatus(1, 1, 42, number, ComponentStatusFlag.NORMAL, "", now)
            await client.send(obj, number)
        else:
            await client.send(gb_object(mix.pick(), number, now, rng), None)

    def tick() -> None:
        for client in clients:
            client.retransmit_due()

    await _paced(options, len(clients), send_one, tick)
    deadline = time.perf_counter() + options.drain_s
    while time.perf_counter() < deadline and any(c.pending for c in clients):
        tick()
        await asyncio.sleep(0.05)
    stats.elapsed_s = time.perf_counter() - began
    stats.unconfirmed = sum(len(c.pending) for c in clients)
    for device, client in zip(devices, clients, strict=True):
        stats.confirmed_numbers[device.external_id] = client.confirmed_numbers
    await asyncio.gather(*(c.close() for c in clients))
    return stats


# ---------------------------------------------------------------------------------------------
# MQTT and HTTP payloads (the native ``firegrid`` JSON schema, see docs/ingest.md)


def json_message(device: Device, kind: str, number: int, rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {"battery": rng.randint(20, 100), "rssi": -rng.randint(50, 100)}
    event_kind = {"analog": "analog_value", "heartbeat": "heartbeat"}.get(kind, kind)
    if kind == "analog":
        values["smoke_density"] = round(rng.random(), 3)
    return {
        "id": f"{device.external_id}-{number}",
        "device": device.external_id,
        "time": utcnow().isoformat(),
        "kind": event_kind,
        "component": {"description": f"探测器{number % 50}", "loop": 1, "point": number},
        "values": values,
    }


async def simulate_mqtt(devices: list[Device], options: SimOptions) -> SimStats:
    import aiomqtt

    host, port = _host_port(options.target)
    stats = SimStats("mqtt", len(devices))
    rng = random.Random(options.seed)
    mix = Mix(options, rng)
    began = time.perf_counter()
    publishers = min(len(devices), 8)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                aiomqtt.Client(host, port, identifier=f"firegrid-sim-{i}-{secrets.token_hex(3)}")
            )
            for i in range(publishers)
        ]

        async def send_one(index: int, n: int) -> None:
            device = devices[index]
            kind = "fault" if options.numbered else mix.pick()
            payload = json_message(device, kind, n, rng)
            topic = f"firegrid/devices/firegrid/{device.external_id}/events"
            stats.sent += 1
            started = time.perf_counter()
            try:
                await clients[index % publishers].publish(topic, json.dumps(payload), qos=1)
            except aiomqtt.MqttError:
                stats.errors += 1
                return
            stats.confirmed += 1
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)

        await _paced(options, len(devices), send_one)
    stats.elapsed_s = time.perf_counter() - began
    return stats


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Firegrid-Signature``: hex HMAC-SHA256 of ``timestamp + "." + body``."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def simulate_http(devices: list[Device], options: SimOptions, secret: str) -> SimStats:
    import httpx

    stats = SimStats("http", len(devices))
    rng = random.Random(options.seed)
    mix = Mix(options, rng)
    base = options.target if "://" in options.target else f"http://{options.target}"
    url = f"{base.rstrip('/')}/api/v1/ingest/push/{options.integration}"
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def post(events: list[dict[str, Any]]) -> None:
            body = json.dumps({"events": events}).encode()
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Firegrid-Timestamp": timestamp,
                "X-Firegrid-Signature": sign(secret, timestamp, body),
            }
            started = time.perf_counter()
            stats.sent += len(events)
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                stats.errors += len(events)
                return
            if response.is_success:
                stats.confirmed += len(events)
                stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                stats.errors += len(events)

        async def send_one(index: int, n: int) -> None:
            kind = "fault" if options.numbered else mix.pick()
            batch.append(json_message(devices[index], kind, n, rng))
            if len(batch) >= options.http_batch:
                events = batch[:]
                batch.clear()
                await post(events)

        await _paced(options, len(devices), send_one)
        if batch:
            await post(batch[:])
    stats.elapsed_s = time.perf_counter() - began
    return stats


async def run_simulation(db: Database, options: SimOptions, *, register: bool = False) -> SimStats:
    """Load (or register) the devices and drive them; returns the stats."""
    if register:
        devices = await asyncio.to_thread(register_devices, db, options.protocol, options.count)
    else:
        devices = await asyncio.to_thread(load_devices, db, options.protocol, options.count)
    if not devices:
        raise NotFound(
            f"no registered {options.protocol} devices in the database (use --register)",
            {"protocol": options.protocol},
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "device"},
        )
    if options.protocol == "gb26875":
        return await simulate_gb(devices, options)
    if options.protocol == "mqtt":
        return await simulate_mqtt(devices, options)
    if options.protocol == "http":
        secret = await asyncio.to_thread(ensure_integration, db, options.integration)
        return await simulate_http(devices, options, secret)
    raise ValidationFailed(
        f"unknown protocol {options.protocol!r}",
        {"protocol": options.protocol},
        text=TextCode.VALIDATION_UNKNOWN,
        params={"field": "protocol", "value": options.protocol},
    )
