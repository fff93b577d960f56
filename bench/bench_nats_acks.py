"""CPU per JetStream publish ack: nats-py's parser (message by message, with the ingest's
``_process_msg`` hook) against :func:`firegrid.ingest.nats_acks.read_acks_in_bulk`, in the
same run on the same bytes.

The wire is ``--acks`` acks as a NATS server sends them to the ingest (``MSG <ack
prefix>.<batch> <sid>  <size>``, 60 acks per batch), fed in 64 KiB reads (what the client's
read loop asks for). Only the parsing and the counting are measured; no socket.

Usage::

    python bench/bench_nats_acks.py --acks 200000 --repeat 3 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from datetime import UTC, datetime
from typing import Any

from nats.protocol.parser import Parser

from firegrid.ingest.nats_acks import read_acks_in_bulk

PREFIX = "_FGACK.HkqzKZBR7zzYuhERTp8Ge7"
SID = 1
READ_BYTES = 65536


def wire_of(acks: int) -> list[bytes]:
    parts = []
    for n in range(acks):
        payload = b'{"stream":"FG_EVENTS", "seq":%d}' % (n + 1)
        parts.append(
            b"MSG %s.%d %d  %d\r\n%s\r\n"
            % (PREFIX.encode(), 1 + n // 60, SID, len(payload), payload)
        )
    wire = b"".join(parts)
    return [wire[i : i + READ_BYTES] for i in range(0, len(wire), READ_BYTES)]


class Client:
    """What the parser calls back; ``_process_msg`` does what the ingest's hook does."""

    def __init__(self) -> None:
        self.stats = {"in_msgs": 0, "in_bytes": 0}
        self.acked = 0

    def on_acks(self, batch: str, count: int) -> None:
        self.acked += count

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        if headers and headers[8:9] == b" ":  # pragma: no cover - no statuses on this wire
            headers[9:12].decode()
        self.on_acks(subject.rsplit(b".", 1)[-1].decode(), 1)


def measure(chunks: list[bytes], acks: int, *, bulk: bool) -> float:
    client = Client()
    parser = Parser(client)
    if bulk:
        installed = read_acks_in_bulk(
            parser, PREFIX, SID, client.stats, client.on_acks, lambda batch, data: None
        )
        assert installed

    async def feed() -> float:
        began = time.process_time()
        for chunk in chunks:
            await parser.parse(chunk)
        return time.process_time() - began

    spent = asyncio.run(feed())
    assert client.acked == acks, (client.acked, acks)
    return spent / acks * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--acks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    chunks = wire_of(args.acks)
    runs: dict[str, list[float]] = {"nats_py_parser": [], "bulk": []}
    for _ in range(args.repeat):  # alternated, so a slower minute hits both
        runs["nats_py_parser"].append(round(measure(chunks, args.acks, bulk=False), 3))
        runs["bulk"].append(round(measure(chunks, args.acks, bulk=True), 3))
    result: dict[str, Any] = {
        "bench": "CPU per JetStream publish ack, parsing and counting only",
        "acks_per_run": args.acks,
        "us_per_ack_runs": runs,
        "us_per_ack_min": {name: min(values) for name, values in runs.items()},
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, values in runs.items():
            print(f"{name:16s} {min(values):6.3f} us/ack (runs {values})")


if __name__ == "__main__":
    main()
