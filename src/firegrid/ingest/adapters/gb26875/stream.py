"""Incremental decoding of a byte stream (one TCP connection) into frames and error events.

:class:`StreamDecoder` keeps the bytes of at most one unfinished frame (≤ 1054 bytes) between
reads, never raises on any input, and turns every bad frame into a :class:`FrameError`.

Resynchronisation: the length field alone says where a frame ends. After a frame whose end
is in doubt (length too large, length mismatch, bad end marker, bad checksum) decoding goes
on one byte after the bad start marker, looking for the next ``@@``; it never jumps to a
``##``. After a frame whose checksum and end marker are both right but whose content is bad
(reserved command, truncated objects) the frame's bytes are skipped as a whole. A frame that
is still incomplete while a complete valid frame already starts inside its span is reported
as a length mismatch at once, so a bogus length cannot hold up the frames behind it. Up to
four stray '@' before a valid frame (``@@@...``) count as garbage, not as a bad frame. While
resynchronising after a bad frame, start markers followed by an impossible length are skipped
without an event of their own (they are counted in ``bytes_discarded``), so a flood of '@'
yields one event, not one per byte.

Cost: every byte is looked at a bounded number of times, in C where it matters. A run of
'@' is skipped in one pass (a start marker whose length field lies inside the run announces
0x4040 bytes, over the limit, so only the run's last 25 positions can start a frame), and the
search for a valid frame behind an incomplete one remembers what it has already ruled out,
so feeding a held frame byte by byte does not rescan it (:class:`_LaterFrameScan`). The
bytes held between reads are bounded by the largest frame (:data:`MAX_HELD_BYTES`).

What the server should answer (:attr:`FrameError.reply`, table :data:`REPLY_FOR_ERROR`):

========================  =======  ===========================================================
kind                      reply    why
========================  =======  ===========================================================
bad_checksum              DENY     control unit readable (end marker in place); the device
                                   retries. Never decode the objects into alarms.
bad_end_marker            DENY     checksum over the stated length is right, so the header is
                                   trustworthy; the frame is still invalid (note 9.6).
reserved_command          DENY     unknown command byte is a validation failure (std 6.5.3).
truncated_objects         DENY     the frame is intact but its ADU is not. The complete objects
                                   are in ``error.frame.adu`` under a valid checksum: surface
                                   their alarms (deduplicate on retries), then deny.
length_too_large          none     the length field itself is untrustworthy: stay silent.
length_mismatch           none     the header cannot be trusted: stay silent.
incomplete_frame          none     the stream ended inside a frame.
garbage                   none     bytes outside any frame.
========================  =======  ===========================================================

A frame whose type flag is unknown is not an error: it decodes with a
:class:`~.objects.RawApplicationData` ADU and is confirmed like any valid frame.
"""

from __future__ import annotations

import enum
import heapq
import re
from collections import deque
from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from .fields import (
    MAX_ADU_LENGTH,
    DecodeError,
)
from .flags import FrameErrorKind
from .frames import (
    END_MARKER,
    FRAME_OVERHEAD,
    HEADER_LENGTH,
    MAX_FRAME_LENGTH,
    START_MARKER,
    Frame,
    adu_length_at,
    checksum,
    decode_frame_at,
)


class Reply(enum.StrEnum):
    """What the centre sends back for a frame or an error event."""

    CONFIRM = "confirm"
    DENY = "deny"
    NONE = "none"


#: The centre's answer per error kind (a DENY needs ``FrameError.frame`` to address it).
REPLY_FOR_ERROR: Mapping[FrameErrorKind, Reply] = MappingProxyType(
    {
        FrameErrorKind.BAD_CHECKSUM: Reply.DENY,
        FrameErrorKind.BAD_END_MARKER: Reply.DENY,
        FrameErrorKind.RESERVED_COMMAND: Reply.DENY,
        FrameErrorKind.TRUNCATED_OBJECTS: Reply.DENY,
        FrameErrorKind.LENGTH_TOO_LARGE: Reply.NONE,
        FrameErrorKind.LENGTH_MISMATCH: Reply.NONE,
        FrameErrorKind.INCOMPLETE_FRAME: Reply.NONE,
        FrameErrorKind.GARBAGE: Reply.NONE,
        FrameErrorKind.BAD_START_MARKER: Reply.NONE,
    }
)

