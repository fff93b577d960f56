"""End to end: device → live alarm feed, over the real path, with CPU per process.

What runs (each a separate process, as deployed):

- **devices** (this process, uvloop): simulated GB/T 26875.3 transmitters on real TCP
  connections, hand-packed frames (the codec's encoder gives the same bytes: see
  ``tests/bench/test_bench_e2e.py``), every frame waiting for its CONFIRM;
- **ingest**: ``firegrid ingest run --gb26875 …`` (decode, device state, durable append to the
  event log, CONFIRM);
- **event log**: the database log (``device_events``) or NATS JetStream (``--event-log``);
- **correlator**: ``firegrid alarms run`` (log consumer, rules, timers, feed entries);
- **API**: ``firegrid serve --api-only`` (``GET /api/v1/alarms/feed``, Server-Sent Events);
- **SSE client**: logged in as a monitoring-centre operator created for the run, reads the
  feed and notes when each alarm entry arrives.

The load, at ``--rate`` frames/s in total (one information object per frame): background
panels (``--panels``, each at its own venue) send heartbeats (30 %), analog values (30 %)
and component statuses whose points go into fault and are restored on alternate passes
(40 %); **probes** send one fire alarm each, at ``--probe-rate`` per second, every probe
from its own transmitter at its own venue, so each opens its own alarm. A probe's latency is
*device send time* (stamped just before the frame is written to the socket) → *arrival of
its ``alarm.new`` entry at the SSE client*; both clocks are this machine's wall clock.

Also reported:

- ``correlator_lag_s``: the largest lag of the alarms consumer behind the log, sampled
  every 0.25 s during the run and until it has caught up (the age of the oldest logged
  event it had not yet handled); details under ``correlator``;
- ``cpu_us_per_event``: user + system CPU seconds of each process (psutil) over the
  measured window, divided by the frames confirmed in that window (each frame is one device
  event; heartbeats are events that only update device state, so ``log_events`` — the
  events stored in the window — is printed too);
- ``ingest_threads_us_per_event``: the ingest's CPU split into its main thread (the event
  loop: decode, events, device state, CONFIRMs, the NATS client) and its other threads (on
  the database log, mostly the log's group commits into SQLite or PostgreSQL);
- ``floor``: a bare uvloop TCP server (a subprocess) fed by the same generator with the same
  mix, before the real run: it reads the frames and writes each CONFIRM, nothing else. Its
  CPU per frame is the transport floor the ingest process is compared with.

Everything is throw-away: a SQLite file in a temp dir (default) or, with ``--db`` naming a
PostgreSQL server, a new database created and dropped; with JetStream a stream of its own.
Every process started is stopped, and the whole run is bounded (``--timeout``).

Usage::

    python bench/bench_e2e.py --rate 1000 --duration 30 --json
    python bench/bench_e2e.py --rate 1000 --duration 30 --event-log jetstream \\
        --db postgresql://postgres@127.0.0.1:5432/postgres --nats nats://127.0.0.1:4222 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firegrid.core.clock import CHINA_TZ

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
ADDRESS_BASE = 700_000_000_000  # 48-bit GB source addresses of the simulated transmitters
TOWN_CODE = "810000001"
OPERATOR = ("e2e_operator", "e2e-bench-password-1")
#: The background mix, as a repeating cycle of frame kinds (30 % heartbeats, 30 % analog
#: values, 40 % component statuses: a point in fault or restored).
CYCLE = ("hb", "analog", "status", "analog", "status", "hb", "analog", "status", "hb", "status")
POINTS_PER_PANEL = 64
CONFIRM_SIZE = 30  # a CONFIRM has an empty ADU: 30 bytes

# ---------------------------------------------------------------------------------------------
# Statistics (pure; tested in tests/bench/test_bench_e2e.py)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation between closest ranks (None if empty)."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class ProbeBook:
    """Send times of the probes and the first arrival of each one's alarm on the feed."""

    sent_at: dict[int, float] = field(default_factory=dict)  # probe venue id -> wall time (s)
    seen_at: dict[int, float] = field(default_factory=dict)

    def sent(self, venue_id: int, at: float) -> None:
        self.sent_at.setdefault(venue_id, at)

    def seen(self, venue_id: int, at: float) -> None:
        """A fire alarm of ``venue_id`` arrived on the feed at ``at`` (only the first one
        counts; venues that are not probes' are ignored)."""
        if venue_id in self.sent_at and venue_id not in self.seen_at:
            self.seen_at[venue_id] = at

    def latencies_ms(self) -> list[float]:
        return [
            (self.seen_at[key] - sent) * 1000
            for key, sent in self.sent_at.items()
            if key in self.seen_at
        ]

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies_ms()
        return {
            "sent": len(self.sent_at),
            "seen": len(latencies),
            "p50_ms": _ms(quantile(latencies, 0.5)),
            "p90_ms": _ms(quantile(latencies, 0.9)),
            "p99_ms": _ms(quantile(latencies, 0.99)),
            "max_ms": _ms(max(latencies)) if latencies else None,
        }


