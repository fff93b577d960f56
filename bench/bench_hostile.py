"""Benchmark ingest under hostile conditions (issue #24).

    python bench/bench_hostile.py flood --devices 1000 --duration 20 --flood-bps 1000000
    python bench/bench_hostile.py restart --devices 21000 --postgres --runs 3

``flood``: 1,000 well-behaved GB/T 26875.3 transmitters (one frame per second each, every
frame waiting for its CONFIRM) against ``firegrid ingest run``, first alone, then while one
peer sends ``--flood-bps`` bytes/s of '@' (reconnecting whenever the server cuts it off, as
an attacker would). Prints the devices' confirm latency (send → CONFIRM received) of both
phases, from the same run, and what the flood achieved. Target: p99 ≤ 100 ms under the flood.

``restart``: a registry of ``--devices`` devices (the demo city has ~21,000) with stored device
state and a log whose last seconds were never flushed into the state (as after a crash);
starts ``firegrid ingest run``, kills it with SIGKILL once ready, and starts it again,
``--runs`` times. Prints the time from spawn to the ``{"ready"}`` line and the process's own
breakdown of its start (``startup_s``). Target: ≤ 2 s.

The load generator runs in this process; the machine's other core runs ingest. Synthetic
devices and events (``SIM-*``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench_ingest import (
    IngestProcess,
    bench_database,
    free_port,
    pctl,
    raise_fd_limit,
    run_load,
    run_uv,
)
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.state import write_state_rows
from firegrid.ingest.events import Component, DeviceEvent, EventKind, make_event_id
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.models import EventConsumer
from firegrid.ingest.service import STATE_CONSUMER
from firegrid.ingest.simulate import register_devices

# ---------------------------------------------------------------------------------------------
# flood


class FloodStats:
    def __init__(self) -> None:
        self.bytes_sent = 0
        self.connections = 0
        self.cut_off = 0


async def flood(port: int, bytes_per_s: float, until: float, stats: FloodStats) -> None:
    """Send '@' at ``bytes_per_s`` on one connection; reconnect when the server closes it."""
    chunk = b"@" * 8192
    step = len(chunk) / bytes_per_s
    writer: asyncio.StreamWriter | None = None
    next_at = time.perf_counter()
    while time.perf_counter() < until:
        if writer is None or writer.is_closing():
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            stats.connections += 1
        try:
            writer.write(chunk)
            # a server that reads slowly pushes back: give up at the end of the phase
            await asyncio.wait_for(writer.drain(), max(0.05, until - time.perf_counter()))
            stats.bytes_sent += len(chunk)
        except TimeoutError:
            break
        except (ConnectionError, OSError):
            stats.cut_off += 1
            writer.close()
            writer = None
        next_at += step
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    if writer is not None:
        writer.close()


async def _flood_phase(
    port: int, addresses: list[int], args: argparse.Namespace, flood_bps: float
) -> dict[str, Any]:
    stats = FloodStats()
    started = time.perf_counter()
    until = started + 2.0 + args.duration  # the load's warm-up + measured seconds
    task = asyncio.create_task(flood(port, flood_bps, until, stats)) if flood_bps > 0 else None
    result = await run_load(
        port,
        addresses,
        rate=args.rate,
        duration_s=args.duration,
        window=1,
        objects=1,
    )
    if task is not None:
        await task
    elapsed = time.perf_counter() - started
    result["flood"] = {
        "offered_bytes_per_s": flood_bps,
        "sent_bytes_per_s": round(stats.bytes_sent / elapsed),
        "connections_opened": stats.connections,
        "connections_cut_off": stats.cut_off,
    }
    return result


def bench_flood(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(65_536)
    with bench_database(args.postgres) as url:
        db = Database(url)
        addresses = [int(d.external_id) for d in register_devices(db, "gb26875", args.devices)]
        db.dispose()
        quiet, flooded, stopped = _flood_phases(url, addresses, args, None)
        compared = None
        if args.compare_src:
            compared = _flood_phases(url, addresses, args, args.compare_src)
    gb = stopped.get("gb26875", {})
    p99 = flooded["device_confirm_p99_ms"]
    return {
        "bench": "flood",
        "devices": args.devices,
        "rate_frames_per_s": args.rate,
        "measured_s": args.duration,
        "database": "postgresql" if args.postgres else "sqlite",
        "without_flood": _summary(quiet),
        "with_flood": _summary(flooded),
        "server": {
            key: gb.get(key)
            for key in ("connections", "frames", "confirms", "errors", "closed_bad_input")
        },
        "target_p99_ms": 100,
        "meets_target": p99 <= 100,
        "compared": None
        if compared is None
        else {
            "src": args.compare_src,
            "without_flood": _summary(compared[0]),
            "with_flood": _summary(compared[1]),
        },
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores (shared)",
    }


def _flood_phases(
    url: str, addresses: list[int], args: argparse.Namespace, src: str | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Both phases against one ingest process (from ``src`` when given)."""
    port = free_port()
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = src
    try:
        ingest = IngestProcess(url, "database", "unused", "--gb26875", f"127.0.0.1:{port}")
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        quiet = run_uv(_flood_phase(port, addresses, args, 0))
        flooded = run_uv(_flood_phase(port, addresses, args, args.flood_bps))
    finally:
        stopped = ingest.stop()
    return quiet, flooded, stopped


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "frames_sent",
        "frames_confirmed",
        "unconfirmed_at_end",
        "device_confirm_p50_ms",
        "device_confirm_p99_ms",
        "windows_100ms_over_50ms",
        "flood",
    )
    return {key: result[key] for key in keys}


