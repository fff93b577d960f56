"""The correlator under load, *not* device → alarm: events appended by this bench → feed.

What this measures, and what it does not:

- There are no devices, no TCP, no GB/T 26875.3 codec, no ingest process and no JetStream:
  this process makes :class:`DeviceEvent` values itself, stamps ``received_at`` itself and
  appends them straight to the *database* event log (``DatabaseEventLog``, group commit).
- The correlator is ``firegrid alarms run`` in a subprocess (or, with ``--in-process``, in
  this process); the API (``uvicorn``) serves ``GET /api/v1/alarms/feed`` and polls
  ``alarm_feed`` every 50 ms; an SSE client subprocess records, for every fire alarm feed
  entry, ``arrival − received_at`` of the earliest event that caused it.
- So the latency printed is *log append → correlator → feed → SSE client*; ingest's decode,
  device state and confirm are outside it. For device → live feed over the real path, use
  ``bench/bench_e2e.py``.
- The mix is 85 % analog values, which raise no alarm; fire alarms are 0.25 %, at random
  venues of a synthetic city (so some fold into one venue's open alarm).

``--drain N`` measures only the correlator's throughput, in this process, on N events
appended to the log beforehand (log read and correlation time per event).

Usage::

    python bench/bench_alarms.py --rate 5000 --duration 30 [--db postgresql://...] [--json]
    python bench/bench_alarms.py --drain 40000 --batch 1000    # correlator throughput alone
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import Settings
from firegrid.ingest.events import Component, DeviceEvent, EventKind

K = EventKind
#: The sustained mix (heartbeats are not events: they only update device state). Analog
#: values dominate (electrical monitoring, sprinkler pressure); faults come and go; fire
#: alarms are rare but are what the latency is measured on. ``--storm-mix`` multiplies
#: the fault share by ten.
MIX: list[tuple[EventKind, float]] = [
    (K.ANALOG_VALUE, 0.85),
    (K.FEEDBACK, 0.05),
    (K.FAULT, 0.04),
    (K.FAULT_CLEARED, 0.03),
    (K.OFFLINE, 0.01),
    (K.ONLINE, 0.01),
    (K.LOW_BATTERY, 0.005),
    (K.SUPERVISORY, 0.0025),
    (K.FIRE_ALARM, 0.0025),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_city(
    db: Database, venues: int, per_venue: int
) -> tuple[list[tuple[int, str]], list[tuple[int, int, str]]]:
    """A city with one town, 4 villages, 20 grids, ``venues`` venues and their devices."""
    from firegrid.devices.models import Device
    from firegrid.places.models import Jurisdiction, Venue

    with db.session() as session:
        city = Jurisdiction(
            code="800000",
            level="city",
            path="/800000/",
            name_zh="基准市",
            name_en="Bench city",
            center_lon=113.7,
            center_lat=23.0,
        )
        session.add(city)
        session.flush()
        town = Jurisdiction(
            code="800000001",
            level="town",
            parent_id=city.id,
            path="/800000/800000001/",
            name_zh="镇",
            name_en="Town",
            center_lon=113.7,
            center_lat=23.0,
        )
        session.add(town)
        session.flush()
        grids = []
        for v in range(4):
            village = Jurisdiction(
                code=f"800000001{v:03d}",
                level="village",
                parent_id=town.id,
                path=f"{town.path}800000001{v:03d}/",
                name_zh="村",
                name_en="Village",
                center_lon=113.7,
                center_lat=23.0,
            )
            session.add(village)
            session.flush()
            for g in range(5):
                code = f"800000001{v:03d}{g:02d}"
                grid = Jurisdiction(
                    code=code,
                    level="grid",
                    parent_id=village.id,
                    path=f"{village.path}{code}/",
                    name_zh="网格",
                    name_en="Grid",
                    center_lon=113.7,
                    center_lat=23.0,
                )
                session.add(grid)
                session.flush()
                grids.append(grid)
        rng = random.Random(1)
        categories = ["factory", "small_shop", "rental_housing", "hotel", "restaurant"]
        session.execute(
            insert(Venue),
            [
                {
                    "code": f"BV{n}",
                    "name": f"bench venue {n}",
                    "lon": 113.7,
                    "lat": 23.0,
                    "jurisdiction_id": grids[n % len(grids)].id,
                    "jurisdiction_path": grids[n % len(grids)].path,
                    "category": rng.choice(categories),
                    "tags": ["night_occupied"] if n % 7 == 0 else [],
                }
                for n in range(venues)
            ],
        )
        venue_rows = session.execute(select(Venue.id, Venue.jurisdiction_path)).all()
        kinds = ["smoke_alarm", "transmitter", "sprinkler_pressure", "electrical_monitor"]
        session.execute(
            insert(Device),
            [
                {
                    "code": f"BD{vid}-{d}",
                    "kind": kinds[d % len(kinds)],
                    "protocol": "http",
                    "external_id": f"BX{vid}-{d}",
                    "venue_id": vid,
                    "jurisdiction_path": path,
                }
                for vid, path in venue_rows
                for d in range(per_venue)
            ],
        )
        device_rows = session.execute(
            select(Device.id, Device.venue_id, Device.jurisdiction_path)
        ).all()
    return (
        [(int(v), str(p)) for v, p in venue_rows],
        [(int(d), int(v), str(p)) for d, v, p in device_rows],
    )


def admin_token(db: Database, settings: Settings) -> str:
    from firegrid.accounts.models import User
    from firegrid.accounts.principal import system_principal
    from firegrid.accounts.service import create_user
    from firegrid.accounts.sessions import start_token_session

    with db.session() as session:
        user, _ = create_user(
            session,
            system_principal("bench"),
            username="bench_operator",
            role="monitor_operator",
            scope_code="800000001",
            password="bench-password-123",
        )
        session.flush()
        found = session.get(User, user.id)
        assert found is not None
        return start_token_session(session, settings, found).access_token


API_SERVER = """
import sys, uvicorn
from firegrid.api.app import create_app
from firegrid.core.settings import Settings
settings = Settings(env="test", database_url=sys.argv[1], data_dir=sys.argv[2],
                    access_token_ttl_s=3600)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning")