#: Whole-frame errors: checksum and end marker are right, so the frame's span is certain.
_SPAN_CERTAIN = frozenset({FrameErrorKind.RESERVED_COMMAND, FrameErrorKind.TRUNCATED_OBJECTS})
_GARBAGE_PREVIEW_BYTES = 64
_MAX_STRAY_MARKER_BYTES = 4
#: Bytes the decoder may hold between two reads: at most one unfinished frame.
MAX_HELD_BYTES = MAX_FRAME_LENGTH
#: A start marker at ``q`` whose length field (bytes ``q+24``, ``q+25``) lies inside a run of
#: '@' announces 0x4040 bytes: only the last ``_RUN_TAIL`` positions of a run can start a frame.
_RUN_TAIL = HEADER_LENGTH - 2
_AT = START_MARKER[0]
_NOT_AT = re.compile(rb"[^@]")
#: the high byte of a length field <= MAX_ADU_LENGTH (1024 = 0x0400)
_MAX_LENGTH_HIGH_BYTE = MAX_ADU_LENGTH >> 8
#: a start marker whose length field's high byte is plausible (<= 4)
_PLAUSIBLE = re.compile(
    START_MARKER + rb"[\x00-\xff]{%d}[\x00-\x%02x]" % (HEADER_LENGTH - 4, _MAX_LENGTH_HIGH_BYTE)
)


class DecodedFrame(msgspec.Struct, frozen=True):
    """A valid frame, its offset in the stream and its exact wire bytes (for the audit log)."""

    frame: Frame
    offset: int
    raw: bytes

    @property
    def raw_hex(self) -> str:
        return self.raw.hex()


class FrameError(msgspec.Struct, frozen=True):
    """Bytes that did not become a frame.

    ``offset`` and ``size`` locate them in the stream; ``raw_hex`` is their hex (for garbage,
    only the first 64 bytes). ``frame`` is set when the control unit is readable, so that a
    DENY can be addressed; its ADU is raw unless the checksum was right.
    """

    kind: FrameErrorKind
    message: str
    raw_hex: str
    offset: int
    size: int
    frame: Frame | None = None

    @property
    def reply(self) -> Reply:
        """DENY when the policy asks for it and the header is readable, else NONE."""
        if self.frame is None:
            return Reply.NONE
        return REPLY_FOR_ERROR[self.kind]


