"""Benchmark device ingest: GB/T 26875.3 over TCP, idle connections, MQTT, HTTP push.

The ingest process is ``firegrid ingest run`` (a subprocess, uvloop); the load generator runs
in this process (the other core). Results print as JSON.

    python bench/bench_ingest.py tcp --event-log database --duration 20
    python bench/bench_ingest.py tcp --event-log jetstream --postgres --duration 60 --rate 10000
    python bench/bench_ingest.py idle --connections 19000
    python bench/bench_ingest.py mqtt --duration 10
    python bench/bench_ingest.py http --duration 10

``tcp`` offers frames at ``--rate`` per second (0 = as fast as confirms allow), each frame
one type-2 component status (one event), over ``--connections`` transmitters with at most
``--window`` unconfirmed frames each, and reports confirmed events/s and the confirm latency
seen by the devices (send → confirm received) and by the server (frame read → confirm
written, which includes waiting for the durable append).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from firegrid.core.clock import CHINA_TZ
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.ingest.simulate import (
    SimOptions,
    ensure_integration,
    register_devices,
    simulate_http,
    simulate_mqtt,
)

PG_ADMIN = os.environ.get(
    "FIREGRID_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except ValueError:
        return soft
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def pctl(samples: list[float], q: float) -> float:
    if not samples:
        return 0.0
    samples = sorted(samples)
    return round(samples[min(len(samples) - 1, int(q * len(samples)))], 3)


@contextmanager
def bench_database(postgres: bool) -> Iterator[str]:
    if postgres:
        name = f"firegrid_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url


class ProcessCpu:
    """User + system CPU seconds of a process between two :meth:`mark` calls."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.marks: list[float] = []

    def mark(self) -> None:
        times = self.process.cpu_times()
        self.marks.append(times.user + times.system)

    def per_item_us(self, items: int) -> float | None:
        if len(self.marks) < 2 or items <= 0:
            return None
        return round((self.marks[-1] - self.marks[0]) / items * 1e6, 1)


class IngestProcess:
    """``firegrid ingest run`` in a subprocess."""

    def __init__(
        self,
        db_url: str,
        event_log: str,
        stream: str,
        *adapter_args: str,
        nats_url: str = DEFAULT_NATS_URL,
    ) -> None:
        self.output = Path(tempfile.mkstemp(prefix="ingest-", suffix=".log")[1])
        self.args = [
            sys.executable,
            "-m",
            "firegrid.ingest.cli",
            "run",
            "--db",
            db_url,
            "--event-log",
            event_log,
            "--stream",
            stream,
            "--idle-timeout",
            "3600",
            *adapter_args,
        ]
        env = {**os.environ, "FIREGRID_LOG_LEVEL": "WARNING", "FIREGRID_NATS_URL": nats_url}
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_fd_limit
            )
        deadline = time.time() + 60
        while '{"ready"' not in self.output.read_text():
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError(self.output.read_text()[-3000:])
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        for line in self.output.read_text().splitlines():
            if line.startswith('{"stopped"'):
                stopped: dict[str, Any] = json.loads(line)["stopped"]
                return stopped
        return {"log_tail": self.output.read_text()[-2000:]}


def _fd_limit() -> None:
    raise_fd_limit(1_100_000)


def delete_stream(name: str, nats_url: str = DEFAULT_NATS_URL) -> None:
    async def run() -> None:
        import nats

        nc = await nats.connect(nats_url)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(name)
        await nc.close()

    asyncio.run(run())


# ---------------------------------------------------------------------------------------------
# GB/T 26875.3 load generator (hand-packed frames: cheaper than the codec's encoder)

_OBJECT = struct.Struct("<BBBIH31s6s")


def time_tag(now: float) -> bytes:
    local = datetime.fromtimestamp(now, UTC).astimezone(CHINA_TZ)
    return bytes(
        (local.second, local.minute, local.hour, local.day, local.month, local.year - 2000)
    )


FAULT = 0x0005  # component status: normal operation + fault
RESTORED = 0x0001  # normal operation: the point is back to normal (a fault_cleared event)