"""

SSE_CLIENT = """
import json, sys, time
from datetime import datetime
import httpx
url, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
lat = []
with open(out, "w") as handle:
    with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client:
        with client.stream("GET", url, headers={"Authorization": "Bearer " + token}) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    now = time.time()
                    data = json.loads(line[6:])
                    ref = data.get("latency_ref")
                    if ref and data.get("kind") == "fire":
                        ms = (now - datetime.fromisoformat(ref).timestamp()) * 1000
                        handle.write(json.dumps([data["type"], round(ms, 3), now]) + "\\n")
                        handle.flush()
"""


def make_event(
    rng: random.Random, devices: list[tuple[int, int, str]], n: int, now: datetime
) -> DeviceEvent:
    roll = rng.random()
    kind = K.ANALOG_VALUE
    acc = 0.0
    for candidate, share in MIX:
        acc += share
        if roll < acc:
            kind = candidate
            break
    device_id, venue_id, path = devices[rng.randrange(len(devices))]
    values: dict[str, Any] = {}
    if kind is K.ANALOG_VALUE:
        values = {"pressure_mpa": round(rng.uniform(0.2, 0.6), 3)}
    return DeviceEvent(
        event_id=f"bench:{n}",
        device_id=device_id,
        external_id=f"d{device_id}",
        protocol="http",
        venue_id=venue_id,
        jurisdiction_path=path,
        occurred_at=now,
        received_at=now,
        kind=kind,
        # a device reports on a handful of components (detectors, modules) in two loops
        component=Component(
            system_type=1,
            system_address=1,
            component_type=30,
            component_address=rng.randrange(8),
            loop=rng.randrange(2),
        ),
        values=values,
    )


async def produce(
    db: Database,
    settings: Settings,
    devices: list[tuple[int, int, str]],
    rate: float,
    duration_s: float,
    stats: dict[str, Any],
    in_process: bool = False,
) -> None:
    from firegrid.alarms.consumer import run_alarm_services
    from firegrid.ingest.log_db import DatabaseEventLog

    log = DatabaseEventLog(db)
    await log.start()
    stop = asyncio.Event()
    services = (
        asyncio.create_task(
            run_alarm_services(db, settings, stop, event_log=log, timer_interval_s=1.0)
        )
        if in_process
        else None
    )
    rng = random.Random(7)
    tick_s = 0.01
    per_tick = rate * tick_s
    n = 0
    owed = 0.0
    began = time.perf_counter()
    pending: set[asyncio.Task[None]] = set()
    while (elapsed := time.perf_counter() - began) < duration_s:
        owed += per_tick
        count = int(owed)
        owed -= count
        now = datetime.now(UTC)
        batch = [make_event(rng, devices, n + i, now) for i in range(count)]
        n += count
        if batch:
            task = asyncio.create_task(log.append_batch(batch))
            pending.add(task)
            task.add_done_callback(pending.discard)
        next_tick = began + (elapsed // tick_s + 1) * tick_s
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    if pending:
        await asyncio.gather(*pending)
    stats["sent"] = n
    stats["send_elapsed_s"] = round(time.perf_counter() - began, 2)
    # let the correlator catch up
    from firegrid.alarms.models import ConsumerState

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.session() as session:
            state = session.get(ConsumerState, "alarms")
            if state is not None and state.events >= n:
                break
        await asyncio.sleep(0.1)
    stats["caught_up_after_s"] = round(time.perf_counter() - began - duration_s, 2)
    await asyncio.sleep(0.5)
    stop.set()
    if services is not None:
        await services
    await log.close()


def drain_throughput(
    db: Database, devices: list[tuple[int, int, str]], events: int, batch: int
) -> dict[str, Any]:
    """Correlator alone: events already in the log, read and handled in ``batch`` s."""
    from firegrid.alarms.consumer import AlarmConsumer
    from firegrid.alarms.directory import DatabaseDirectory
    from firegrid.alarms.service import Correlator
    from firegrid.ingest.log_db import DatabaseEventLog, read_database_log

    async def run() -> dict[str, Any]:
        log = DatabaseEventLog(db)
        await log.start()
        rng = random.Random(11)
        for start in range(0, events, 500):
            now = datetime.now(UTC)
            await log.append_batch([make_event(rng, devices, start + i, now) for i in range(500)])
        consumer = AlarmConsumer(db, log, Correlator(DatabaseDirectory()))
        settle_collector()  # as `alarms run` sets it
        offset, read_s, handle_s, count = 0, 0.0, 0.0, 0
        handle_cpu_s = 0.0  # this thread's CPU (the database server's is not counted)
        while True:
            t = time.perf_counter()
            rows = read_database_log(db, offset, batch)  # what the consumer reads with
            read_s += time.perf_counter() - t
            if not rows:
                break
            t, cpu = time.perf_counter(), time.thread_time()
            consumer.handle(rows)
            handle_s += time.perf_counter() - t
            handle_cpu_s += time.thread_time() - cpu
            offset = rows[-1].offset
            count += len(rows)
        await log.close()
        return {
            "events": count,
            "batch": batch,
            "read_us_per_event": round(read_s / count * 1e6, 1),
            "correlate_us_per_event": round(handle_s / count * 1e6, 1),
            "correlate_cpu_us_per_event": round(handle_cpu_s / count * 1e6, 1),
            "events_per_s": round(count / (read_s + handle_s)),
        }

    return asyncio.run(run())


def fault_restore_events(
    devices: list[tuple[int, int, str]], events: int, panels: int, points: int
) -> list[DeviceEvent]:
    """Synthetic fault/restore traffic: ``panels`` panels of ``points`` points each, every
    event a random point going into fault (or, when it is in fault, being restored)."""
    rng = random.Random(13)
    in_fault: set[tuple[int, int]] = set()
    out: list[DeviceEvent] = []
    now = datetime.now(UTC)
    for n in range(events):
        panel = rng.randrange(panels)
        point = rng.randrange(points)
        device_id, venue_id, path = devices[panel]
        restored = (panel, point) in in_fault
        (in_fault.discard if restored else in_fault.add)((panel, point))
        out.append(
            DeviceEvent(
                event_id=f"bench-fr:{n}",
                device_id=device_id,
                external_id=f"d{device_id}",
                protocol="http",
                venue_id=venue_id,
                jurisdiction_path=path,
                occurred_at=now,
                received_at=now,
                kind=K.FAULT_CLEARED if restored else K.FAULT,
                component=Component(
                    system_type=1,
                    system_address=1,
                    component_type=30,
                    component_address=point,
                    loop=0,
                ),
            )
        )
    return out


def fault_restore_cpu(
    db: Database,
    devices: list[tuple[int, int, str]],
    events: int,
    batch: int,
    panels: int = 200,
    points: int = 256,
) -> dict[str, Any]:
    """``--workload fault-restore``: the correlator's CPU per event on fault/restore traffic
    (the correlator's own process CPU around each batch, log read excluded), reported for
    the first 20,000 events and for all of them, with the CPU of the last batches."""
    from firegrid.alarms.consumer import AlarmConsumer
    from firegrid.alarms.directory import DatabaseDirectory
    from firegrid.alarms.service import Correlator
    from firegrid.ingest.log_db import DatabaseEventLog, read_database_log

    async def fill() -> DatabaseEventLog:
        log = DatabaseEventLog(db)
        await log.start()
        stream = fault_restore_events(devices, events, panels, points)
        for start in range(0, len(stream), 500):
            await log.append_batch(stream[start : start + 500])
        await log.close()
        return log

    log = asyncio.run(fill())
    consumer = AlarmConsumer(db, log, Correlator(DatabaseDirectory()))
    settle_collector()  # as `alarms run` sets it
    offset, count, cpu_s = 0, 0, 0.0
    marks: dict[int, float] = {}
    batch_cpu: list[float] = []
    while True:
        rows = read_database_log(db, offset, batch)
        if not rows:
            break
        t = time.process_time()
        consumer.handle(rows)
        spent = time.process_time() - t
        cpu_s += spent
        batch_cpu.append(spent)
        offset = rows[-1].offset
        count += len(rows)
        marks[count] = cpu_s
    first = min((n for n in marks if n >= min(20_000, count)), default=count)
    return {
        "workload": "fault-restore",
        "events": count,
        "panels": panels,
        "points_per_panel": points,
        "batch": batch,
        "events_per_cpu_s_first_20000": round(first / marks[first]) if first else None,
        "events_per_cpu_s_all": round(count / cpu_s) if cpu_s else None,
        "cpu_s_first_batch": round(batch_cpu[0], 3) if batch_cpu else None,
        "cpu_s_last_batch": round(batch_cpu[-1], 3) if batch_cpu else None,
        "cpu_s_total": round(cpu_s, 2),
    }


def settle_collector() -> None:
    """The cycle collector as the services set it (``core.collector``; the same settings
    when an older tree without that module is measured)."""
    try:
        from firegrid.core.collector import settle_for_service
    except ImportError:  # code from before the module: apply its settings here
        gc.freeze()
        gc.set_threshold(20_000, *gc.get_threshold()[1:])
        return
    settle_for_service()


def quantile(values: list[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--venues", type=int, default=2000)
    parser.add_argument("--devices-per-venue", type=int, default=5)
    parser.add_argument("--db", default=None, help="Database URL (default: a temp SQLite file)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--drain",
        type=int,
        default=0,
        help="Only measure the correlator's throughput on N events already in the log.",
    )
    parser.add_argument("--batch", type=int, default=1000, help="Batch size for --drain.")
    parser.add_argument(
        "--workload",
        choices=["mixed", "fault-restore"],
        default="mixed",
        help="With --drain: the mixed stream, or panels' points going into fault and "
        "being restored (the correlator's CPU per event as open alarms grow).",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="Correlate in the producer's process (`firegrid ingest run` wired with "
        "run_alarm_services) instead of a separate `firegrid alarms run` process.",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-alarms-"))
    url = args.db or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    settings = Settings(
        env="test", database_url=url, data_dir=workdir / "data", access_token_ttl_s=3600
    )
    db = Database(url)
    _, devices = build_city(db, args.venues, args.devices_per_venue)
    if args.drain:
        result = (
            fault_restore_cpu(db, devices, args.drain, args.batch)
            if args.workload == "fault-restore"
            else drain_throughput(db, devices, args.drain, args.batch)
        )
        result["measures"] = "correlator alone, in-process, on events already in the log"
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        result["command"] = " ".join(["python", "bench/bench_alarms.py", *sys.argv[1:]])
        print(json.dumps(result))
        db.dispose()
        return
    token = admin_token(db, settings)
    port = free_port()
    env = {**os.environ, "FIREGRID_LOG_LEVEL": "WARNING", "FIREGRID_ALARMS_FILE_CHANNELS": ""}
    api = subprocess.Popen(
        [sys.executable, "-c", API_SERVER, url, str(workdir / "data"), str(port)], env=env
    )
    out = workdir / "latencies.jsonl"
    client = None
    correlator = None
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        client = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SSE_CLIENT,
                f"http://127.0.0.1:{port}/api/v1/alarms/feed",
                token,
                str(out),
            ],
            env=env,
        )
        if not args.in_process:
            correlator = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from firegrid.alarms.cli import alarms_app; alarms_app()",
                    "run",
                    "--db",
                    url,
                    "--timer-interval",
                    "1",
                ],
                env=env,
            )
        time.sleep(1.5)
        stats: dict[str, Any] = {}
        began = time.time()
        asyncio.run(
            produce(db, settings, devices, args.rate, args.duration, stats, args.in_process)
        )
        time.sleep(1.0)
    finally:
        for process in (client, api, correlator):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    measured = [ms for _, ms, at in rows if at >= began + args.warmup]
    new_alarms = [ms for kind, ms, at in rows if at >= began + args.warmup and kind == "alarm.new"]
    from sqlalchemy import func

    from firegrid.alarms.models import Alarm, FeedEntry

    with db.session() as session:
        alarms = session.scalar(select(func.count()).select_from(Alarm))
        feed = session.scalar(select(func.count()).select_from(FeedEntry))
    db.dispose()
    result = {
        "measures": "bench-appended events (no device, TCP, codec or ingest) → database log "
        "→ correlator → alarm feed → SSE client; latency from the bench's own received_at",
        "command": " ".join(["python", "bench/bench_alarms.py", *sys.argv[1:]]),
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "correlator": "in the ingest process" if args.in_process else "separate process",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rate_target_per_s": args.rate,
        "duration_s": args.duration,
        "events_sent": stats.get("sent"),
        "achieved_rate_per_s": round(stats.get("sent", 0) / stats.get("send_elapsed_s", 1), 1),
        "correlator_caught_up_after_s": stats.get("caught_up_after_s"),
        "alarms": alarms,
        "feed_entries": feed,
        "fire_feed_entries_measured": len(measured),
        "latency_ms": {
            "p50": round(quantile(measured, 0.5), 1),
            "p90": round(quantile(measured, 0.9), 1),
            "p99": round(quantile(measured, 0.99), 1),
            "max": round(max(measured), 1) if measured else None,
        },
        "new_alarm_latency_ms": {
            "count": len(new_alarms),
            "p50": round(quantile(new_alarms, 0.5), 1),
            "p99": round(quantile(new_alarms, 0.99), 1),
        },
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
