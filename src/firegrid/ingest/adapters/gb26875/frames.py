"""Frames: the 30-byte envelope around an ADU, and the frames a monitoring centre sends.

Layout (byte positions 1-based)::

    1  '@@' | 3 serial u16 LE | 5 version major, minor | 7 time tag (6) | 13 source (6, LE)
    19 destination (6, LE) | 25 ADU length L u16 LE | 27 command | 28 ADU (L) | 28+L checksum
    29+L '##'

The checksum is the sum of bytes 3..27+L modulo 256. The length field is the only way to find
the end of a frame: neither marker is escaped inside it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from firegrid.core.clock import CHINA_TZ

from .adu import (
    decode_application_data,
    encode_application_data,
)
from .fields import (
    MAX_ADU_LENGTH,
    DecodeError,
    InvalidFieldError,
    TimeTag,
    TruncatedObjectsError,
    _Problem,
    decode_time_tag,
    encode_time_tag,
)
from .flags import ANSWER_TYPE_FOR_READ, MAX_OBJECTS, Command, FrameErrorKind, is_reserved_command
from .objects import (
    ApplicationData,
    CheckPost,
    InfoObject,
    InitialiseTransmitter,
    RawApplicationData,
    SyncTransmitterClock,
)

START_MARKER = b"@@"
END_MARKER = b"##"
HEADER_LENGTH = 27  # start marker + 25-byte control unit
FRAME_OVERHEAD = 30  # header + checksum + end marker
MAX_FRAME_LENGTH = FRAME_OVERHEAD + MAX_ADU_LENGTH
MAX_ADDRESS = (1 << 48) - 1
PROTOCOL_VERSION = (1, 1)

# '@@', serial, major, minor, time tag, source low u32 + high u16, destination (same), L, command
_HEADER = struct.Struct("<2sHBB6sIHIHHB")
_LENGTH = struct.Struct("<H")
_LENGTH_OFFSET = 25 - 1  # L sits at byte positions 25-26
#: command bytes the standard does not reserve (a set lookup on the hot path)
_VALID_COMMANDS = frozenset(value for value in range(256) if not is_reserved_command(value))
_COMMANDS: tuple[Command | int, ...] = tuple(
    Command(value) if value in Command._value2member_map_ else value for value in range(256)
)


class IncompleteFrameError(DecodeError):
    """Fewer bytes than the header or the length field needs."""

    kind = FrameErrorKind.INCOMPLETE_FRAME


class StartMarkerError(DecodeError):
    """The bytes do not start with '@@'."""

    kind = FrameErrorKind.BAD_START_MARKER


class LengthTooLargeError(DecodeError):
    """The ADU length field is over 1024."""

    kind = FrameErrorKind.LENGTH_TOO_LARGE


class LengthMismatchError(DecodeError):
    """The length field does not fit the bytes: no end marker and no valid checksum there."""

    kind = FrameErrorKind.LENGTH_MISMATCH


class EndMarkerError(DecodeError):
    """The checksum is right but the two bytes after it are not '##'."""

    kind = FrameErrorKind.BAD_END_MARKER


class ChecksumError(DecodeError):
    """The end marker is where the length says, but the checksum is wrong."""

    kind = FrameErrorKind.BAD_CHECKSUM


class ReservedCommandError(DecodeError):
    """The command byte is reserved (0 or 7-127)."""

    kind = FrameErrorKind.RESERVED_COMMAND


class Frame(msgspec.Struct, frozen=True):
    """One frame. ``adu`` is None for an empty ADU (L = 0), as in confirm and deny.

    ``source`` and ``destination`` are the 6-byte little-endian addresses as ints; the wire
    bytes are ``source_bytes`` / ``destination_bytes``. ``command`` is a :class:`Command`, or a
    plain int for user-defined values (128-255).
    """

    serial: int
    version: tuple[int, int]
    sent_at: TimeTag
    source: int
    destination: int
    command: Command | int
    adu: ApplicationData | RawApplicationData | None = None

    @property
    def source_bytes(self) -> bytes:
        return self.source.to_bytes(6, "little")

    @property
    def destination_bytes(self) -> bytes:
        return self.destination.to_bytes(6, "little")


#: a sum of bytes that Adler-32's first half holds exactly (it counts modulo 65521)
_ADLER_EXACT_BYTES = 256


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The frame checksum: the sum of the bytes, modulo 256.

    Up to 256 bytes (a sum of at most 65,280) Adler-32's first half is exactly 1 + the sum,
    so C does the loop; a longer span is summed in Python."""
    if len(data) <= _ADLER_EXACT_BYTES:
        return ((zlib.adler32(data) & 0xFFFF) - 1) & 0xFF
    return sum(memoryview(data)) & 0xFF


