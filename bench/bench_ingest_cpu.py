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

Usage::

    python bench/bench_ingest_cpu.py --frames 100000 --repeat 5 [--json]

To compare code versions, run the same command with ``PYTHONPATH`` pointing at each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

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


async def measure(frames_total: int, panels: int, per_read: int) -> dict[str, Any]:
    log = EncodingLog()
    service = IngestService(None, log)  # type: ignore[arg-type]  # no database is touched
    for n in range(panels):
        address = str(ADDRESS_BASE + n)
        service.registry.add(DeviceRef(n + 1, address, "gb26875", n + 1, "/810000/"))
    server = GB26875Server(service)
    connections = []
    for _ in range(panels):
        connection = _Connection(server)
        connection.connection_made(StubTransport())  # type: ignore[arg-type]
        connections.append(connection)
    per_panel = -(-frames_total // panels)
    mix = frames_of_mix(panels, per_panel)
    began = time.process_time()
    wall = time.perf_counter()
    fed = 0
    for index in range(0, per_panel, per_read):
        for connection, frames in zip(connections, mix, strict=True):
            connection.data_received(b"".join(frames[index : index + per_read]))
            fed += len(frames[index : index + per_read])
        while server._flushers or server._pending:
            await asyncio.sleep(0)
    cpu_s = time.process_time() - began
    wall_s = time.perf_counter() - wall
    return {
        "frames": fed,
        "events_logged": log.events,
        "confirms": server.counters["confirms"],
        "cpu_us_per_frame": round(cpu_s / fed * 1e6, 2),
        "wall_s": round(wall_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--panels", type=int, default=200)
    parser.add_argument("--per-read", type=int, default=1, help="frames per socket read")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [
        asyncio.run(measure(args.frames, args.panels, args.per_read)) for _ in range(args.repeat)
    ]
    figures = sorted(r["cpu_us_per_frame"] for r in runs)
    result = {
        "bench": "gb26875 ingest path in-process (decode, events, state, admit, confirm bytes)",
        "frames_per_run": runs[0]["frames"],
        "events_logged_per_run": runs[0]["events_logged"],
        "confirms_per_run": runs[0]["confirms"],
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
