"""Acks read in bulk (ingest.nats_acks) against nats-py's own parser, whatever the reads'
boundaries: the same acks, errors and other messages, in order, as message by message."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from nats.protocol.parser import Parser

from firegrid.ingest.nats_acks import read_acks_in_bulk

PREFIX = "_FGACK.Inbox7"
ACK_SID = 3


def ack(batch: int, seq: int, *, duplicate: bool = False) -> bytes:
    payload = b'{"stream":"FG", "seq":%d%s}' % (seq, b', "duplicate": true' if duplicate else b"")
    return b"MSG %s.%d %d  %d\r\n%s\r\n" % (PREFIX.encode(), batch, ACK_SID, len(payload), payload)


ERROR = b'{"error":{"code":503,"description":"no leader"}}'
WIRE = b"".join(
    [
        ack(1, 10),
        ack(1, 11),
        ack(2, 12, duplicate=True),
        b"MSG %s.%d %d  %d\r\n%s\r\n" % (PREFIX.encode(), 3, ACK_SID, len(ERROR), ERROR),
        ack(1, 13),
        b"PONG\r\n",
        ack(2, 14),
        b"HMSG %s.4 %d  16 16\r\nNATS/1.0 503\r\n\r\n\r\n" % (PREFIX.encode(), ACK_SID),
        b"MSG other.subject 9  5\r\nhello\r\n",
        ack(2, 15),
        ack(4, 16),
    ]
)


class FakeClient:
    """What the parser calls back, recording it as the JetStream log would (an ack that the
    original parser delivers counts one)."""

    def __init__(self) -> None:
        self.stats = {"in_msgs": 0, "in_bytes": 0}
        self.log: list[tuple[str, Any]] = []

    def acks(self, batch: str, count: int) -> None:
        self.log.append(("acks", (batch, count)))

    def error(self, batch: str, data: bytes) -> None:
        self.log.append(("error", (batch, data)))

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        if sid == ACK_SID:
            batch = subject.rsplit(b".", 1)[-1].decode()
            if headers and headers[9:12] == b"503":
                self.log.append(("status", (batch, "503")))
            elif b'"error"' in data:
                self.error(batch, data)
            else:
                self.acks(batch, 1)
        else:
            self.log.append(("message", subject.decode()))

    async def _process_pong(self) -> None:
        self.log.append(("pong", None))

    async def _process_ping(self) -> None:  # pragma: no cover - not in the wire above
        self.log.append(("ping", None))


def events_of(chunks: list[bytes], *, bulk: bool) -> tuple[list[tuple[str, Any]], dict[str, int]]:
    client = FakeClient()
    parser = Parser(client)
    if bulk:
        assert read_acks_in_bulk(parser, PREFIX, ACK_SID, client.stats, client.acks, client.error)

    async def feed() -> None:
        for chunk in chunks:
            await parser.parse(chunk)

    asyncio.run(feed())
    return client.log, client.stats


def segments(log: list[tuple[str, Any]]) -> list[tuple[dict[str, int], tuple[str, Any] | None]]:
    """The acks per batch between one other event and the next, with that event: equal
    segments mean the same acks, none moved past another message."""
    out: list[tuple[dict[str, int], tuple[str, Any] | None]] = []
    totals: dict[str, int] = {}
    for kind, value in log:
        if kind == "acks":
            totals[value[0]] = totals.get(value[0], 0) + value[1]
        else:
            out.append((totals, (kind, value)))
            totals = {}
    out.append((totals, None))
    return out


def acks_per_batch(log: list[tuple[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for kind, value in log:
        if kind == "acks":
            totals[value[0]] = totals.get(value[0], 0) + value[1]
    return totals


def test_every_split_of_the_wire_reads_as_the_parser_reads_it_whole() -> None:
    reference, reference_stats = events_of([WIRE], bulk=False)
    assert acks_per_batch(reference) == {"1": 3, "2": 3, "4": 1}
    assert [kind for kind, _ in reference if kind != "acks"] == [
        "error",
        "pong",
        "status",
        "message",
    ]
    for cut in range(1, len(WIRE)):
        log, stats = events_of([WIRE[:cut], WIRE[cut:]], bulk=True)
        assert segments(log) == segments(reference), cut
        assert stats == reference_stats, cut


def test_random_reads_of_many_acks_lose_and_invent_none() -> None:
    rng = random.Random(26875)
    wire = b"".join(ack(rng.randrange(1, 40), n) for n in range(3000)) + WIRE
    reference, reference_stats = events_of([wire], bulk=False)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(wire)), rng.randrange(1, 400)))
        chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
        log, stats = events_of(chunks, bulk=True)
        assert segments(log) == segments(reference)
        assert stats == reference_stats


def test_a_run_of_acks_in_one_read_is_taken_in_one_pass() -> None:
    wire = b"".join(ack(7, n) for n in range(500)) + b"".join(ack(8, n) for n in range(250))
    log, stats = events_of([wire], bulk=True)
    assert log == [("acks", ("7", 500)), ("acks", ("8", 250))]  # none one by one
    assert stats["in_msgs"] == 750


def test_a_parser_in_the_middle_of_a_message_is_left_as_it_is() -> None:
    client = FakeClient()
    parser = Parser(client)
    asyncio.run(parser.parse(ack(1, 1)[:-5]))  # the control line read, not the payload
    assert not read_acks_in_bulk(parser, PREFIX, ACK_SID, client.stats, client.acks, client.error)


def test_a_line_too_long_for_an_ack_goes_to_the_parser_instead_of_waiting() -> None:
    client = FakeClient()
    parser = Parser(client)
    assert read_acks_in_bulk(parser, PREFIX, ACK_SID, client.stats, client.acks, client.error)
    odd = b"MSG %s.%s %d  5" % (PREFIX.encode(), b"9" * 600, ACK_SID)  # no end of line yet
    asyncio.run(parser.parse(odd))
    assert len(parser.buf) == len(odd)  # the parser keeps it too (its limit is 4,096)
    asyncio.run(parser.parse(b"\r\nhello\r\n" + ack(1, 1)))
    assert not parser.buf
    assert client.log == [("acks", ("9" * 600, 1)), ("acks", ("1", 1))]