def lag_seconds(samples: Sequence[tuple[float, int, int]]) -> list[float]:
    """The consumer's lag at each sample ``(time, log's last offset, consumer's offset)``:
    how long ago the oldest event it had not handled yet was already in the log (the first
    sample whose log offset covered it), 0 when it had handled everything logged."""
    lags: list[float] = []
    for at, last, consumed in samples:
        if consumed >= last:
            lags.append(0.0)
            continue
        logged_at = next((t for t, offset, _ in samples if offset > consumed), at)
        lags.append(max(0.0, at - logged_at))
    return lags


# ---------------------------------------------------------------------------------------------
# GB/T 26875.3 frames, hand-packed (cheaper than the codec's encoder; same bytes)

_HEAD = struct.Struct("<HBB")
_TAIL = struct.Struct("<HB")
COMPONENT_STATUS = struct.Struct("<BBBIH31s6s")  # type 2
ANALOG_VALUE = struct.Struct("<BBBIBh6s")  # type 3
TRANSMITTER_STATUS = struct.Struct("<B6s")  # type 21
FAULT = 0x0005  # normal operation + fault
RESTORED = 0x0001  # normal operation: the point is back to normal
FIRE = 0x0003  # normal operation + fire alarm


def time_tag(now: float) -> bytes:
    """The 6-byte time tag (China Standard Time, whole seconds) of wall time ``now``."""
    local = datetime.fromtimestamp(now, UTC).astimezone(CHINA_TZ)
    return bytes(
        (local.second, local.minute, local.hour, local.day, local.month, local.year - 2000)
    )


def send_data_frame(serial: int, source: int, tag: bytes, type_flag: int, obj: bytes) -> bytes:
    """A send-data (command 2) frame to the centre (address 0) with one object."""
    adu = bytes((type_flag, 1)) + obj
    body = b"".join(
        (
            _HEAD.pack(serial, 1, 1),
            tag,
            source.to_bytes(6, "little"),
            bytes(6),
            _TAIL.pack(len(adu), 2),
            adu,
        )
    )
    return b"@@" + body + bytes((sum(body) & 0xFF,)) + b"##"


def status_frame(
    serial: int, source: int, tag: bytes, point: int, status: int, text: bytes = b"e2e"
) -> bytes:
    return send_data_frame(
        serial, source, tag, 2, COMPONENT_STATUS.pack(1, 1, 42, point, status, text, tag)
    )


def analog_frame(serial: int, source: int, tag: bytes, point: int, raw_value: int) -> bytes:
    return send_data_frame(
        serial, source, tag, 3, ANALOG_VALUE.pack(1, 1, 91, point, 4, raw_value, tag)
    )


def heartbeat_frame(serial: int, source: int, tag: bytes) -> bytes:
    return send_data_frame(serial, source, tag, 21, TRANSMITTER_STATUS.pack(0x01, tag))


# ---------------------------------------------------------------------------------------------
# The devices (load generator)


class Counters:
    def __init__(self) -> None:
        self.sent = 0
        self.confirmed = 0
        self.denied = 0
        self.downlink = 0  # commands from the centre (not confirms): skipped, not answered


