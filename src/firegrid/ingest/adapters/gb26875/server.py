"""GB/T 26875.3 over TCP: the monitoring centre's listener.

One :class:`asyncio.Protocol` per transmitter connection keeps a
:class:`~.codec.StreamDecoder`, the device address last seen and the time of the last read.
For each frame:

==============================  ===============================================================
frame                           what the centre does
==============================  ===============================================================
send data (2), registered       objects → :class:`DeviceEvent` (one per object); heartbeats
source address                  (type 21 "normal", empty ADU) update device state only; the
                                rest is appended to the event log (a check-post reply is an
                                ``operation``, and answers the open check post); **CONFIRM
                                (3) is sent only after the append is durable** (same serial,
                                addresses swapped, empty ADU).
send data (2), unknown source   the frame and a summary go to quarantine (durable), then
                                CONFIRM; nothing reaches the event log until an admin adopts
                                the device.
answer (5)                      stored like send data; no reply (it answers our request).
control (1)                     CONFIRM (a centre should not receive it; the note asks for 3).
confirm (3), deny (6), others   not answered (counted as ignored).
                                Answers, confirms and denies are also matched to the centre's
                                own requests by :attr:`GB26875Server.downlink`
                                (:mod:`firegrid.ingest.commands.dispatcher`), when one runs.
bad checksum, bad end marker,   DENY (6) with the serial, because the control unit is intact;
reserved command, truncated     the error is kept in ``ingest_errors`` with the raw hex. The
objects                         complete objects of a truncated frame are admitted first (they
                                have a valid checksum; retransmissions are deduplicated).
impossible length, garbage,     silence (the header cannot be trusted); the error is kept.
cut-off frame
==============================  ===============================================================

The connection stays open after an occasional error, but every connection has a budget of
bad bytes and bad frames (:mod:`.limits`): a peer that exhausts it is disconnected, and the
disconnection is kept in ``ingest_errors`` (kind ``connection_closed``: peer, counts, reason)
and logged. A connection reading faster than its allowance is paused, never dropped. A
connection with no bytes for ``idle_timeout_s`` is closed.

``external_id`` of a transmitter is the decimal of its 48-bit source address; the registry
row is ``Device(protocol="gb26875", external_id=...)``.

Event ids hash the address, the type flag, the object's index and content and its time tag
(the frame's time tag for types without one), not the serial: a device that retransmits
after a reconnect with a fresh serial still produces the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.devices.public import DeviceRef
from firegrid.ingest.events import (
    DeviceEvent,
)
from firegrid.ingest.service import IngestService, QuarantineItem

from .codec import (
    Command,
    DecodedFrame,
    Frame,
    FrameError,
    FrameErrorKind,
    Reply,
    StreamDecoder,
    checksum,
    encode_time_tag,
)
from .events import PROTOCOL, frame_events, frame_summary
from .limits import BadInputBudget, ConnectionLimits, Offenders, ReadAllowance

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _time_tag_at(second: int) -> bytes:
    return encode_time_tag(datetime.fromtimestamp(second, CHINA_TZ))


def reply_bytes(frame: Frame, command: Command, now: datetime, centre_address: int) -> bytes:
    """``encode_frame(confirm(frame, now, centre_address))`` (or deny), packed directly.

    Same serial and version, addresses swapped, empty ADU, time tag = ``now`` in China
    Standard Time (whole seconds). A test pins it byte for byte to the codec's output.
    """
    return reply_packer(now, centre_address)(frame, int(command))


def reply_packer(now: datetime, centre_address: int) -> Callable[[Frame, int], bytes]:
    """:func:`reply_bytes` for one batch: the time tag and the centre's address are packed
    once (``datetime.timestamp`` alone was a measurable cost per frame)."""
    tag = _time_tag_at(int(now.timestamp()))
    centre = _address_bytes(centre_address)
    pack = _REPLY_BODY.pack

    def reply(frame: Frame, command: int) -> bytes:
        version = frame.version
        body = pack(
            frame.serial,
            version[0] & 0xFF,
            version[1] & 0xFF,
            tag,
            centre,
            _address_bytes(frame.source),
            0,
            command,
        )
        return b"".join((b"@@", body, _ONE_BYTE[checksum(body)], b"##"))

    return reply


_ONE_BYTE = tuple(bytes((value,)) for value in range(256))


_REPLY_BODY = struct.Struct("<HBB6s6s6sHB")


@functools.lru_cache(maxsize=65536)
def _address_bytes(address: int) -> bytes:
    return address.to_bytes(6, "little")


# Enum members read as module constants: ``Command.X`` is an attribute lookup through the
# enum's metaclass, several per frame on the hot path.
_SEND_DATA = Command.SEND_DATA
_ANSWER = Command.ANSWER
_CONTROL = Command.CONTROL
_CONFIRM_CODE = int(Command.CONFIRM)
_DENY_CODE = int(Command.DENY)


class GB26875Server:
    """The TCP listener; :meth:`start` binds, :meth:`close` stops and drops connections."""

    def __init__(
        self,
        service: IngestService,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        centre_address: int = 0,
        idle_timeout_s: float | None = None,
        max_in_flight: int = 256,
        max_flushers: int = 4,
        linger_s: float = 0.010,
        batch_frames: int = 256,
        reuse_port: bool = False,
        limits: ConnectionLimits | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.service = service
        self.limits = limits or ConnectionLimits()
        self.offenders = Offenders()
        self.reuse_port = reuse_port
        self.host = host
        self.requested_port = port
        self.centre_address = centre_address
        self.idle_timeout_s = (
            service.options.idle_timeout_s if idle_timeout_s is None else idle_timeout_s
        )
        self.max_in_flight = max_in_flight
        self.clock = clock
        self.connections: set[_Connection] = set()
        self.latencies_s: deque[float] = deque(maxlen=200_000)
        self.counters: dict[str, int] = {
            "connections": 0,
            "frames": 0,
            "confirms": 0,
            "denies": 0,
            "errors": 0,
            "quarantined": 0,
            "ignored": 0,
            "closed_bad_input": 0,
            "read_pauses": 0,
            "batches": 0,  # appends to the log (micro-batches of reads)
        }
        self._server: asyncio.AbstractServer | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._pending: list[tuple[_Connection, list[DecodedFrame | FrameError], float]] = []
        self._pending_frames = 0
        self._flushers = 0
        self.max_flushers = max_flushers
        #: a read that finds no batch filling waits this long for others to join it (one
        #: append, one NATS write and one round of acks for all of them), unless
        #: ``batch_frames`` are waiting already; a flusher that finishes takes what is due
        self.linger_s = linger_s
        self.batch_frames = batch_frames
        self._linger: asyncio.Handle | None = None
        self._batch_due = False  # what waits is to be taken as soon as a flusher is free
        #: the downstream commands of this process (set by ``commands.dispatcher.Downlink``)
        self.downlink: Any = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        sockname = cast(asyncio.Server, self._server).sockets[0].getsockname()
        return int(sockname[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self),
            self.host,
            self.requested_port,
            backlog=4096,
            reuse_address=True,
            reuse_port=self.reuse_port or None,
        )
        self._sweeper = loop.create_task(self._sweep_idle())
        log.info("gb26875 listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        self._record_offenders(everything=True)
        if self._pending:  # the reads that wait are stored, then answered
            self._batch_due = True
            self._take_batch()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close()
            for connection in list(self.connections):
                connection.close()
            await self._server.wait_closed()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- micro-batching across connections --------------------------------------------------------
    #
    # Reads from every connection are queued here; a flusher takes everything queued, stores
    # it with one append (one durable batch for many devices), then writes each connection's
    # replies. Up to ``max_flushers`` batches are in flight at once, so storage latency is
    # overlapped while the next batch fills.
    #
    # A batch is taken ``linger_s`` after the first read it carries arrived, or as soon as
    # ``batch_frames`` wait. Most of a batch's CPU is per batch, not per frame (the append's
    # one write to NATS — on loopback the sender pays the receiver's TCP work and wake-up —
    # and a task): taking whatever was there whenever a flusher was free made batches of one
    # or two frames at a few thousand frames/s, about 145 µs of CPU each.

    def submit(
        self, connection: _Connection, items: list[DecodedFrame | FrameError], started: float
    ) -> None:
        self._pending.append((connection, items, started))
        self._pending_frames += len(items)
        if self._pending_frames >= self.batch_frames:
            self._batch_due = True
            self._take_batch()
        elif self._linger is None and not self._batch_due:
            loop = asyncio.get_running_loop()
            self._linger = (
                loop.call_later(self.linger_s, self._lingered)
                if self.linger_s > 0
                else loop.call_soon(self._lingered)  # the reads of this loop iteration
            )

    def _lingered(self) -> None:
        self._linger = None
        self._batch_due = True
        self._take_batch()

    def _take_batch(self) -> None:
        """Start a flusher for what waits, if it is due and fewer than ``max_flushers`` run
        (else the next flusher to finish starts it)."""
        if not (self._batch_due and self._pending) or self._flushers >= self.max_flushers:
            return
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self._batch_due = False
        work, self._pending = self._pending, []
        self._pending_frames = 0
        self._flushers += 1
        self.spawn(self._flush(work))

    async def _flush(
        self, work: list[tuple[_Connection, list[DecodedFrame | FrameError], float]]
    ) -> None:
        try:
            await self._process(work)
        except Exception:  # a bug must not wedge the connections: nothing confirmed
            log.exception("gb26875: a batch of %d reads failed", len(work))
            for connection, items, _ in work:
                connection.done(len(items))
        finally:
            self._flushers -= 1
            if self._pending and self._pending_frames >= self.batch_frames:
                self._batch_due = True
            self._take_batch()

    async def _process(
        self, work: list[tuple[_Connection, list[DecodedFrame | FrameError], float]]
    ) -> None:
        service = self.service
        now = self.clock()
        self.counters["batches"] += 1
        replies: dict[_Connection, list[bytes]] = {}
        batches: dict[int, tuple[DeviceRef, list[DeviceEvent]]] = {}
        held: list[QuarantineItem] = []
        counters = self.counters

        lookup = service.lookup

        def store(connection: _Connection, frame: Frame, raw_hex: str) -> None:
            external_id = str(frame.source)
            ref = lookup(PROTOCOL, external_id)
            if ref is None:
                counters["quarantined"] += 1
                summary = frame_summary(frame)
                held.append(
                    QuarantineItem(PROTOCOL, external_id, now, raw_hex, summary, connection.peer)
                )
                return
            batch = batches.get(ref.device_id)
            if batch is None:
                batch = batches[ref.device_id] = (ref, [])
            batch[1].extend(frame_events(frame, ref, now, raw_hex))

        reply = reply_packer(now, self.centre_address)
        for connection, items, _ in work:
            out = replies.setdefault(connection, [])
            for item in items:
                if type(item) is not DecodedFrame and isinstance(item, FrameError):
                    self.spawn(connection.record(item))
                    if item.reply is not Reply.DENY or item.frame is None:
                        continue
                    if item.kind is FrameErrorKind.TRUNCATED_OBJECTS:
                        store(connection, item.frame, item.raw_hex)  # complete objects only
                    counters["denies"] += 1
                    out.append(reply(item.frame, _DENY_CODE))
                    continue
                frame = item.frame
                counters["frames"] += 1
                connection.address = frame.source
                command = frame.command
                if self.downlink is not None:
                    self.downlink.observe(frame, now)
                if command is _SEND_DATA or command is _ANSWER:
                    store(connection, frame, item.raw_hex)
                    if command is _ANSWER:
                        continue
                elif command is not _CONTROL:
                    counters["ignored"] += 1
                    continue
                counters["confirms"] += 1
                out.append(reply(frame, _CONFIRM_CODE))
        try:
            jobs: list[Any] = [service.quarantine(q) for q in held]
            if batches:
                jobs.append(
                    service.admit_many([(ref, ev, now, None) for ref, ev in batches.values()])
                )
            if len(jobs) == 1:
                await jobs[0]
            elif jobs:
                await asyncio.gather(*jobs)
        except Exception:
            log.exception("gb26875: storing %d reads failed; frames not confirmed", len(work))
            replies.clear()
        finished = time.monotonic()
        for connection, items, started in work:
            answer = replies.get(connection)
            transport = connection.transport
            connection.done(len(items))
            if answer and transport is not None and not transport.is_closing():
                transport.write(b"".join(answer))
                self.latencies_s.append(finished - started)

    def _record_offenders(self, *, everything: bool = False) -> None:
        """Record the summaries of the bad-input windows that ended."""
        for host, message in self.offenders.due(time.monotonic(), everything=everything):
            log.warning("gb26875 %s: %s", host, message)
            self.spawn(self._record_summary(host, message))

    async def _record_summary(self, host: str, message: str) -> None:
        try:
            await self.service.record_error(PROTOCOL, "connection_closed", message, peer=host)
        except Exception:
            log.exception("gb26875 %s: could not record the disconnections", host)

    async def _sweep_idle(self) -> None:
        period = max(0.05, min(self.idle_timeout_s / 4, 5.0))
        while True:
            await asyncio.sleep(period)
            self._record_offenders()
            limit = time.monotonic() - self.idle_timeout_s
            for connection in [c for c in self.connections if c.last_read < limit]:
                log.info("gb26875 %s idle for %.0fs: closing", connection.peer, self.idle_timeout_s)
                connection.close()


class _Connection(asyncio.Protocol):
    """One transmitter connection (all rules are in :class:`IngestService`)."""

    def __init__(self, server: GB26875Server) -> None:
        self.server = server
        self.decoder = StreamDecoder()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.address: int | None = None
        self.last_read = time.monotonic()
        self.in_flight = 0
        self.paused = False  # by in-flight frames
        self.throttled = False  # by the read allowance
        self.closed_for: str | None = None
        self.errors_kept = 0  # error events passed on to be recorded
        self.host = ""
        self.errors_summarised = False
        started = time.monotonic()
        self.budget = BadInputBudget(server.limits, started)
        self.reads = ReadAllowance(server.limits, started)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else ""
        self.host = str(peer[0]) if peer else ""
        # a host cut off for bad input moments ago: count this connection's frame errors
        # into the host's summary instead of writing each
        self.errors_summarised = self.server.offenders.recent(self.host, time.monotonic())
        self.server.connections.add(self)
        self.server.counters["connections"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        leftovers = self.decoder.close()
        if self.closed_for is not None:  # the debris of a cut-off flood (in its bad bytes)
            leftovers = []
        for error in leftovers:
            self.server.spawn(self.record(error))
        self.transport = None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = self.last_read = time.monotonic()  # also when the frames' confirms start
        decoder = self.decoder
        bad_bytes, bad_frames = decoder.bytes_discarded, decoder.errors
        items = decoder.feed(data)
        bad_bytes = decoder.bytes_discarded - bad_bytes
        bad_frames = decoder.errors - bad_frames
        if bad_bytes or bad_frames:
            reason = self.budget.charge(bad_bytes, bad_frames, now)
            if reason is not None:
                items = self._within_budget(items)
                self.close_for_bad_input(reason, data)
            self.errors_kept += sum(1 for item in items if isinstance(item, FrameError))
        pause_s = self.reads.take(len(data), now)
        if pause_s > 0 and self.transport is not None and not self.transport.is_closing():
            self._pause()
            self.throttled = True
            self.server.counters["read_pauses"] += 1
            asyncio.get_running_loop().call_later(pause_s, self._unthrottle)
        if not items:
            return
        self.in_flight += len(items)
        if self.in_flight >= self.server.max_in_flight and self.transport is not None:
            self._pause()
            self.paused = True
        self.server.submit(self, items, now)

    def _within_budget(
        self, items: list[DecodedFrame | FrameError]
    ) -> list[DecodedFrame | FrameError]:
        """The read that exhausted the budget: its valid frames, and its errors only up to
        the budget (one read may hold thousands of bad frames; they are not all kept)."""
        room = max(0, self.server.limits.max_bad_frames - self.errors_kept)
        kept: list[DecodedFrame | FrameError] = []
        for item in items:
            if isinstance(item, FrameError):
                if room == 0:
                    continue
                room -= 1
            kept.append(item)
        return kept

    def _pause(self) -> None:
        if not (self.paused or self.throttled) and self.transport is not None:
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.paused or self.throttled:
            return
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _unthrottle(self) -> None:
        self.throttled = False
        self._resume()

    def done(self, count: int) -> None:
        """``count`` items were answered (or dropped): resume reading if paused."""
        self.in_flight -= count
        if self.paused and self.in_flight < self.server.max_in_flight // 2:
            self.paused = False
            self._resume()

    def close_for_bad_input(self, reason: str, data: bytes) -> None:
        """Disconnect a peer that exhausted its bad-input budget, and record it."""
        if self.closed_for is not None:
            return
        self.closed_for = reason
        server = self.server
        server.counters["closed_bad_input"] += 1
        budget = self.budget
        first = server.offenders.closed(
            self.host, time.monotonic(), budget.bad_bytes, budget.bad_frames
        )
        if first:  # later ones from this host within the window are summed up, then recorded
            address = None if self.address is None else str(self.address)
            message = (
                f"connection closed: {reason}; read {self.decoder.frames_decoded} valid "
                f"frames, {budget.bad_bytes} bad bytes, {budget.bad_frames} bad frames"
            )
            log.warning("gb26875 %s (address %s): %s", self.peer, address, message)
            server.spawn(self._record_closing(message, bytes(data[-64:]).hex(), address))
        self.close()

    async def _record_closing(self, message: str, raw_hex: str, address: str | None) -> None:
        try:
            await self.server.service.record_error(
                PROTOCOL, "connection_closed", message, raw_hex, peer=self.peer, external_id=address
            )
        except Exception:
            log.exception("gb26875 %s: could not record the disconnection", self.peer)

    async def record(self, error: FrameError) -> None:
        self.server.counters["errors"] += 1
        if self.errors_summarised:
            self.server.offenders.suppressed(self.host, 1)
            return
        external_id = None if error.frame is None else str(error.frame.source)
        try:
            await self.server.service.record_error(
                PROTOCOL,
                str(error.kind),
                error.message,
                error.raw_hex,
                peer=self.peer,
                external_id=external_id,
            )
        except Exception:
            log.exception("gb26875 %s: could not record a frame error", self.peer)