# ---------------------------------------------------------------------------------------------
# restart


def _prepare_registry(url: str, devices: int, events: int, unflushed: int) -> dict[str, int]:
    """``devices`` registered devices with stored state, ``events`` logged events of which
    the last ``unflushed`` are not yet covered by the stored state."""
    db = Database(url)
    try:
        refs = register_devices(db, "gb26875", devices)
        rng = random.Random(7)
        now = utcnow()
        rows = []
        for device in refs:
            alarms = {f"1/1/42/{p}": "fault" for p in range(rng.choice((0, 0, 0, 2, 8)))}
            rows.append(
                {
                    "device_id": device.id,
                    "venue_id": device.venue_id,
                    "online": True,
                    "last_seen": now - timedelta(seconds=rng.randint(0, 600)),
                    "changed_at": now - timedelta(days=1),
                    "alarms": {},
                    "faults": alarms,
                    "battery_pct": None,
                    "signal_dbm": None,
                    "last_kind": "fault",
                }
            )
        for start in range(0, len(rows), 2000):
            write_state_rows(db, rows[start : start + 2000])
        log = DatabaseEventLog(db)

        async def append() -> int:
            await log.start()
            batch: list[DeviceEvent] = []
            for n in range(events):
                device = refs[n % len(refs)]
                batch.append(
                    DeviceEvent(
                        event_id=make_event_id("bench", device.external_id, n),
                        device_id=device.id,
                        external_id=device.external_id,
                        protocol="gb26875",
                        venue_id=device.venue_id,
                        jurisdiction_path=device.jurisdiction_path,
                        occurred_at=now,
                        received_at=now,
                        kind=EventKind.FAULT,
                        component=Component(
                            system_type=1,
                            system_address=1,
                            component_type=42,
                            component_address=n % 64,
                            description="bench",
                        ),
                        values={"status": 5},
                    )
                )
                if len(batch) == 5000:
                    await log.append_batch(batch)
                    batch = []
            if batch:
                await log.append_batch(batch)
            last = await log.last_offset()
            await log.consumer(STATE_CONSUMER).commit(max(0, last - unflushed))
            await log.close()
            return last

        last = asyncio.run(append())
        with db.session() as session:
            consumers = session.scalar(select(func.count()).select_from(EventConsumer)) or 0
        return {
            "devices": len(refs),
            "events": last,
            "unflushed": unflushed,
            "consumers": consumers,
        }
    finally:
        db.dispose()


def _start_until_ready(
    url: str, port: int, src: str | None = None, timeout_s: float = 180
) -> tuple[Any, float, float, dict[str, Any], Path]:
    """Spawn ``ingest run`` (from ``src`` when given: another checkout, for comparison);
    wall seconds and the process's CPU seconds to its ready line, the line, the output."""
    output = Path(tempfile.mkstemp(prefix="ingest-restart-", suffix=".log")[1])
    args = [
        sys.executable,
        "-m",
        "firegrid.ingest.cli",
        "run",
        "--db",
        url,
        "--gb26875",
        f"127.0.0.1:{port}",
    ]
    env = {**os.environ, "FIREGRID_LOG_LEVEL": "WARNING"}
    if src is not None:
        env["PYTHONPATH"] = src
    with output.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    process.started = time.perf_counter()  # type: ignore[attr-defined]
    ready_s, cpu_s, ready = _wait_for_line(process, output, '{"ready"', timeout_s)
    return process, ready_s, cpu_s, ready, output


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_line(
    process: Any, output: Path, prefix: str, timeout_s: float
) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds from spawn to the first output line starting with ``prefix``, CPU
    seconds of the process by then, and the line's body."""
    deadline = process.started + timeout_s
    while True:
        for line in output.read_text().splitlines():
            if line.startswith(prefix):
                wall_s = time.perf_counter() - process.started
                body: dict[str, Any] = next(iter(json.loads(line).values()))
                return wall_s, _cpu_s(process.pid), body
        if process.poll() is not None or time.perf_counter() > deadline:
            process.kill()
            raise RuntimeError(output.read_text()[-3000:])
        time.sleep(0.005)


