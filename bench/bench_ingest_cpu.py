"""CPU per frame of the GB/T 26875.3 ingest path in one process, without sockets or storage.

The frames of ``bench_e2e.py``'s background mix (heartbeats 30 %, analog values 30 %,
points in fault / restored 40 %; one object per frame) are fed to the real
:class:`GB26875Server` connections (``data_received``: stream decode), flushed by the real
micro-batching (``_process``: events, device state, ``IngestService.admit_many``, CONFIRM
bytes) into an event log that only encodes each event as the JetStream log would
(``encode_event``) and returns. Transports are stubs that count bytes.

What it isolates is the Python work per frame that the ingest process does whatever the
backend; the socket reads and writes, the database or NATS round trip and the device-state
flush are *not* in it (``bench_e2e.py`` and ``bench_ingest.py tcp`` measure the whole
process). CPU time is ``time.process_time()`` of this process, so other processes on the
machine do not count, but a loaded machine still slows it (caches, frequency).

Two options put a real log behind the same path: ``--nats URL`` appends to a JetStream
stream (the NATS client's work in this process is counted, the server's is not);
``--database-log`` appends to the database log on a migrated SQLite file made for the run
(its group commits run on the log's thread of this process and are counted). Both store
each distinct event id once; with many frames per panel the mix repeats some (one time tag
for the whole run: 45,000 stored of 70,200 at 100,000 frames), so they report fewer
events logged than the encode-only log, which counts every append.

Usage::

    python bench/bench_ingest_cpu.py --frames 100000 --repeat 5 [--json]
    python bench/bench_ingest_cpu.py ... --nats nats://127.0.0.1:4222 --batch 60   # JetStream
    python bench/bench_ingest_cpu.py ... --database-log   # the SQLite database log's writes

To compare code versions, run the same command with ``PYTHONPATH`` pointing at each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_alarms import settle_collector
from bench_e2e import ADDRESS_BASE, Counters, Transmitter, time_tag
from firegrid.devices.state import DeviceRef
from firegrid.ingest.adapters.gb26875.server import GB26875Server, _Connection
from firegrid.ingest.events import DeviceEvent, encode_event
from firegrid.ingest.service import IngestService


class EncodingLog:
    """An event log that encodes each event (as the JetStream log does) and keeps nothing."""

    backend = "bench"

    def __init__(self) -> None:
        self.events = 0

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        for event in events:
            encode_event(event)
        self.events += len(events)


class StubTransport:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def frames_of_mix(panels: int, per_panel: int) -> list[list[bytes]]:
    """``per_panel`` frames of each panel's cycle, as ``bench_e2e.py`` sends them."""
    out: list[list[bytes]] = []
    tag = time_tag(time.time())
    for n in range(panels):
        capture = Capture()
        panel = Transmitter(ADDRESS_BASE + n, Counters(), window=1 << 30)
        panel.connection_made(capture)  # type: ignore[arg-type]
        for _ in range(per_panel):
            panel.send_background(tag)
        out.append(capture.sent)
    return out


