"""Reading a run of JetStream publish acknowledgements in one pass.

JetStream answers every stored message with one message on its reply subject, so the
ingest's client receives one ``MSG <ack prefix>.<batch> <sid> <size>`` per event. nats-py's
parser handles each message on its own: a chain of regular expressions for the control
line, dictionary stores, a copy of the payload and a coroutine for the delivery. In the
ingest that was the largest single share of its Python work per frame (15 % in
``bench_ingest_cpu.py --nats``).

:func:`read_acks_in_bulk` wraps the client's parser: while the buffer starts with
acknowledgements of the given subscription, it takes every complete one with one
expression match each and reports them per batch (``on_acks(batch, count)``); an ack that
carries an error goes to ``on_error(batch, payload)``. Anything else — another
subscription's message, a status message (``HMSG``), ``PING`` — is left to the original
parser, in order; an ack cut by the end of a read waits for the rest of its bytes. The
client's message statistics are kept as the parser would.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

#: the parser's state between messages (``nats.protocol.parser.AWAITING_CONTROL_LINE``)
AWAITING_CONTROL_LINE = 1
#: a control line longer than this is not an ack (the server's own limit is 4,096)
MAX_ACK_LINE = 512
_CRLF = b"\r\n"
#: what marks an ack that refuses the message (JetStream's ``{"error": {...}}``)
ERROR_MARK = b'"error"'


def read_acks_in_bulk(
    parser: Any,
    subject_prefix: str,
    sid: int,
    stats: dict[str, int],
    on_acks: Callable[[str, int], None],
    on_error: Callable[[str, bytes], None],
) -> bool:
    """Install the bulk reading on ``parser`` (a nats-py ``Parser``) for the acks that
    arrive on ``<subject_prefix>.<batch>`` for subscription ``sid``. Returns False, and
    changes nothing, when the parser lacks what this relies on."""
    original: Callable[[bytes], Awaitable[None]] | None = getattr(parser, "parse", None)
    if original is None or not isinstance(getattr(parser, "buf", None), bytearray):
        return False
    if getattr(parser, "state", None) != AWAITING_CONTROL_LINE:
        return False
    head = b"MSG " + subject_prefix.encode() + b"."
    # ``MSG <subject> <sid> <size>``: the server puts two spaces before the size when the
    # message has no reply subject (its empty place)
    line = re.compile(re.escape(head) + rb"([^ \r\n]+) +%d +(\d+)\r\n" % sid)

    def take(buf: bytearray) -> bool:
        """Take the complete acks at the start of ``buf``; True when what is left starts
        with an ack not yet complete (wait for more bytes)."""
        pos, size = 0, len(buf)
        counts: dict[bytes, int] = {}
        match = line.match
        while True:
            found = match(buf, pos)
            if found is None:
                break
            start = found.end()
            stop = start + int(found[2])
            if stop + 2 > size:
                break
            if buf.find(ERROR_MARK, start, stop) != -1:
                if counts:  # in order: the acks before it first
                    _report(counts, on_acks)
                    counts = {}
                on_error(found[1].decode(), bytes(buf[start:stop]))
            else:
                batch = found[1]
                counts[batch] = counts.get(batch, 0) + 1
            stats["in_msgs"] += 1
            stats["in_bytes"] += stop - start
            pos = stop + 2
        if pos:
            del buf[:pos]
        if counts:
            _report(counts, on_acks)
        if not buf.startswith(head):
            return False
        if line.match(buf) is not None:  # its control line is here, not all its payload
            return True
        # its control line is not all here (a longer one is no ack: the parser's to judge)
        return len(buf) < MAX_ACK_LINE and buf.find(_CRLF) == -1

    async def parse(data: bytes = b"") -> None:
        buf = parser.buf  # a reconnection's reset gives the parser a new buffer
        buf.extend(data)
        if parser.state == AWAITING_CONTROL_LINE and buf.startswith(head) and take(buf):
            return
        if buf:
            await original(b"")

    parser.parse = parse
    return True


def _report(counts: dict[bytes, int], on_acks: Callable[[str, int], None]) -> None:
    for batch, count in counts.items():
        on_acks(batch.decode(), count)