class StreamDecoder:
    """Turn the bytes of one connection into :class:`DecodedFrame` and :class:`FrameError`.

    Pure and synchronous: the server feeds what it reads and acts on the events. A frame that
    stays incomplete is held until :meth:`close` (call it when the connection ends or a read
    timeout expires); its bytes are bounded by the largest frame (1054 bytes).
    """

    def __init__(self, *, garbage_report_bytes: int = 64 * 1024) -> None:
        if garbage_report_bytes < 1:
            raise ValueError(f"garbage_report_bytes must be positive, got {garbage_report_bytes}")
        self._buffer = bytearray()
        self._base = 0  # stream offset of _buffer[0]
        self._resyncing = False  # skipped bytes belong to the last bad frame, not to garbage
        self._garbage_report_bytes = garbage_report_bytes
        self._garbage_offset = 0
        self._garbage_size = 0
        self._garbage_preview = bytearray()
        self._later = _LaterFrameScan()
        self.frames_decoded = 0
        self.errors = 0
        self.bytes_discarded = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[DecodedFrame | FrameError]:
        """Add received bytes; return the frames and errors they complete, in stream order."""
        events: list[DecodedFrame | FrameError] = []
        held = self._buffer
        # Nothing held from the last read (the usual case): decode straight from the bytes
        # read, without copying them into the buffer first; only a tail is kept.
        buf: bytes | bytearray
        if not held and type(data) is bytes:
            buf = data
        else:
            held += data
            buf = held
        end = len(buf)
        pos = 0
        while pos < end:
            if (
                end - pos >= HEADER_LENGTH
                and buf[pos] == _AT
                and buf[pos + 1] == _AT
                and buf[pos + 2] != _AT
                and not self._garbage_size
            ):
                pass  # a frame starts right here (the usual case): nothing to skip
            else:
                start = buf.find(START_MARKER, pos)
                if start < 0:
                    keep = end - 1 if buf[end - 1] == _AT else end
                    self._skip(buf, pos, keep, events)
                    pos = keep
                    break
                start = _skip_stray_marker_bytes(buf, start, end)
                self._skip(buf, pos, start, events)
                self._flush_garbage(events)
                pos = start
                if end - pos < HEADER_LENGTH:
                    break
            length = adu_length_at(buf, pos)
            if length > MAX_ADU_LENGTH and self._resyncing:
                # Inside the debris of a bad frame: not worth an event of its own. Go to the
                # next start marker with a plausible length in one pass (C speed).
                nxt = _next_plausible(buf, pos + 1, end)
                self.bytes_discarded += nxt - pos
                pos = nxt
                continue
            if length > MAX_ADU_LENGTH:
                raw = bytes(buf[pos : pos + HEADER_LENGTH])
                message = f"ADU length field is {length}, over {MAX_ADU_LENGTH}"
                pos = self._fail(events, FrameErrorKind.LENGTH_TOO_LARGE, message, raw, pos, 1)
                continue
            size = FRAME_OVERHEAD + length
            if end - pos < size:
                later = self._later.find(buf, pos, end, self._base)
                if later is None:
                    break
                message = (
                    f"length field announces a {size}-byte frame, but a complete valid frame "
                    f"starts {later - pos} bytes later"
                )
                raw = bytes(buf[pos:later])
                pos = self._fail(
                    events, FrameErrorKind.LENGTH_MISMATCH, message, raw, pos, later - pos
                )
                continue
            raw = buf if size == end and type(buf) is bytes else bytes(buf[pos : pos + size])
            try:
                frame = decode_frame_at(raw, 0, length)
            except DecodeError as err:
                step = size if err.kind in _SPAN_CERTAIN else 1
                pos = self._fail(events, err.kind, str(err), raw, pos, step, err.frame)
                continue
            events.append(DecodedFrame(frame, self._base + pos, raw))
            self.frames_decoded += 1
            self._resyncing = False
            pos += size
        if buf is held:
            del held[:pos]
        elif pos < end:
            held += buf[pos:]
        self._base += pos
        return events

    def close(self) -> list[FrameError]:
        """End of stream: report held bytes as an incomplete frame, and pending garbage."""
        events: list[DecodedFrame | FrameError] = []
        buf = self._buffer
        if buf.startswith(START_MARKER):
            message = f"stream ended {len(buf)} bytes into a frame"
            if len(buf) >= HEADER_LENGTH:
                message += f" of {FRAME_OVERHEAD + adu_length_at(buf, 0)} bytes"
            self._fail(events, FrameErrorKind.INCOMPLETE_FRAME, message, bytes(buf), 0, len(buf))
        else:
            self._skip(buf, 0, len(buf), events)
        self._flush_garbage(events)
        self._base += len(buf)
        buf.clear()
        self._resyncing = False
        return [event for event in events if isinstance(event, FrameError)]

    # -----------------------------------------------------------------------------------------

    def _fail(
        self,
        events: list[DecodedFrame | FrameError],
        kind: FrameErrorKind,
        message: str,
        raw: bytes,
        pos: int,
        step: int,
        frame: Frame | None = None,
    ) -> int:
        events.append(FrameError(kind, message, raw.hex(), self._base + pos, len(raw), frame))
        self.errors += 1
        self.bytes_discarded += step
        self._resyncing = True
        return pos + step

    def _skip(
        self, buf: bytes | bytearray, start: int, stop: int, events: list[DecodedFrame | FrameError]
    ) -> None:
        """Drop ``buf[start:stop]``: garbage, or the rest of a bad frame while resyncing."""
        if stop <= start:
            return
        self.bytes_discarded += stop - start
        if self._resyncing:
            return
        while start < stop:
            if self._garbage_size == 0:
                self._garbage_offset = self._base + start
            take = min(stop - start, self._garbage_report_bytes - self._garbage_size)
            room = _GARBAGE_PREVIEW_BYTES - len(self._garbage_preview)
            if room > 0:
                self._garbage_preview += buf[start : start + min(take, room)]
            self._garbage_size += take
            start += take
            if self._garbage_size >= self._garbage_report_bytes:
                self._flush_garbage(events)

    def _flush_garbage(self, events: list[DecodedFrame | FrameError]) -> None:
        if self._garbage_size == 0:
            return
        message = f"skipped {self._garbage_size} bytes outside any frame"
        events.append(
            FrameError(
                FrameErrorKind.GARBAGE,
                message,
                self._garbage_preview.hex(),
                self._garbage_offset,
                self._garbage_size,
            )
        )
        self.errors += 1
        self._garbage_size = 0
        self._garbage_preview.clear()