class Capture:
    """A transport that keeps what is written."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)


async def open_jetstream(url: str) -> Any:
    """A real :class:`JetStreamEventLog` on a throw-away stream (the deployment binding, a
    database read, is stubbed: it is not on the per-frame path)."""
    from firegrid.ingest import log_jetstream

    setattr(log_jetstream, "deployment_id", lambda db: "bench-ingest-cpu")  # noqa: B010
    stream = f"FG_CPU_{uuid.uuid4().hex[:8].upper()}"
    log = log_jetstream.JetStreamEventLog(url, None, stream=stream)  # type: ignore[arg-type]
    await log.start()
    return log


async def open_database_log(directory: str) -> Any:
    """A real :class:`DatabaseEventLog` on a migrated SQLite file in ``directory`` (the
    embedded default: group commits on the log's own thread, ``synchronous=FULL``)."""
    from firegrid.core.db import Database
    from firegrid.core.migrate import upgrade
    from firegrid.ingest.log_db import DatabaseEventLog

    url = f"sqlite:///{directory}/bench.db"
    upgrade(url)
    log = DatabaseEventLog(Database(url))
    await log.start()
    return log


async def measure(
    frames_total: int,
    panels: int,
    per_read: int,
    batch: int,
    nats_url: str | None,
    database_dir: str | None = None,
) -> dict[str, Any]:
    if database_dir is not None:
        log: Any = await open_database_log(database_dir)
    elif nats_url is not None:
        log = await open_jetstream(nats_url)
    else:
        log = EncodingLog()
    service = IngestService(None, log)  # type: ignore[arg-type]  # no database is touched
    for n in range(panels):
        address = str(ADDRESS_BASE + n)
        service.registry.add(DeviceRef(n + 1, address, "gb26875", n + 1, "/810000/"))
    server = GB26875Server(service)
    server.linger_s = 0  # one batch per ``batch`` connections fed (older code: no linger)
    connections = []
    for _ in range(panels):
        connection = _Connection(server)
        connection.connection_made(StubTransport())  # type: ignore[arg-type]
        connections.append(connection)
    per_panel = -(-frames_total // panels)
    mix = frames_of_mix(panels, per_panel)
    settle_collector()  # as `ingest run` sets it
    began = time.process_time()
    wall = time.perf_counter()
    fed = 0
    batch = batch or panels
    for index in range(0, per_panel, per_read):
        for first in range(0, panels, batch):
            group = zip(connections[first : first + batch], mix[first : first + batch], strict=True)
            for connection, frames in group:
                connection.data_received(b"".join(frames[index : index + per_read]))
                fed += len(frames[index : index + per_read])
            while server._pending or server._background:  # flushers (no errors here)
                if server._background:
                    await asyncio.wait(set(server._background))
                else:
                    await asyncio.sleep(0)
    cpu_s = time.process_time() - began
    wall_s = time.perf_counter() - wall
    batches = server.counters.get("batches")
    if isinstance(log, EncodingLog):
        logged = log.events
    else:
        logged = await log.count()
        if database_dir is None:  # a JetStream stream of its own: gone with the run
            await log.delete_stream()
        await log.close()
    return {
        "frames": fed,
        "batches": batches,
        "events_logged": logged,
        "confirms": server.counters["confirms"],
        "cpu_us_per_frame": round(cpu_s / fed * 1e6, 2),
        "wall_s": round(wall_s, 2),
    }


def run_measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        measuring = measure(
            args.frames,
            args.panels,
            args.per_read,
            args.batch,
            args.nats,
            directory if args.database_log else None,
        )
        try:
            import uvloop
        except ImportError:  # pragma: no cover
            return asyncio.run(measuring)
        return uvloop.run(measuring)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--panels", type=int, default=200)
    parser.add_argument("--per-read", type=int, default=1, help="frames per socket read")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--batch", type=int, default=0, help="connections fed per flush (default: all panels)"
    )
    parser.add_argument(
        "--nats",
        default=None,
        help="append to a real JetStream stream at this URL (NATS client work included)",
    )
    parser.add_argument(
        "--database-log",
        action="store_true",
        help="append to the database log on a SQLite file made for the run (its writes included)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [run_measure(args) for _ in range(args.repeat)]
    figures = sorted(r["cpu_us_per_frame"] for r in runs)
    result = {
        "bench": "gb26875 ingest path in-process (decode, events, state, admit, confirm bytes)",
        "frames_per_run": runs[0]["frames"],
        "events_logged_per_run": runs[0]["events_logged"],
        "confirms_per_run": runs[0]["confirms"],
        "batches_per_run": runs[0]["batches"],
        "event_log": (
            "database (SQLite)"
            if args.database_log
            else "jetstream " + args.nats
            if args.nats
            else "encode only"
        ),
        "cpu_us_per_frame_runs": [r["cpu_us_per_frame"] for r in runs],
        "cpu_us_per_frame_min": figures[0],
        "cpu_us_per_frame_median": figures[len(figures) // 2],
        "code": os.environ.get("PYTHONPATH", ""),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