class Transmitter(asyncio.Protocol):
    """One transmitter on its own TCP connection; frames wait for their CONFIRM."""

    def __init__(
        self, address: int, counters: Counters, window: int = 16, venue_id: int = 0
    ) -> None:
        self.address = address
        self.venue_id = venue_id
        self.counters = counters
        self.window = window
        self.serial = 0
        self.sent_frames = 0
        self.status_reports = 0
        self.in_flight: set[int] = set()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def can_send(self) -> bool:
        return self.transport is not None and len(self.in_flight) < self.window

    def next_serial(self) -> int:
        self.serial = self.serial % 0xFFFF + 1
        return self.serial

    def write(self, serial: int, frame: bytes) -> None:
        assert self.transport is not None
        self.in_flight.add(serial)
        self.transport.write(frame)
        self.counters.sent += 1
        self.sent_frames += 1

    def send_background(self, tag: bytes) -> None:
        """The next frame of this panel's cycle (heartbeat, analog value, fault/restore)."""
        n = self.sent_frames
        kind = CYCLE[n % len(CYCLE)]
        serial = self.next_serial()
        if kind == "hb":
            frame = heartbeat_frame(serial, self.address, tag)
        elif kind == "analog":
            frame = analog_frame(serial, self.address, tag, n % POINTS_PER_PANEL, 2 + n % 10)
        else:  # each point in fault on one pass over the panel, restored on the next
            k = self.status_reports
            self.status_reports += 1
            point = k % POINTS_PER_PANEL
            status = FAULT if (k // POINTS_PER_PANEL) % 2 == 0 else RESTORED
            frame = status_frame(serial, self.address, tag, point, status)
        self.write(serial, frame)

    def send_heartbeat(self, tag: bytes) -> None:
        serial = self.next_serial()
        self.write(serial, heartbeat_frame(serial, self.address, tag))

    def send_fire(self, tag: bytes) -> None:
        serial = self.next_serial()
        self.write(serial, status_frame(serial, self.address, tag, 1, FIRE, b"probe"))

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while len(buf) >= CONFIRM_SIZE:
            if buf[:2] != b"@@":  # out of step: skip to the next start marker
                start = buf.find(b"@@", 1)
                del buf[: start if start > 0 else len(buf) - 1]
                continue
            size = CONFIRM_SIZE + (buf[24] | buf[25] << 8)
            if len(buf) < size:
                break
            serial = buf[2] | buf[3] << 8
            command = buf[26]
            del buf[:size]
            if command not in (3, 6):  # a command from the centre (e.g. a query): not answered
                self.counters.downlink += 1
                continue
            if serial in self.in_flight:
                self.in_flight.discard(serial)
                if command == 3:
                    self.counters.confirmed += 1
                else:
                    self.counters.denied += 1


class TagClock:
    """The current time tag, re-packed once a second."""

    def __init__(self) -> None:
        self.second = -1
        self.tag = b""

    def now(self) -> bytes:
        wall = time.time()
        if int(wall) != self.second:
            self.second, self.tag = int(wall), time_tag(wall)
        return self.tag


async def connect(
    port: int, devices: Iterable[tuple[int, int]], counters: Counters
) -> list[Transmitter]:
    """One connection per ``(address, venue id)``."""
    loop = asyncio.get_running_loop()
    out: list[Transmitter] = []
    for address, venue_id in devices:
        _, protocol = await loop.create_connection(
            lambda a=address, v=venue_id: Transmitter(a, counters, venue_id=v), "127.0.0.1", port
        )
        out.append(protocol)
    return out


async def settle(conns: Sequence[Transmitter], timeout_s: float) -> bool:
    """Wait until no frame is unconfirmed (at most ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while any(c.in_flight for c in conns):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@dataclass
class DriveResult:
    offered: int = 0
    backlog: int = 0  # frames due that could not be offered (every window full)
    frames_confirmed: int = 0
    elapsed_s: float = 0.0


async def drive(
    panels: Sequence[Transmitter],
    probes: Sequence[Transmitter],
    *,
    rate: float,
    duration_s: float,
    probe_rate: float,
    book: ProbeBook | None,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> DriveResult:
    """Offer ``rate`` frames/s for ``duration_s``: the probes' fire alarms at
    ``probe_rate``/s (in order, one each), the panels' cycle for the rest."""
    tags = TagClock()
    counters = panels[0].counters if panels else probes[0].counters
    result = DriveResult()
    confirmed_before = counters.confirmed
    if on_start is not None:
        on_start()
    start = time.perf_counter()
    index = 0
    next_probe = 0
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= duration_s:
            break
        tag = tags.now()
        while next_probe < len(probes) and (next_probe + 0.5) / probe_rate <= elapsed:
            probe = probes[next_probe]
            next_probe += 1
            if probe.transport is None:
                continue
            if book is not None:
                book.sent(probe.venue_id, time.time())
            probe.send_fire(tag)
            result.offered += 1
        due = int(elapsed * rate) - result.offered - result.backlog
        tries = 0
        while due > 0 and panels and tries < len(panels):
            conn = panels[index % len(panels)]
            index += 1
            if conn.can_send():
                conn.send_background(tag)
                due -= 1
                result.offered += 1
                tries = 0
            else:
                tries += 1
        if due > 0:
            result.backlog += due
        await asyncio.sleep(0.002)
    result.elapsed_s = time.perf_counter() - start
    if on_end is not None:
        on_end()
    result.frames_confirmed = counters.confirmed - confirmed_before
    return result


# ---------------------------------------------------------------------------------------------
# The floor: a bare uvloop server that reads frames and writes each CONFIRM


class FloorProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.second = -1
        self.tag = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        wall = time.time()
        if int(wall) != self.second:
            self.second, self.tag = int(wall), time_tag(wall)
        out = []
        pos = 0
        end = len(buf)
        while end - pos >= 27:
            start = buf.find(b"@@", pos)
            if start < 0 or end - start < 27:
                pos = max(pos, start) if start >= 0 else end
                break
            size = 30 + (buf[start + 24] | buf[start + 25] << 8)
            if end - start < size:
                pos = start
                break
            body = b"".join(
                (
                    bytes(buf[start + 2 : start + 6]),  # serial and version
                    self.tag,
                    bytes(6),  # the centre
                    bytes(buf[start + 12 : start + 18]),  # back to the source
                    b"\x00\x00\x03",  # empty ADU, CONFIRM
                )
            )
            out.append(b"@@" + body + bytes((sum(body) & 0xFF,)) + b"##")
            pos = start + size
        del buf[:pos]
        if out and self.transport is not None:
            self.transport.write(b"".join(out))


def floor_server(port: int) -> None:
    """The floor server's process (``bench_e2e.py --floor-server PORT``)."""
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(FloorProtocol, "127.0.0.1", port, backlog=4096)
        print(json.dumps({"ready": port}), flush=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        server.close()

    uvloop.run(main())


# ---------------------------------------------------------------------------------------------
# Processes


class Child:
    """A subprocess with its output in a file, and its CPU time sampled by psutil."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], workdir: Path) -> None:
        import psutil

        self.name = name
        self.output = workdir / f"{name}.log"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.ps = psutil.Process(self.process.pid)
        self.marks: list[float] = []
        self.main_thread_marks: list[float] = []

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.output.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start ({text!r} not seen):\n{tail}")
            time.sleep(0.05)

    def mark(self) -> None:
        times = self.ps.cpu_times()
        self.marks.append(times.user + times.system)
        # the main thread (its id is the process id on Linux): the event loop
        main = next((t for t in self.ps.threads() if t.id == self.ps.pid), None)
        self.main_thread_marks.append(main.user_time + main.system_time if main else 0.0)

    def cpu_s(self) -> float | None:
        return round(self.marks[-1] - self.marks[0], 3) if len(self.marks) >= 2 else None

    def thread_split_s(self) -> dict[str, float] | None:
        """CPU seconds of the main thread (the event loop) and of all other threads (the
        database log's commits, work sent ``to_thread``) between the first and last mark."""
        total = self.cpu_s()
        if total is None or len(self.main_thread_marks) < 2:
            return None
        main = round(self.main_thread_marks[-1] - self.main_thread_marks[0], 3)
        return {"main_thread": main, "other_threads": round(max(total - main, 0.0), 3)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class SelfCpu:
    """CPU time of this process (the devices), sampled like :class:`Child`."""

    name = "devices"

    def __init__(self) -> None:
        import psutil

        self.ps = psutil.Process()
        self.marks: list[float] = []

    def mark(self) -> None:
        times = self.ps.cpu_times()
        self.marks.append(times.user + times.system)

    def cpu_s(self) -> float | None:
        return round(self.marks[-1] - self.marks[0], 3) if len(self.marks) >= 2 else None


class ExternalCpu(SelfCpu):
    """CPU time of a process this bench did not start (the NATS server; shared)."""

    def __init__(self, name: str, pid: int) -> None:
        import psutil

        self.name = name
        self.ps = psutil.Process(pid)
        self.marks = []


def nats_server_pid(nats_url: str) -> int | None:
    """The pid of the process listening on the NATS port, if visible."""
    from urllib.parse import urlparse

    import psutil

    port = urlparse(nats_url).port or 4222
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


def parse_ports(text: str | None) -> list[int]:
    """``A-B`` → the ports A..B (inclusive); ``None`` → [] (ask the OS for free ports)."""
    if not text:
        return []
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    if not 1024 <= first <= last <= 65535:
        raise SystemExit(f"--ports must be A-B with 1024 <= A <= B <= 65535, got {text!r}")
    return list(range(first, last + 1))


class Ports:
    def __init__(self, candidates: list[int]) -> None:
        self.candidates = candidates
        self.taken: set[int] = set()

    def take(self) -> int:
        for port in self.candidates or [0]:
            if port in self.taken:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                chosen = int(sock.getsockname()[1])
            self.taken.add(chosen)
            return chosen
        raise SystemExit("no free port left in --ports")


# ---------------------------------------------------------------------------------------------
# Database, city, operator


@contextmanager
def throwaway_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    """A new database: a SQLite file in ``workdir``, or one created on the PostgreSQL server
    ``server_url`` names (and dropped afterwards)."""
    from sqlalchemy import create_engine, make_url, text

    from firegrid.core.migrate import upgrade
    from firegrid.core.settings import normalise_database_url

    if server_url is None:
        url = f"sqlite:///{workdir / 'e2e.db'}"
        upgrade(url)
        yield url
        return
    admin_url = make_url(normalise_database_url(server_url))
    if not admin_url.drivername.startswith("postgresql"):
        raise SystemExit(
            "--db takes a PostgreSQL server URL (a database is created there and dropped); "
            "without --db the bench uses a SQLite file in a temp dir"
        )
    name = f"firegrid_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


Devices = list[tuple[int, int]]  # (GB source address, venue id)


def build_city(url: str, panels: int, probes: int) -> tuple[Devices, Devices]:
    """One town with a village and a grid, a venue per transmitter (background panels and
    probes), each transmitter registered as a GB/T 26875.3 device; and the operator."""
    from sqlalchemy import insert, select

    from firegrid.accounts.principal import system_principal
    from firegrid.accounts.service import create_user
    from firegrid.core.db import Database
    from firegrid.devices.models import Device
    from firegrid.places.models import Jurisdiction, Venue

    db = Database(url)
    addresses = [ADDRESS_BASE + n for n in range(panels + probes)]
    try:
        with db.session() as session:
            parent: Jurisdiction | None = None
            for level, code in (
                ("city", TOWN_CODE[:6]),
                ("town", TOWN_CODE),
                ("village", TOWN_CODE + "001"),
                ("grid", TOWN_CODE + "00101"),
            ):
                node = Jurisdiction(
                    code=code,
                    level=level,
                    parent_id=None if parent is None else parent.id,
                    path=f"{'/' if parent is None else parent.path}{code}/",
                    name_zh="基准",
                    name_en=f"E2E bench {level}",
                    center_lon=113.7,
                    center_lat=23.0,
                )
                session.add(node)
                session.flush()
                parent = node
            assert parent is not None
            session.execute(
                insert(Venue),
                [
                    {
                        "code": f"E2E{n}",
                        "name": f"e2e bench venue {n} (synthetic)",
                        "lon": 113.7,
                        "lat": 23.0,
                        "jurisdiction_id": parent.id,
                        "jurisdiction_path": parent.path,
                        "category": "factory",
                        "tags": [],
                    }
                    for n in range(len(addresses))
                ],
            )
            venue_ids = dict(session.execute(select(Venue.code, Venue.id)).all())
            session.execute(
                insert(Device),
                [
                    {
                        "code": f"E2E-D{n}",
                        "kind": "transmitter",
                        "protocol": "gb26875",
                        "external_id": str(address),
                        "venue_id": venue_ids[f"E2E{n}"],
                        "jurisdiction_path": parent.path,
                    }
                    for n, address in enumerate(addresses)
                ],
            )
            create_user(
                session,
                system_principal("bench"),
                username=OPERATOR[0],
                role="monitor_operator",
                scope_code=TOWN_CODE,
                password=OPERATOR[1],
            )
    finally:
        db.dispose()
    devices = [(address, int(venue_ids[f"E2E{n}"])) for n, address in enumerate(addresses)]
    return devices[:panels], devices[panels:]


# ---------------------------------------------------------------------------------------------
# The log and the correlator's position in it (sampled from a thread)


class LagSampler:
    """Samples (time, log's last offset, alarms consumer's offset) every ``period_s``."""

    def __init__(self, url: str, backend: str, last_offset: Callable[[], int]) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)
        self.backend = backend
        self.last_offset = last_offset
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def consumed(self) -> int:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            value = connection.execute(
                text('SELECT "offset" FROM alarm_consumer_state WHERE name = :name'),
                {"name": "alarms"},
            ).scalar()
        return int(value or 0)

    def sample(self) -> tuple[float, int, int]:
        item = (time.time(), self.last_offset(), self.consumed())
        self.samples.append(item)
        return item

    def start(self, period_s: float = 0.25) -> None:
        def run() -> None:
            while not self._stop.wait(period_s):
                with contextlib.suppress(Exception):
                    self.sample()

        self._thread = threading.Thread(target=run, name="lag-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.engine.dispose()


def database_last_offset(url: str) -> tuple[Callable[[], int], Callable[[], None]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)

    def last() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT max(id) FROM device_events")).scalar() or 0)

    return last, engine.dispose


def jetstream_last_offset(
    nats_url: str, stream: str
) -> tuple[Callable[[], int], Callable[[], None]]:
    """A blocking ``last offset`` of the stream (its own event loop on a thread)."""
    import nats

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="nats-sampler", daemon=True)
    thread.start()
    nc = asyncio.run_coroutine_threadsafe(nats.connect(nats_url), loop).result(10)
    js = nc.jetstream()

    async def info() -> int:
        return int((await js.stream_info(stream)).state.last_seq)

    def last() -> int:
        return asyncio.run_coroutine_threadsafe(info(), loop).result(10)

    def close() -> None:
        async def finish() -> None:
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
            await nc.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(finish(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    return last, close


# ---------------------------------------------------------------------------------------------
# SSE client (a subprocess)

SSE_CLIENT = """
import json, sys, time
import httpx
url, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w") as handle:
    with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client:
        headers = {"Authorization": "Bearer " + token}
        with client.stream("GET", url, headers=headers) as response:
            handle.write(json.dumps({"ready": response.status_code}) + "\\n")
            handle.flush()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    now = time.time()
                    data = json.loads(line[6:])
                    entry = [data.get("venue_id"), data.get("type"), data.get("kind"), now]
                    handle.write(json.dumps(entry) + "\\n")
                    handle.flush()
"""


def login(api: str) -> str:
    import httpx

    response = httpx.post(
        f"{api}/api/v1/auth/login",
        json={"username": OPERATOR[0], "password": OPERATOR[1]},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def wait_http(url: str, timeout_s: float, child: Child) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if child.process.poll() is not None or time.monotonic() > deadline:
                tail = child.output.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{child.name} did not answer {url}:\n{tail}") from None
            time.sleep(0.1)


def read_feed(path: Path, book: ProbeBook) -> dict[str, int]:
    """Feed entries of the run by kind and type; fire ``alarm.new`` entries go to ``book``."""
    counts: dict[str, int] = {}
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        if not line.startswith("["):
            continue
        venue_id, type_, kind, at = json.loads(line)
        key = f"{kind}:{type_}"
        counts[key] = counts.get(key, 0) + 1
        if type_ == "alarm.new" and kind == "fire" and venue_id is not None:
            book.seen(int(venue_id), float(at))
    return counts


# ---------------------------------------------------------------------------------------------
# The run


def run_uv(coro: Any) -> Any:
    import uvloop

    return uvloop.run(coro)


def measure_floor(
    args: argparse.Namespace, ports: Ports, panels: Devices, workdir: Path
) -> dict[str, Any]:
    port = ports.take()
    env = {**os.environ}
    floor = Child("floor", [sys.executable, __file__, "--floor-server", str(port)], env, workdir)
    try:
        floor.wait_for('{"ready"', 30)

        async def go() -> DriveResult:
            counters = Counters()
            conns = await connect(port, panels, counters)
            result = await drive(
                conns,
                [],
                rate=args.rate,
                duration_s=args.floor_duration,
                probe_rate=1.0,
                book=None,
                on_start=floor.mark,
                on_end=floor.mark,
            )
            await settle(conns, 10)
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()
            return result

        result = run_uv(go())
    finally:
        floor.stop()
    cpu = floor.cpu_s()
    return {
        "server": "bare uvloop TCP: read frames, write CONFIRM",
        "duration_s": args.floor_duration,
        "frames": result.frames_confirmed,
        "frames_per_s": round(result.frames_confirmed / result.elapsed_s, 1),
        "cpu_s": cpu,
        "cpu_us_per_frame": per_event_us(cpu, result.frames_confirmed),
    }


def per_event_us(cpu_s: float | None, events: int) -> float | None:
    if cpu_s is None or events <= 0:
        return None
    return round(cpu_s / events * 1e6, 1)


def start_services(
    args: argparse.Namespace,
    url: str,
    stream: str,
    ports: Ports,
    workdir: Path,
    children: list[Child],
) -> tuple[str, int]:
    """Ingest (``--gb26875`` on a free port), correlator and API, each its own process,
    appended to ``children`` as they start; the API's base URL and the GB/T listener's port
    once the API answers. ``args`` gives ``event_log`` and ``nats``."""
    env = {
        **os.environ,
        "FIREGRID_ENV": "test",
        "FIREGRID_DATABASE_URL": url,
        "FIREGRID_DATA_DIR": str(workdir / "data"),
        "FIREGRID_LOG_LEVEL": "WARNING",
        "FIREGRID_EVENT_LOG": args.event_log,
        "FIREGRID_NATS_URL": args.nats,
        "FIREGRID_EVENT_STREAM": stream,
        "FIREGRID_ACCESS_TOKEN_TTL_S": "7200",
        "FIREGRID_ALARMS_FILE_CHANNELS": "",
    }
    cli = [sys.executable, "-m", "firegrid.cli"]
    gb_port, api_port = ports.take(), ports.take()
    ingest = Child(
        "ingest",
        [
            *cli,
            *("ingest", "run", "--db", url, "--event-log", args.event_log),
            *("--stream", stream, "--gb26875", f"127.0.0.1:{gb_port}"),
            *("--idle-timeout", "3600"),
        ],
        env,
        workdir,
    )
    children.append(ingest)
    ingest.wait_for('{"ready"', 90)
    alarms = Child(
        "alarms",
        [*cli, "alarms", "run", "--db", url, "--timer-interval", "1"],
        env,
        workdir,
    )
    children.append(alarms)
    api = Child(
        "api",
        [*cli, "serve", "--db", url, "--port", str(api_port), "--api-only", "--no-migrate"],
        env,
        workdir,
    )
    children.append(api)
    base = f"http://127.0.0.1:{api_port}"
    wait_http(f"{base}/healthz", 90, api)
    return base, gb_port


def start_sse(base: str, path: str, out: Path, workdir: Path, children: list[Child]) -> Path:
    """An SSE client (its own process, signed in as the bench's operator) writing the
    stream at ``path`` to ``out``; returns once it is connected."""
    token = login(base)
    sse = Child(
        "sse_client",
        [sys.executable, "-c", SSE_CLIENT, f"{base}{path}", token, str(out)],
        {**os.environ},
        workdir,
    )
    children.append(sse)
    deadline = time.monotonic() + 30
    while not (out.exists() and '"ready"' in out.read_text()):
        if sse.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("SSE client did not connect: " + sse.output.read_text())
        time.sleep(0.05)
    return out


def tear_down(
    children: Sequence[Child], closers: Sequence[Callable[[], None]], workdir: Path, *, keep: bool
) -> None:
    """Stop the processes (last started first), close what was opened, and remove the work
    dir unless it is to be kept; nothing here may hide the run's own error."""
    for child in reversed(children):
        with contextlib.suppress(Exception):
            child.stop()
    for close in reversed(closers):
        with contextlib.suppress(Exception):
            close()
    if keep:
        print(f"kept {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def within_time_limit(name: str, limit_s: float, run: Callable[[], Any]) -> Any:
    """``run()``, stopped with a :class:`TimeoutError` naming the bench after ``limit_s``."""

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"{name}: the run exceeded {limit_s:.0f} s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(int(limit_s))
    try:
        return run()
    finally:
        signal.alarm(0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    ports = Ports(parse_ports(args.ports))
    probes_wanted = max(1, int(args.duration * args.probe_rate))
    children: list[Child] = []
    closers: list[Callable[[], None]] = []
    try:
        with throwaway_database(args.db, workdir) as url:
            panel_addresses, probe_addresses = build_city(url, args.panels, probes_wanted)
            floor = measure_floor(args, ports, panel_addresses, workdir)
            stream = f"FG_E2E_{uuid.uuid4().hex[:8].upper()}"
            base, gb_port = start_services(args, url, stream, ports, workdir, children)
            if args.event_log == "jetstream":
                last_offset, close_log = jetstream_last_offset(args.nats, stream)
            else:
                last_offset, close_log = database_last_offset(url)
            closers.append(close_log)
            feed_out = start_sse(
                base, "/api/v1/alarms/feed", workdir / "feed.jsonl", workdir, children
            )
            sampler = LagSampler(url, args.event_log, last_offset)
            closers.append(sampler.stop)
            book = ProbeBook()
            marks: list[SelfCpu] = [SelfCpu()]
            nats_pid = nats_server_pid(args.nats) if args.event_log == "jetstream" else None
            if nats_pid is not None:
                with contextlib.suppress(Exception):
                    marks.append(ExternalCpu("nats_server (shared)", nats_pid))

            def mark_all() -> None:
                for child in children:
                    child.mark()
                for other in marks:
                    other.mark()

            window: dict[str, int] = {}

            def on_start() -> None:
                window["log_start"] = last_offset()
                mark_all()

            def on_end() -> None:
                mark_all()
                window["log_end"] = last_offset()
                window["ended_at"] = int(time.time() * 1000)

            async def go() -> tuple[DriveResult, bool, int, int]:
                counters = Counters()
                panels = await connect(gb_port, panel_addresses, counters)
                probes = await connect(gb_port, probe_addresses, counters)
                tags = TagClock()
                for conn in [*panels, *probes]:  # every transmitter says hello (online)
                    conn.send_heartbeat(tags.now())
                await settle([*panels, *probes], 60)
                await asyncio.to_thread(wait_caught_up, sampler, 60)
                sampler.start()
                result = await drive(
                    panels,
                    probes,
                    rate=args.rate,
                    duration_s=args.duration,
                    probe_rate=args.probe_rate,
                    book=book,
                    on_start=on_start,
                    on_end=on_end,
                )
                settled = await settle([*panels, *probes], 30)
                unconfirmed = sum(len(c.in_flight) for c in [*panels, *probes])
                for conn in [*panels, *probes]:
                    if conn.transport is not None:
                        conn.transport.close()
                return result, settled, unconfirmed, counters.downlink

            result, settled, unconfirmed, downlink = run_uv(go())
            ended = window["ended_at"] / 1000
            caught_up_s = wait_caught_up(sampler, args.drain_timeout)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                read_feed(feed_out, book)
                if len(book.seen_at) >= len(book.sent_at):
                    break
                time.sleep(0.2)
            sampler.stop()
            feed_counts = read_feed(feed_out, book)
            for child in reversed(children):
                child.stop()
    finally:
        tear_down(children, closers, workdir, keep=args.keep)
    lags = lag_seconds(sampler.samples)
    frames = result.frames_confirmed
    cpu = {child.name: per_event_us(child.cpu_s(), frames) for child in children}
    cpu.update({other.name: per_event_us(other.cpu_s(), frames) for other in marks})
    ingest_split = next((c.thread_split_s() for c in children if c.name == "ingest"), None)
    return {
        "probes": book.summary(),
        "correlator_lag_s": round(max(lags), 2) if lags else None,
        "cpu_us_per_event": cpu,
        "ingest_threads_us_per_event": (
            {name: per_event_us(value, frames) for name, value in ingest_split.items()}
            if ingest_split
            else None
        ),
        "floor": floor,
        "correlator": {
            "peak_lag_s": round(max(lags), 2) if lags else None,
            "lag_at_end_of_sending_s": round(
                next(
                    (
                        lag
                        for (at, _, _), lag in zip(sampler.samples, lags, strict=True)
                        if at >= ended
                    ),
                    0.0,
                ),
                2,
            ),
            "caught_up_after_end_s": caught_up_s,
            "samples": len(lags),
        },
        "load": {
            "rate_target_per_s": args.rate,
            "duration_s": args.duration,
            "frames_offered": result.offered,
            "frames_confirmed": frames,
            "frames_per_s": round(frames / result.elapsed_s, 1),
            "backlog_not_offered": result.backlog,
            "unconfirmed_at_end": unconfirmed,
            "all_confirmed": settled,
            "downlink_commands_skipped": downlink,
            "log_events": window.get("log_end", 0) - window.get("log_start", 0),
            "panels": args.panels,
            "probe_rate_per_s": args.probe_rate,
            "feed_entries": feed_counts,
        },
        "cpu_s": {
            **{child.name: child.cpu_s() for child in children},
            **{other.name: other.cpu_s() for other in marks},
        },
        "setup": {
            "database": "postgresql" if args.db else "sqlite",
            "event_log": args.event_log,
            "command": " ".join(["python", "bench/bench_e2e.py", *sys.argv[1:]]),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }


def wait_caught_up(sampler: LagSampler, timeout_s: float) -> float | None:
    """Wait until the alarms consumer has handled everything logged; the seconds it took
    (None if it did not within ``timeout_s``)."""
    began = time.monotonic()
    target = sampler.last_offset()
    while time.monotonic() - began < timeout_s:
        if sampler.consumed() >= target:
            return round(time.monotonic() - began, 2)
        time.sleep(0.1)
    return None


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--floor-server":
        floor_server(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="frames/s offered in total")
    parser.add_argument("--duration", type=float, default=20, help="seconds of measured load")
    parser.add_argument(
        "--db", default=None, help="PostgreSQL server URL (a database is made and dropped)"
    )
    parser.add_argument("--event-log", choices=["database", "jetstream"], default="database")
    parser.add_argument("--nats", default=DEFAULT_NATS_URL, help="NATS URL (jetstream)")
    parser.add_argument("--ports", default=None, help="port range A-B for the listeners")
    parser.add_argument("--panels", type=int, default=200, help="background transmitters")
    parser.add_argument("--probe-rate", type=float, default=2.0, help="probe fire alarms/s")
    parser.add_argument("--floor-duration", type=float, default=None, help="default min(10, S)")
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=None, help="whole run (s)")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, feed)")
    args = parser.parse_args()
    if args.floor_duration is None:
        args.floor_duration = min(10.0, args.duration)
    limit = args.timeout or (args.duration + args.floor_duration + args.drain_timeout + 240)

    result = within_time_limit("bench_e2e", limit, lambda: run(args))
    print(json.dumps(result, indent=None if args.json else 2, ensure_ascii=False))


if __name__ == "__main__":
    main()