def gb_frame(serial: int, source: int, points: list[tuple[int, int]], tag: bytes) -> bytes:
    """A send-data frame of type-2 component statuses, ``points`` = [(address, status)]."""
    adu = bytes((2, len(points))) + b"".join(
        _OBJECT.pack(1, 1, 42, p, status, b"bench", tag) for p, status in points
    )
    body = (
        struct.pack("<HBB", serial, 1, 1)
        + tag
        + source.to_bytes(6, "little")
        + bytes(6)
        + struct.pack("<HB", len(adu), 2)
        + adu
    )
    return b"@@" + body + bytes((sum(body) & 0xFF,)) + b"##"


class LoadStats:
    def __init__(self) -> None:
        self.sent = 0
        self.confirmed = 0
        self.events = 0
        self.latencies_ms: list[float] = []
        self.confirmed_at: list[float] = []  # perf_counter of each confirm (for the timeline)
        self.denied = 0


class Transmitter(asyncio.Protocol):
    def __init__(
        self, address: int, window: int, objects: int, stats: LoadStats, points: int = 0
    ) -> None:
        self.address = address
        self.window = window
        self.objects = objects
        self.points = points
        self.stats = stats
        self.serial = 0
        self.point = 0
        self.in_flight: dict[int, float] = {}
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.tag = b""
        self.tag_at = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def can_send(self) -> bool:
        return self.transport is not None and len(self.in_flight) < self.window

    def send(self, now: float) -> None:
        assert self.transport is not None
        second = int(now)
        if second != self.tag_at:
            self.tag, self.tag_at = time_tag(now), second
        self.serial = (self.serial + 1) & 0xFFFF
        points = [self.report(n) for n in range(self.point, self.point + self.objects)]
        self.point += self.objects
        self.in_flight[self.serial] = time.perf_counter()
        self.transport.write(gb_frame(self.serial, self.address, points, self.tag))
        self.stats.sent += 1

    def report(self, n: int) -> tuple[int, int]:
        """The ``n``-th point report: with ``points`` a panel of that many points whose
        points go into fault and are restored on alternate passes (active faults stay
        bounded, as on a real panel); without, a new point in fault every time."""
        if not self.points:
            return n, FAULT
        return n % self.points, FAULT if (n // self.points) % 2 == 0 else RESTORED

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        now = time.perf_counter()
        while len(buf) >= 30:
            serial = buf[2] | buf[3] << 8
            command = buf[26]
            del buf[:30]
            started = self.in_flight.pop(serial, None)
            if started is None:
                continue
            if command == 3:
                self.stats.confirmed += 1
                self.stats.events += self.objects
                self.stats.latencies_ms.append((now - started) * 1000)
                self.stats.confirmed_at.append(now)
            else:
                self.stats.denied += 1


async def run_load(
    port: int,
    addresses: list[int],
    *,
    rate: float,
    duration_s: float,
    window: int,
    objects: int,
    points: int = 0,
    warmup_s: float = 2.0,
    on_measure: Any = None,
) -> dict[str, Any]:
    """Offer frames, then report. ``on_measure`` is called at the start and at the end of
    the measured window (the caller samples the server's CPU time there)."""
    loop = asyncio.get_running_loop()
    stats = LoadStats()
    conns: list[Transmitter] = []
    for address in addresses:
        _, protocol = await loop.create_connection(
            lambda a=address: Transmitter(a, window, objects, stats, points), "127.0.0.1", port
        )
        conns.append(protocol)
    start = time.perf_counter()
    measured_from = start + warmup_s
    end = measured_from + duration_s
    offered = 0
    snapshot: tuple[int, int, int] | None = None
    index = 0
    step = 0.002
    while True:
        now = time.perf_counter()
        if snapshot is None and now >= measured_from:
            snapshot = (stats.events, stats.confirmed, len(stats.latencies_ms))
            if on_measure is not None:
                on_measure()
        if now >= end:
            if on_measure is not None:
                on_measure()
            break
        if rate > 0:
            due = int((now - start) * rate) - offered
        else:
            due = sum(window - len(c.in_flight) for c in conns)
        wall = time.time()
        tries = 0
        while due > 0 and tries < len(conns):
            conn = conns[index % len(conns)]
            index += 1
            if conn.can_send():
                conn.send(wall)
                due -= 1
                offered += 1
                tries = 0
            else:
                tries += 1
        if rate > 0 and due > 0:
            offered += due  # could not be offered: windows full (counted as backlog)
        await asyncio.sleep(step)
    assert snapshot is not None
    events = stats.events - snapshot[0]
    measured_frames = stats.confirmed - snapshot[1]
    latencies = stats.latencies_ms[snapshot[2] :]
    stalls = worst_windows(stats.confirmed_at[snapshot[2] :], latencies, measured_from)
    drain_deadline = time.perf_counter() + 10
    while any(c.in_flight for c in conns) and time.perf_counter() < drain_deadline:
        await asyncio.sleep(0.05)
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return {
        "connections": len(conns),
        "window": window,
        "objects_per_frame": objects,
        "points_per_panel": points or "unbounded",
        "offered_rate": rate or "closed-loop",
        "measured_s": duration_s,
        "_measured_frames": measured_frames,
        "events_per_s": round(events / duration_s, 1),
        "frames_sent": stats.sent,
        "frames_confirmed": stats.confirmed,
        "denied": stats.denied,
        "unconfirmed_at_end": sum(len(c.in_flight) for c in conns),
        "device_confirm_p50_ms": pctl(latencies, 0.5),
        "device_confirm_p99_ms": pctl(latencies, 0.99),
        "windows_100ms_over_50ms": stalls["over"],
        "worst_windows_100ms": stalls["worst"],
        "windows_over_50ms_at_s": stalls["over_at"],
    }


def worst_windows(
    confirmed_at: list[float], latencies_ms: list[float], origin: float
) -> dict[str, Any]:
    """Where the tail comes from: 100 ms windows (by confirm time) whose worst device
    latency exceeds 50 ms, and the five worst as ``[seconds into the run, worst ms]``."""
    worst: dict[int, float] = {}
    for at, latency in zip(confirmed_at, latencies_ms, strict=True):
        bucket = int((at - origin) * 10)
        if latency > worst.get(bucket, 0.0):
            worst[bucket] = latency
    top = sorted(worst.items(), key=lambda item: -item[1])[:5]
    return {
        "over": sum(1 for value in worst.values() if value > 50),
        "worst": [[bucket / 10, round(value, 1)] for bucket, value in top],
        "over_at": [bucket / 10 for bucket, value in sorted(worst.items()) if value > 50],
    }


def bench_tcp(args: argparse.Namespace) -> dict[str, Any]:
    stream = f"FG_BENCH_{uuid.uuid4().hex[:8].upper()}"
    with bench_database(args.postgres) as url:
        db = Database(url)
        devices = register_devices(db, "gb26875", args.connections)
        db.dispose()
        port = free_port()
        ingest = IngestProcess(
            url, args.event_log, stream, "--gb26875", f"127.0.0.1:{port}", nats_url=args.nats
        )
        cpu = ProcessCpu(ingest.pid)
        try:
            load = run_uv(
                run_load(
                    port,
                    [int(d.external_id) for d in devices],
                    rate=args.rate,
                    duration_s=args.duration,
                    window=args.window,
                    objects=args.objects,
                    points=args.points,
                    on_measure=cpu.mark,
                )
            )
            load["ingest_rss_mb"] = rss_mb(ingest.pid)
            load["ingest_cpu_us_per_frame"] = cpu.per_item_us(load.pop("_measured_frames"))
        finally:
            server = ingest.stop()
            if args.event_log == "jetstream":
                delete_stream(stream, args.nats)
    gb = server.get("gb26875", {})
    return {
        "bench": "gb26875-tcp",
        "database": "postgresql" if args.postgres else "sqlite",
        "event_log": args.event_log,
        **load,
        "server_confirm_p50_ms": gb.get("confirm_p50_ms"),
        "server_confirm_p99_ms": gb.get("confirm_p99_ms"),
        "server_counters": {k: gb.get(k) for k in ("frames", "confirms", "errors")},
    }


BEAT_TICK_S = 0.05


async def _beat_spread(conns: list[Transmitter], beat_s: float, end: float) -> None:
    """Every ``BEAT_TICK_S`` send the heartbeats of the next slice of ``conns`` so that each
    connection beats once per ``beat_s`` (from now until ``end``, on the perf clock)."""
    ticks = max(1, round(beat_s / BEAT_TICK_S))
    n = len(conns)
    start = time.perf_counter()
    k = 0
    while time.perf_counter() < end:
        now = time.time()
        phase = k % ticks
        for conn in conns[phase * n // ticks : (phase + 1) * n // ticks]:
            heartbeat(conn, now)
        k += 1
        await asyncio.sleep(max(0.0, start + k * BEAT_TICK_S - time.perf_counter()))


async def hold_idle(
    port: int,
    addresses: list[int],
    hold_s: float,
    beat_s: float,
    group: int = 0,
    burst: bool = False,
) -> dict[str, Any]:
    """Open one connection per address (source IPs 127.0.0.x to spread ephemeral ports),
    send a heartbeat every ``beat_s`` — spread over the period, or all at once with
    ``burst`` — and hold for ``hold_s``."""
    loop = asyncio.get_running_loop()
    stats = LoadStats()
    conns: list[Transmitter] = []
    failed = 0
    started = time.perf_counter()
    for i, address in enumerate(addresses):
        source = f"127.{1 + group}.{1 + i // 20000}.{1 + (i // 250) % 250}"
        try:
            _, protocol = await loop.create_connection(
                lambda a=address: Transmitter(a, 4, 1, stats),
                "127.0.0.1",
                port,
                local_addr=(source, 0),
            )
        except OSError:
            failed += 1
            continue
        conns.append(protocol)
        if i % 1000 == 999:
            await asyncio.sleep(0)
    connect_s = time.perf_counter() - started

    end = time.perf_counter() + hold_s
    if burst:  # worst case: every device beats in the same instant
        while True:
            now = time.time()
            for conn in conns:
                heartbeat(conn, now)
            if time.perf_counter() >= end:
                break
            await asyncio.sleep(min(beat_s, max(0.0, end - time.perf_counter())))
    else:  # as in the field: each device beats every beat_s at its own phase
        await _beat_spread(conns, beat_s, end)
    await asyncio.sleep(2)
    alive = sum(1 for c in conns if c.transport is not None and not c.transport.is_closing())
    result = {
        "connections_opened": len(conns),
        "connect_failures": failed,
        "connect_s": round(connect_s, 1),
        "alive_at_end": alive,
        "heartbeats_sent": stats.sent,
        "heartbeats_confirmed": stats.confirmed,
        "heartbeat_confirm_p99_ms": pctl(stats.latencies_ms, 0.99),
        "client_rss_mb": rss_mb(os.getpid()),
    }
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return result


def heartbeat(conn: Transmitter, now: float) -> None:
    """Type 21 transmitter status "normal": a heartbeat (state only, never a row)."""
    assert conn.transport is not None
    conn.serial = (conn.serial + 1) & 0xFFFF
    adu = bytes((21, 1, 0x01)) + time_tag(now)
    body = (
        struct.pack("<HBB", conn.serial, 1, 1)
        + time_tag(now)
        + conn.address.to_bytes(6, "little")
        + bytes(6)
        + struct.pack("<HB", len(adu), 2)
        + adu
    )
    conn.in_flight[conn.serial] = time.perf_counter()
    conn.transport.write(b"@@" + body + bytes((sum(body) & 0xFF,)) + b"##")
    conn.stats.sent += 1


def bench_idle(args: argparse.Namespace) -> dict[str, Any]:
    """Hold idle connections. One process per side is capped by RLIMIT_NOFILE (the hard
    limit here is 20,000 and cannot be raised without CAP_SYS_RESOURCE), so ``--processes N``
    runs N ingest processes sharing the port (SO_REUSEPORT) and N client processes."""
    processes = max(1, args.processes)
    limit = raise_fd_limit(args.connections + 1000)
    per_process = min(-(-args.connections // processes), limit - 1500)
    wanted = per_process * processes
    with bench_database(False) as url:
        db = Database(url)
        devices = register_devices(db, "gb26875", wanted)
        db.dispose()
        port = free_port()

        def sharing(n: int) -> list[str]:
            return ["--reuse-port", "--worker-id", str(n)] if processes > 1 else []

        ingests = [
            IngestProcess(url, "database", "unused", "--gb26875", f"127.0.0.1:{port}", *sharing(n))
            for n in range(processes)
        ]
        baseline = sum(rss_mb(i.pid) for i in ingests)
        addresses = [int(d.external_id) for d in devices]
        try:
            if processes == 1:
                results = [run_uv(hold_idle(port, addresses, args.hold, args.beat, 0, args.burst))]
                results[0]["ingest_rss_mb"] = rss_mb(ingests[0].pid)
            else:
                results = _idle_clients(port, addresses, processes, args, ingests)
        finally:
            servers = [i.stop() for i in ingests]
    alive = sum(r["alive_at_end"] for r in results)
    ingest_rss = results[0].pop("ingest_rss_mb")
    per_conn = (ingest_rss - baseline) * 1024 / max(1, alive)
    return {
        "bench": "idle-connections",
        "requested": args.connections,
        "processes_per_side": processes,
        "fd_limit_per_process": limit,
        "connections_opened": sum(r["connections_opened"] for r in results),
        "connect_failures": sum(r["connect_failures"] for r in results),
        "connect_s": max(r["connect_s"] for r in results),
        "alive_at_end": alive,
        "heartbeats_sent": sum(r["heartbeats_sent"] for r in results),
        "heartbeats_confirmed": sum(r["heartbeats_confirmed"] for r in results),
        "heartbeat_confirm_p99_ms": max(r["heartbeat_confirm_p99_ms"] for r in results),
        "ingest_rss_baseline_mb": round(baseline, 1),
        "ingest_rss_mb": round(ingest_rss, 1),
        "client_rss_mb": round(sum(r["client_rss_mb"] for r in results), 1),
        "ingest_kb_per_connection": round(per_conn, 2),
        "server_connections": [s.get("gb26875", {}).get("connections") for s in servers],
    }


def _idle_clients(
    port: int,
    addresses: list[int],
    processes: int,
    args: argparse.Namespace,
    ingests: list[IngestProcess],
) -> list[dict[str, Any]]:
    chunk = -(-len(addresses) // processes)
    children = []
    for n in range(processes):
        part = addresses[n * chunk : (n + 1) * chunk]
        spec = json.dumps(
            {
                "port": port,
                "addresses": part,
                "hold": args.hold,
                "beat": args.beat,
                "burst": args.burst,
            }
        )
        children.append(
            subprocess.Popen(
                [sys.executable, __file__, "idle-client", str(n)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                preexec_fn=_fd_limit,
            )
        )
        assert children[-1].stdin is not None
        children[-1].stdin.write(spec.encode())
        children[-1].stdin.close()
    ingest_rss = 0.0  # the peak while the clients hold their connections
    while any(child.poll() is None for child in children):
        ingest_rss = max(ingest_rss, sum(rss_mb(i.pid) for i in ingests))
        time.sleep(1.0)
    results = []
    for child in children:
        assert child.stdout is not None
        out = child.stdout.read()
        child.wait(timeout=600)
        results.append(json.loads(out))
    results[0]["ingest_rss_mb"] = ingest_rss
    return results


def idle_client(index: int) -> None:
    spec = json.loads(sys.stdin.read())
    result = run_uv(
        hold_idle(spec["port"], spec["addresses"], spec["hold"], spec["beat"], index, spec["burst"])
    )
    print(json.dumps(result))


def bench_mqtt(args: argparse.Namespace) -> dict[str, Any]:
    with bench_database(args.postgres) as url:
        db = Database(url)
        devices = register_devices(db, "mqtt", args.connections)
        client_id = f"firegrid-bench-{uuid.uuid4().hex[:6]}"
        ingest = IngestProcess(
            url,
            "database",
            "unused",
            "--mqtt",
            "mqtt://127.0.0.1:1883",
            "--mqtt-client-id",
            client_id,
        )
        try:
            options = SimOptions(
                target="127.0.0.1:1883",
                protocol="mqtt",
                count=len(devices),
                rate=args.rate or 3000,
                duration_s=args.duration,
                heartbeat_ratio=0.0,
            )
            stats = run_uv(simulate_mqtt(devices, options)).summary()
            time.sleep(3)
            stored = _count_events(db)
        finally:
            server = ingest.stop()
            db.dispose()
            run_uv(forget_mqtt_session(client_id))
    return {
        "bench": "mqtt",
        "offered_per_s": options.rate,
        "published": stats["sent"],
        "broker_acked": stats["confirmed"],
        "stored_events": stored,
        "stored_per_s": round(stored / args.duration, 1),
        "publish_p99_ms": stats["confirm_p99_ms"],
        "server": server.get("stats"),
    }


async def forget_mqtt_session(client_id: str) -> None:
    """Drop the persistent session so the broker stops queueing for it."""
    import aiomqtt

    async with aiomqtt.Client("127.0.0.1", 1883, identifier=client_id, clean_session=True):
        pass


def bench_http(args: argparse.Namespace) -> dict[str, Any]:
    with bench_database(args.postgres) as url:
        db = Database(url)
        devices = register_devices(db, "http", args.connections)
        secret = ensure_integration(db, "simulator")
        port = free_port()
        ingest = IngestProcess(url, "database", "unused", "--http", f"127.0.0.1:{port}")
        try:
            options = SimOptions(
                target=f"http://127.0.0.1:{port}",
                protocol="http",
                count=len(devices),
                rate=args.rate or 10000,
                duration_s=args.duration,
                heartbeat_ratio=0.0,
                http_batch=args.batch,
            )
            stats = run_uv(simulate_http(devices, options, secret)).summary()
            stored = _count_events(db)
        finally:
            ingest.stop()
            db.dispose()
    return {
        "bench": "http-push",
        "batch": args.batch,
        "offered_per_s": options.rate,
        "sent": stats["sent"],
        "confirmed_2xx": stats["confirmed"],
        "confirmed_per_s": stats["confirmed_per_s"],
        "stored_events": stored,
        "batch_p50_ms": stats["confirm_p50_ms"],
        "batch_p99_ms": stats["confirm_p99_ms"],
    }


def _count_events(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM device_events WHERE kind NOT IN ('online','offline')")
            ).scalar()
            or 0
        )


def run_uv(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="bench", required=True)
    tcp = sub.add_parser("tcp", help="GB/T 26875.3 events/s and confirm latency")
    tcp.add_argument("--event-log", choices=["database", "jetstream"], default="database")
    tcp.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    tcp.add_argument("--nats", default=DEFAULT_NATS_URL, help="NATS URL for --event-log jetstream")
    tcp.add_argument("--duration", type=float, default=10)
    tcp.add_argument("--rate", type=float, default=0, help="frames/s offered (0 = max)")
    tcp.add_argument("--connections", type=int, default=200)
    tcp.add_argument("--window", type=int, default=16)
    tcp.add_argument("--objects", type=int, default=1, help="objects (events) per frame")
    tcp.add_argument(
        "--points",
        type=int,
        default=256,
        help="points per panel, each faulted then restored on alternate passes "
        "(0 = every report a new point in fault: active faults grow without bound)",
    )
    idle = sub.add_parser("idle", help="idle connections with heartbeats, memory")
    idle.add_argument("--connections", type=int, default=100_000)
    idle.add_argument("--hold", type=float, default=30)
    idle.add_argument("--beat", type=float, default=10)
    idle.add_argument("--processes", type=int, default=1, help="process pairs (SO_REUSEPORT)")
    idle.add_argument(
        "--burst", action="store_true", help="all devices beat in the same instant (worst case)"
    )
    for name in ("mqtt", "http"):
        p = sub.add_parser(name, help=f"{name} ingest throughput")
        p.add_argument("--postgres", action="store_true")
        p.add_argument("--duration", type=float, default=10)
        p.add_argument("--rate", type=float, default=0)
        p.add_argument("--connections", type=int, default=100)
        p.add_argument("--batch", type=int, default=100)
    if len(sys.argv) > 2 and sys.argv[1] == "idle-client":
        idle_client(int(sys.argv[2]))
        return
    args = parser.parse_args()
    runners = {"tcp": bench_tcp, "idle": bench_idle, "mqtt": bench_mqtt, "http": bench_http}
    result = runners[args.bench](args)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