def _skip_stray_marker_bytes(buf: bytes | bytearray, start: int, end: int) -> int:
    """Where the frame starts in ``@@@...``: a few stray '@' may precede a valid frame."""
    probe = start
    while (
        probe - start < _MAX_STRAY_MARKER_BYTES
        and end - probe > 2
        and buf[probe + 2] == START_MARKER[0]
        and not _valid_frame_at(buf, probe, end)
    ):
        probe += 1
        if _valid_frame_at(buf, probe, end):
            return probe
    return start


def _valid_frame_at(buf: bytes | bytearray, start: int, end: int) -> bool:
    """Whether ``buf[start:end]`` begins with a complete frame whose length, end marker and
    checksum are right (its content is not checked)."""
    if end - start < FRAME_OVERHEAD or buf[start : start + 2] != START_MARKER:
        return False
    length = adu_length_at(buf, start)
    stop = start + FRAME_OVERHEAD + length
    return (
        length <= MAX_ADU_LENGTH
        and stop <= end
        and buf[stop - 2 : stop] == END_MARKER
        and _checksum(buf, start + 2, stop - 3) == buf[stop - 3]
    )


def _skip_marker_run(buf: bytes | bytearray, pos: int, end: int) -> int:
    """The first offset >= ``pos`` that may start a frame, given that ``buf[pos]`` is inside
    a run of '@': positions whose length field is still inside the run cannot."""
    found = _NOT_AT.search(buf, pos, end)
    run_end = end if found is None else found.start()
    return max(pos, run_end - _RUN_TAIL)


def _next_plausible(buf: bytes | bytearray, pos: int, end: int) -> int:
    """The first offset >= ``pos`` that may start a frame: a start marker followed by a
    plausible length field, or one whose length field has not arrived (then at most
    ``_RUN_TAIL`` bytes before ``end``). One pass: a run of '@' is skipped first."""
    if pos < end and buf[pos] == _AT:
        pos = _skip_marker_run(buf, pos, end)
    found = _PLAUSIBLE.search(buf, pos, end)
    if found is not None:
        return found.start()
    return max(pos, end - _RUN_TAIL)


class _LaterFrameScan:
    """Whether a complete valid frame starts behind an incomplete (held) one.

    State is kept between reads for the held frame, so each byte behind it is examined once
    however the bytes arrive: start markers whose length field has not arrived wait in
    ``_headers`` (in stream order), plausible frames not yet complete wait in ``_waiting``
    (a heap by the stream offset at which they complete), and the scan for new start markers
    goes on from ``_scanned``. All offsets are stream offsets (the buffer is compacted).
    """

    def __init__(self) -> None:
        self._held = -1
        self._scanned = 0
        self._headers: deque[int] = deque()
        self._waiting: list[tuple[int, int]] = []

    def find(self, buf: bytes | bytearray, pos: int, end: int, base: int) -> int | None:
        """Buffer offset of the first complete valid frame in ``buf[pos + 1:end]``, or None
        (``buf[pos:]`` is the held frame; ``base`` is the stream offset of ``buf[0]``)."""
        if self._held != base + pos:
            self._held = base + pos
            self._scanned = base + pos + 1
            self._headers.clear()
            self._waiting.clear()
        found: list[int] = []
        headers, waiting = self._headers, self._waiting
        while headers and headers[0] - base + HEADER_LENGTH - 1 <= end:
            self._classify(buf, headers.popleft() - base, end, base, found)
        while waiting and waiting[0][0] - base <= end:
            _, start = heapq.heappop(waiting)
            if _valid_frame_at(buf, start - base, end):
                found.append(start - base)
        q = max(self._scanned - base, pos + 1)
        while True:
            q = buf.find(START_MARKER, _next_plausible(buf, q, end), end)
            if q < 0:
                break
            self._classify(buf, q, end, base, found)
            q += 1
        self._scanned = base + max(end - 1, pos + 1)
        return min(found) if found else None

    def _classify(
        self, buf: bytes | bytearray, q: int, end: int, base: int, found: list[int]
    ) -> None:
        if end - q < HEADER_LENGTH - 1:  # the length field has not arrived
            self._headers.append(base + q)
            return
        length = adu_length_at(buf, q)
        if length > MAX_ADU_LENGTH:
            return
        stop = q + FRAME_OVERHEAD + length
        if stop > end:
            heapq.heappush(self._waiting, (base + stop, base + q))
        elif _valid_frame_at(buf, q, end):
            found.append(q)


def _checksum(buf: bytes | bytearray, start: int, stop: int) -> int:
    with memoryview(buf) as view:
        return checksum(view[start:stop])