# ---------------------------------------------------------------------------------------------
# Encoding


def _int_problem(value: Any, high: int) -> str | None:
    if isinstance(value, int) and 0 <= value <= high:
        return None
    return f"must be an integer in 0..{high}, got {value!r}"


def _header_problems(
    serial: Any, version: Any, sent_at: Any, source: Any, destination: Any, command: Any
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    checks = (
        ("serial", _int_problem(serial, 0xFFFF)),
        ("source", _int_problem(source, MAX_ADDRESS)),
        ("destination", _int_problem(destination, MAX_ADDRESS)),
        ("command", _int_problem(command, 0xFF)),
    )
    problems.extend((name, problem) for name, problem in checks if problem is not None)
    if not (
        isinstance(version, tuple)
        and len(version) == 2
        and all(_int_problem(part, 0xFF) is None for part in version)
    ):
        problems.append(("version", f"must be (major, minor) of two bytes, got {version!r}"))
    try:
        encode_time_tag(sent_at)
    except _Problem as err:
        problems.append(("sent_at", str(err)))
    return problems


def encode_frame(frame: Frame) -> bytes:
    """Encode a frame; every invalid field is reported in one :class:`InvalidFieldError`."""
    problems = _header_problems(
        frame.serial, frame.version, frame.sent_at, frame.source, frame.destination, frame.command
    )
    adu = b""
    if frame.adu is not None:
        try:
            adu = encode_application_data(frame.adu)
        except InvalidFieldError as err:
            problems.extend((f"adu.{field}", reason) for field, reason in err.problems)
    if problems:
        raise InvalidFieldError(problems)
    header = _HEADER.pack(
        START_MARKER,
        frame.serial,
        frame.version[0],
        frame.version[1],
        encode_time_tag(frame.sent_at),
        frame.source & 0xFFFF_FFFF,
        frame.source >> 32,
        frame.destination & 0xFFFF_FFFF,
        frame.destination >> 32,
        len(adu),
        int(frame.command),
    )
    body = header[2:] + adu
    return b"".join((header, adu, bytes((checksum(body),)), END_MARKER))


# ---------------------------------------------------------------------------------------------
# Decoding


def adu_length_at(buf: bytes | bytearray, start: int) -> int:
    """The ADU length field of the frame starting at ``start`` (needs 27 bytes there)."""
    length: int = _LENGTH.unpack_from(buf, start + _LENGTH_OFFSET)[0]
    return length


def decode_frame(data: bytes | bytearray) -> Frame:
    """Decode exactly one complete frame, raising a :class:`DecodeError` subclass if invalid."""
    if len(data) >= 2 and data[:2] != START_MARKER:
        raise StartMarkerError(f"frame starts with {bytes(data[:2]).hex()}, not 4040 ('@@')")
    if len(data) < HEADER_LENGTH:
        raise IncompleteFrameError(f"{len(data)} bytes, a frame needs at least {FRAME_OVERHEAD}")
    length = adu_length_at(data, 0)
    if length > MAX_ADU_LENGTH:
        raise LengthTooLargeError(f"ADU length {length} is over {MAX_ADU_LENGTH}")
    if len(data) < FRAME_OVERHEAD + length:
        raise IncompleteFrameError(
            f"{len(data)} bytes, the length field needs {FRAME_OVERHEAD + length}"
        )
    if len(data) > FRAME_OVERHEAD + length:
        raise LengthMismatchError(
            f"{len(data)} bytes, but the length field gives a {FRAME_OVERHEAD + length}-byte frame"
        )
    return decode_frame_at(bytes(data), 0, length)


def decode_frame_at(buf: bytes, start: int, length: int) -> Frame:
    """Decode the frame at ``buf[start:]``, whose start marker and ADU length ``length``
    (≤ 1024) the caller has read, and which ``buf`` holds completely."""
    adu_start = start + HEADER_LENGTH
    adu_end = adu_start + length
    end_ok = buf[adu_end + 1 : adu_end + 3] == END_MARKER
    sent_sum = buf[adu_end]
    computed = checksum(buf[start + 2 : adu_end])
    checksum_ok = computed == sent_sum
    if not (end_ok or checksum_ok):
        raise LengthMismatchError(
            f"length field says {length} ADU bytes, but neither the checksum nor the end "
            f"marker is where that puts them (found {buf[adu_end + 1 : adu_end + 3].hex()})"
        )
    (_, serial, major, minor, sent_raw, src_low, src_high, dst_low, dst_high, _, command) = (
        _HEADER.unpack_from(buf, start)
    )
    adu = buf[adu_start:adu_end]
    version, sent_at = (major, minor), decode_time_tag(sent_raw)
    source, destination = src_low | src_high << 32, dst_low | dst_high << 32
    verb = _COMMANDS[command]
    if end_ok and checksum_ok and adu and command in _VALID_COMMANDS:
        try:  # the valid frame (the hot path)
            return Frame(
                serial, version, sent_at, source, destination, verb, decode_application_data(adu)
            )
        except TruncatedObjectsError as err:
            partial = Frame(serial, version, sent_at, source, destination, verb, err.partial)
            raise TruncatedObjectsError(str(err), partial=err.partial, frame=partial) from err

    def frame(data: ApplicationData | RawApplicationData | None) -> Frame:
        return Frame(serial, version, sent_at, source, destination, verb, data)

    raw = RawApplicationData(adu) if adu else None
    if not end_ok:
        raise EndMarkerError(
            f"checksum is right, but the end marker is {buf[adu_end + 1 : adu_end + 3].hex()}, "
            "not 2323 ('##')",
            frame=frame(raw),
        )
    if not checksum_ok:
        raise ChecksumError(
            f"checksum is {sent_sum:#04x}, the bytes sum to {computed:#04x}", frame=frame(raw)
        )
    if is_reserved_command(command):
        raise ReservedCommandError(f"command byte {command} is reserved", frame=frame(raw))
    if not adu:
        return frame(None)
    raise AssertionError("a whole frame with an ADU and a valid command is decoded above")


# ---------------------------------------------------------------------------------------------
# Frames the centre sends


def _stamp(now: datetime) -> datetime:
    """``now`` as the decoder will see it: China Standard Time, whole seconds."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidFieldError([("now", f"must be a timezone-aware datetime, got {now!r}")])
    return now.astimezone(CHINA_TZ).replace(microsecond=0)


def _checked(frame: Frame) -> Frame:
    problems = _header_problems(
        frame.serial, frame.version, frame.sent_at, frame.source, frame.destination, frame.command
    )
    if problems:
        raise InvalidFieldError(problems)
    return frame


def _reply(frame: Frame, now: datetime, centre_address: int, command: Command) -> Frame:
    return _checked(
        Frame(frame.serial, frame.version, _stamp(now), centre_address, frame.source, command)
    )


def confirm(frame: Frame, now: datetime, centre_address: int) -> Frame:
    """Confirm (command 3) ``frame``: same serial and version, sent to its source, no ADU."""
    return _reply(frame, now, centre_address, Command.CONFIRM)


def deny(frame: Frame, now: datetime, centre_address: int) -> Frame:
    """Deny (command 6) ``frame``: same serial and version, sent to its source, no ADU."""
    return _reply(frame, now, centre_address, Command.DENY)


def _downstream(
    objects: Sequence[InfoObject],
    command: Command,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
) -> Frame:
    data = ApplicationData.of(objects)
    limit = MAX_OBJECTS[data.type_flag]
    if len(data.objects) > limit:
        raise InvalidFieldError(
            [("objects", f"type {data.type_flag} allows {limit} object(s), got {len(objects)}")]
        )
    encode_application_data(data)  # validates every object field
    return _checked(
        Frame(serial, PROTOCOL_VERSION, _stamp(now), centre_address, device_address, command, data)
    )


def query(
    objects: Sequence[InfoObject],
    *,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
) -> Frame:
    """Request (command 4) with read objects of one type (61-68 or 81-88).

    The transmitter answers with command 5, the same serial and the type in
    ``ANSWER_TYPE_FOR_READ``.
    """
    if objects and objects[0].TYPE_FLAG not in ANSWER_TYPE_FOR_READ:
        raise InvalidFieldError(
            [("objects", f"{type(objects[0]).__name__} is not a read request (61-68, 81-88)")]
        )
    return _downstream(objects, Command.REQUEST, serial, now, centre_address, device_address)


def clock_sync(
    *,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
    command: Command = Command.CONTROL,
) -> Frame:
    """Set the transmitter's clock to ``now`` (type 90; command 1 by default, 4 also seen)."""
    objects = [SyncTransmitterClock(_stamp(now))]
    return _downstream(objects, command, serial, now, centre_address, device_address)


def initialise(
    *,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
    command: Command = Command.CONTROL,
) -> Frame:
    """Initialise the transmitter (type 89; command 1 by default, 4 also seen)."""
    objects = [InitialiseTransmitter()]
    return _downstream(objects, command, serial, now, centre_address, device_address)


def check_post(
    *,
    serial: int,
    now: datetime,
    centre_address: int,
    device_address: int,
    reply_timeout_min: int,
    command: Command = Command.CONTROL,
) -> Frame:
    """Check that an operator is on duty (type 91), answering within ``reply_timeout_min``."""
    objects = [CheckPost(reply_timeout_min)]
    return _downstream(objects, command, serial, now, centre_address, device_address)