def bench_restart(args: argparse.Namespace) -> dict[str, Any]:
    if args.url:  # a database prepared by an earlier run
        return _restart_runs(args, args.url, {"reused": args.url})
    with bench_database(args.postgres) as url:
        prepared = _prepare_registry(url, args.devices, args.events, args.unflushed)
        return _restart_runs(args, url, prepared)


def _one_start(url: str, port: int, src: str | None) -> dict[str, Any]:
    process, ready_s, cpu_s, ready, output = _start_until_ready(url, port, src)
    run: dict[str, Any] = {
        "spawn_to_ready_s": round(ready_s, 3),
        "cpu_to_ready_s": round(cpu_s, 3),
        "in_process_to_ready_s": ready.get("startup_s", {}).get("total"),
    }
    if src is None:  # this checkout also reports when device state has caught up
        state_s, state_cpu_s, state = _wait_for_line(process, output, '{"state_ready"', 180)
        run.update(
            spawn_to_state_ready_s=round(state_s, 3),
            cpu_to_state_ready_s=round(state_cpu_s, 3),
            startup_s=state.get("startup_s"),
            startup_counts=state.get("counts"),
        )
    process.send_signal(signal.SIGKILL)
    process.wait()
    output.unlink()
    return run


def _restart_runs(args: argparse.Namespace, url: str, prepared: dict[str, Any]) -> dict[str, Any]:
    port = free_port()
    floor = _import_floor()
    _one_start(url, port, None)  # the first start writes the registry snapshot; then killed
    runs, compared = [], []
    for _ in range(args.runs):  # interleaved, so both see the same load on a shared machine
        runs.append(_one_start(url, port, None))
        if args.compare_src:
            compared.append(_one_start(url, port, args.compare_src))
    worst = max(r["spawn_to_ready_s"] for r in runs)
    result: dict[str, Any] = {
        "bench": "restart",
        "database": "postgresql" if args.postgres or url.startswith("postgresql") else "sqlite",
        "prepared": prepared,
        "interpreter_and_imports": floor,
        "restarts_after_sigkill": runs,
        "ready_s_median": pctl([r["spawn_to_ready_s"] for r in runs], 0.5),
        "ready_cpu_s_median": pctl([r["cpu_to_ready_s"] for r in runs], 0.5),
        "state_ready_s_median": pctl([r["spawn_to_state_ready_s"] for r in runs], 0.5),
        "ready_s_worst": worst,
        "target_s": 2.0,
        "meets_target": worst <= 2.0,
        "load_average": os.getloadavg(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores (shared)",
    }
    if compared:
        result["compared"] = {
            "src": args.compare_src,
            "restarts_after_sigkill": compared,
            "ready_s_median": pctl([r["spawn_to_ready_s"] for r in compared], 0.5),
            "ready_cpu_s_median": pctl([r["cpu_to_ready_s"] for r in compared], 0.5),
        }
    return result


def _import_floor() -> dict[str, float]:
    """Wall and CPU seconds of starting Python and importing what ``ingest run`` needs: the
    part of a restart no change to the start-up itself can remove."""
    code = (
        "import firegrid.ingest.cli, firegrid.ingest.service, firegrid.ingest.log_db, "
        "firegrid.ingest.adapters.gb26875.server, uvloop"
    )
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(time.perf_counter() - started, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="bench", required=True)
    fl = sub.add_parser("flood", help="confirm latency of 1,000 devices with and without a flood")
    fl.add_argument("--devices", type=int, default=1000)
    fl.add_argument("--rate", type=float, default=1000.0, help="frames/s, all devices")
    fl.add_argument("--duration", type=float, default=20.0)
    fl.add_argument("--flood-bps", type=float, default=1_000_000.0)
    fl.add_argument("--postgres", action="store_true")
    fl.add_argument(
        "--compare-src", help="also run another checkout's src/ (e.g. the main branch's)"
    )
    rs = sub.add_parser("restart", help="time from spawn to ready after SIGKILL")
    rs.add_argument("--devices", type=int, default=21_000)
    rs.add_argument("--events", type=int, default=200_000)
    rs.add_argument("--unflushed", type=int, default=20_000)
    rs.add_argument("--runs", type=int, default=3)
    rs.add_argument("--postgres", action="store_true")
    rs.add_argument("--url", help="reuse a database prepared before (skips preparing one)")
    rs.add_argument(
        "--compare-src", help="also time another checkout's src/ (e.g. the main branch's)"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        result = bench_flood(args) if args.bench == "flood" else bench_restart(args)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
