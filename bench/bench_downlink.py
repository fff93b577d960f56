"""Benchmark the downlink: periodic polls of many transmitters, and a city-wide check post.

The ingest process is ``firegrid ingest run`` (a subprocess); the simulated transmitters
(``firegrid.ingest.simulate.GBClient`` with a ``DownlinkResponder``) run in this process.
Results print as JSON.

    python bench/bench_downlink.py poll --devices 10000 --period 60 --window 30
    python bench/bench_downlink.py checkpost --devices 1000 --operator-delay 1

``poll``: the target is "polling 10,000 transmitters every 2 h costs ≤ 5 % of one core". The
schedule is compressed (every device polled every ``--period`` s instead of 7200 s) and the
ingest process's CPU (utime + stime from /proc) is measured over ``--window`` s twice with
the same connected, otherwise idle transmitters: once with ``--no-downlink`` (the floor:
idle connections) and once with the downlink and the compressed schedule. The difference
divided by the polls answered in the window is the server-side CPU per poll (scheduling,
storing, sending, matching the answer, recording it; the database server's own CPU is not
included); times 10,000 polls (plus 10,000 / 12 clock syncs) per 2 h it gives the share of
one core.

``checkpost``: ``--devices`` control rooms connected; one check post to all of them is
written as the API writes it (queued rows); the time until every row is answered and
recorded, with the simulated operators pressing their button ``--operator-delay`` s after the
check post arrives. Target: ≤ 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from bench_ingest import (
    IngestProcess,
    bench_database,
    free_port,
    pctl,
    raise_fd_limit,
    run_uv,
)
from firegrid.accounts.principal import system_principal
from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.devices.models import Device
from firegrid.ingest.adapters.gb26875.codec import (
    TransmitterStatus,
    TransmitterStatusFlag,
)
from firegrid.ingest.commands.models import DeviceCommand
from firegrid.ingest.commands.requests import start_check_post
from firegrid.ingest.simulate import GBClient, SimStats, register_devices
from firegrid.ingest.simulate_downlink import DownlinkResponder

TWO_HOURS_S = 7200


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "note": "shared, loaded 2-core machine; synthetic (simulated) transmitters",
    }


async def connect(
    port: int, devices: list[Device], *, delay_s: float, ratio: float
) -> list[GBClient]:
    stats = SimStats("gb26875", len(devices))
    clients = [
        GBClient(
            "127.0.0.1",
            port,
            int(d.external_id),
            stats,
            retransmit_s=30.0,
            window=4,
            responder=DownlinkResponder(
                int(d.external_id),
                operator_answer_ratio=ratio,
                operator_delay_s=delay_s,
                operator_number=1 + i % 9,
                rng=random.Random(i),
            ),
        )
        for i, d in enumerate(devices)
    ]
    for start in range(0, len(clients), 500):
        await asyncio.gather(*(c.connect() for c in clients[start : start + 500]))
    now = utcnow().astimezone(CHINA_TZ).replace(microsecond=0)
    for client in clients:  # one frame each: the centre learns who is on the connection
        await client.send(TransmitterStatus(TransmitterStatusFlag.NORMAL, now), None)
    deadline = time.monotonic() + 60
    while any(c.pending for c in clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return clients


async def measure_window(
    pid: int, port: int, devices: list[Device], settle_s: float, window_s: float
) -> dict[str, Any]:
    clients = await connect(port, devices, delay_s=0.0, ratio=1.0)
    await asyncio.sleep(settle_s)
    started_at = utcnow()
    cpu0, t0 = cpu_s(pid), time.monotonic()
    await asyncio.sleep(window_s)
    cpu1, t1 = cpu_s(pid), time.monotonic()
    ended_at = utcnow()
    await asyncio.gather(*(c.close() for c in clients))
    return {
        "cpu_s": round(cpu1 - cpu0, 3),
        "wall_s": round(t1 - t0, 3),
        "from": started_at,
        "to": ended_at,
    }


def count_commands(db: Database, since: Any, until: Any) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(
            select(DeviceCommand.status, DeviceCommand.kind, func.count())
            .where(DeviceCommand.sent_at >= since, DeviceCommand.sent_at < until)
            .group_by(DeviceCommand.status, DeviceCommand.kind)
        ).all()
    return {f"{kind}:{status}": int(n) for status, kind, n in rows}


def bench_poll(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(args.devices + 1000)
    out: dict[str, Any] = {"bench": "downlink-poll", "machine": machine()}
    with bench_database(args.postgres) as url:
        db = Database(url)
        devices = register_devices(db, "gb26875", args.devices)
        schedule = Path(tempfile.mkstemp(prefix="schedule-", suffix=".yaml")[1])
        schedule.write_text(
            f"poll:\n  default_period_s: {args.period}\nclock_sync:\n  period_s: 86400\n"
        )
        port = free_port()
        gb = ["--gb26875", f"127.0.0.1:{port}"]
        floor_process = IngestProcess(url, "database", "unused", *gb, "--no-downlink")
        try:
            floor = run_uv(
                measure_window(floor_process.pid, port, devices, args.settle, args.window)
            )
        finally:
            floor_process.stop()
        windows: dict[str, dict[str, Any]] = {}
        counters: dict[str, Any] = {}
        for name, schedule_file in (("real", None), ("compressed", schedule)):
            port = free_port()
            gb = ["--gb26875", f"127.0.0.1:{port}"]
            if schedule_file is not None:
                gb += ["--command-schedule", str(schedule_file)]
            process = IngestProcess(url, "database", "unused", *gb)
            try:
                windows[name] = run_uv(
                    measure_window(process.pid, port, devices, args.settle, args.window)
                )
            finally:
                counters[name] = process.stop().get("downlink")
            windows[name]["commands"] = count_commands(
                db, windows[name]["from"], windows[name]["to"]
            )
        db.dispose()

    def extra_cpu_s(window: dict[str, Any]) -> float:
        return float(window["cpu_s"]) - floor["cpu_s"] * window["wall_s"] / floor["wall_s"]

    real, busy = windows["real"], windows["compressed"]
    commands = sum(busy["commands"].values())
    per_command_s = extra_cpu_s(busy) / max(1, commands)
    # at the real period: the fixed cost of the downlink (its ticks and queue polls, measured
    # with the packaged 2-h schedule, which fires a few polls in the window too) plus every
    # command of 2 h at the compressed run's per-command cost (counted twice: an upper bound)
    fixed_pct = extra_cpu_s(real) / real["wall_s"] * 100
    commands_per_2h = args.devices + args.devices * TWO_HOURS_S / 86400  # polls + clock syncs
    per_2h_pct = per_command_s * commands_per_2h / TWO_HOURS_S * 100
    out.update(
        {
            "devices": args.devices,
            "window_s": busy["wall_s"],
            "floor: ingest cpu s (idle connections, no downlink)": floor["cpu_s"],
            "real: ingest cpu s (downlink, 2-h schedule)": real["cpu_s"],
            "real: commands sent in window": real["commands"],
            "compressed: period s": args.period,
            "compressed: ingest cpu s": busy["cpu_s"],
            "compressed: commands sent in window": busy["commands"],
            "server_cpu_ms_per_command (compressed - floor)": round(per_command_s * 1000, 3),
            "fixed downlink share of one core (real - floor) %": round(fixed_pct, 3),
            "per-command share at 2 h for these devices %": round(per_2h_pct, 3),
            "share_of_one_core_at_2h_period_pct (upper bound: sum)": round(
                fixed_pct + per_2h_pct, 3
            ),
            "target_pct": 5.0,
            "downlink_counters": counters,
        }
    )
    return out


async def run_checkpost(url: str, port: int, devices: list[Device], args: Any) -> dict[str, Any]:
    clients = await connect(port, devices, delay_s=args.operator_delay, ratio=1.0)
    await asyncio.sleep(args.settle)  # the ingest process maps its new connections
    db = Database(url)
    started = time.monotonic()
    with db.session() as session:
        check = start_check_post(session, system_principal("bench"), all_venues=True)
    ids = check["command_ids"]
    rows: list[tuple[str, Any]] = []
    while time.monotonic() - started < 60:
        with db.session() as session:
            rows = [
                (status, result)
                for status, result in session.execute(
                    select(DeviceCommand.status, DeviceCommand.result).where(
                        DeviceCommand.id.in_(ids)
                    )
                ).all()
            ]
        if all(status not in ("queued", "sent") for status, _ in rows):
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    with db.session() as session:
        times = session.execute(
            select(
                DeviceCommand.requested_at, DeviceCommand.sent_at, DeviceCommand.finished_at
            ).where(DeviceCommand.id.in_(ids))
        ).all()
    queued_s = [(s - r).total_seconds() for r, s, _ in times if s is not None]
    finished_s = [(f - r).total_seconds() for r, _, f in times if f is not None]
    db.dispose()
    await asyncio.gather(*(c.close() for c in clients))
    answered = [r for s, r in rows if s == "answered"]
    delays = [float(r["answered_in_s"]) for r in answered]
    return {
        "check_post_commands": len(ids),
        "answered_and_recorded": len(answered),
        "other": {s: sum(1 for x, _ in rows if x == s) for s in {x for x, _ in rows}},
        "all_recorded_s": round(elapsed, 2),
        "requested_to_sent_s_p50_max": [pctl(queued_s, 0.5), pctl(queued_s, 1.0)],
        "requested_to_finished_s_p50_max": [pctl(finished_s, 0.5), pctl(finished_s, 1.0)],
        "operator_delay_s": args.operator_delay,
        "answered_in_s_p50": pctl(delays, 0.5),
        "answered_in_s_p99": pctl(delays, 0.99),
        "answered_in_s_max": pctl(delays, 1.0),
        "target_s": 10.0,
    }


def bench_checkpost(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(args.devices + 1000)
    with bench_database(args.postgres) as url:
        db = Database(url)
        devices = register_devices(db, "gb26875", args.devices)
        db.dispose()
        port = free_port()
        process = IngestProcess(url, "database", "unused", "--gb26875", f"127.0.0.1:{port}")
        try:
            result = run_uv(run_checkpost(url, port, devices, args))
        finally:
            stopped = process.stop()
    return {
        "bench": "downlink-checkpost",
        "machine": machine(),
        "devices": args.devices,
        **result,
        "downlink_counters": stopped.get("downlink"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="bench", required=True)
    poll = sub.add_parser("poll")
    poll.add_argument("--devices", type=int, default=10000)
    poll.add_argument("--period", type=int, default=60, help="compressed poll period (s)")
    poll.add_argument("--window", type=float, default=30.0)
    poll.add_argument("--settle", type=float, default=10.0)
    poll.add_argument("--postgres", action="store_true")
    check = sub.add_parser("checkpost")
    check.add_argument("--devices", type=int, default=1000)
    check.add_argument("--operator-delay", type=float, default=1.0)
    check.add_argument("--settle", type=float, default=6.0)
    check.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    result = bench_poll(args) if args.bench == "poll" else bench_checkpost(args)
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
