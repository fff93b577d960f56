"""Field encodings shared by the GB/T 26875.3 objects and frames, and the codec's errors.

- Time tags are 6 binary bytes (sec, min, hour, day, month, year-2000) in China Standard Time.
  They decode to an aware ``datetime`` in Asia/Shanghai, or to :class:`InvalidTimeTag` holding
  the raw bytes when the fields are out of range (month 0, hour 24 ...): decoding never fails
  on a bad clock.
- Descriptions are 31 bytes of GB18030, cut at the first NUL, trailing spaces stripped,
  decoded with replacement (a character cut at byte 31 becomes U+FFFD).
- Configuration texts (types 6 and 26) are a length byte and that many GB18030 bytes; like
  descriptions they end at the first NUL (devices pad them) and are decoded with
  replacement. The exact bytes are kept beside the text when they are not its plain
  encoding (padding, bytes that are not GB18030), so re-encoding gives the wire bytes back.
- Addresses and component addresses are little-endian ints; the wire bytes are recovered
  exactly with ``int.to_bytes(n, "little")`` (see :func:`component_address_bytes`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypeAlias

import msgspec

from firegrid.core.clock import CHINA_TZ

from .flags import (
    FrameErrorKind,
)

if TYPE_CHECKING:
    from .frames import Frame
    from .objects import ApplicationData

MAX_ADU_LENGTH = 1024
DESCRIPTION_LENGTH = 31
TEXT_ENCODING = "gb18030"

# ---------------------------------------------------------------------------------------------
# Errors


class CodecError(ValueError):
    """Base of every error raised by the GB/T 26875.3 codec."""


class InvalidFieldError(CodecError):
    """A value cannot be encoded. ``problems`` lists every bad field as ``(field, reason)``."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        detail = "; ".join(f"{field}: {reason}" for field, reason in self.problems)
        super().__init__(f"cannot encode, invalid field(s): {detail}")

    @property
    def field(self) -> str:
        """Name of the first invalid field."""
        return self.problems[0][0]


class DecodeError(CodecError):
    """Bytes that are not a valid frame or ADU.

    ``kind`` is what the stream decoder reports in ``FrameError.kind``.
    ``frame`` is set when the control unit is intact (the centre can then answer with DENY);
    its ADU is never decoded into objects unless the checksum is good.
    """

    kind: ClassVar[FrameErrorKind]

    def __init__(self, message: str, *, frame: Frame | None = None) -> None:
        super().__init__(message)
        self.frame = frame


class TruncatedObjectsError(DecodeError):
    """The ADU ends inside an object. ``partial`` holds the objects that were complete."""

    kind = FrameErrorKind.TRUNCATED_OBJECTS

    def __init__(
        self, message: str, *, partial: ApplicationData | None, frame: Frame | None = None
    ) -> None:
        super().__init__(message, frame=frame)
        self.partial = partial


class _Problem(ValueError):
    """Internal: one field value cannot be encoded (collected into InvalidFieldError)."""


# ---------------------------------------------------------------------------------------------
# Time tags


class InvalidTimeTag(msgspec.Struct, frozen=True):
    """A 6-byte time tag whose fields do not form a date (kept raw; never a decode error)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 6:
            raise InvalidFieldError([("time tag", f"needs 6 bytes, got {len(self.raw)}")])

    @property
    def reason(self) -> str:
        second, minute, hour, day, month, year = self.raw
        return (
            f"not a valid time: 20{year:02d}-{month:02d}-{day:02d} "
            f"{hour:02d}:{minute:02d}:{second:02d} (raw {self.raw.hex()})"
        )


#: A decoded time tag: an aware datetime in Asia/Shanghai, or the raw bytes when invalid.
TimeTag: TypeAlias = datetime | InvalidTimeTag


@functools.lru_cache(maxsize=4096)
def decode_time_tag(raw: bytes) -> TimeTag:
    """Decode 6 binary bytes (sec, min, hour, day, month, yy) to an aware datetime."""
    second, minute, hour, day, month, year = raw
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=CHINA_TZ)
    except ValueError:
        return InvalidTimeTag(bytes(raw))


def encode_time_tag(value: TimeTag) -> bytes:
    """Encode an aware datetime (converted to China Standard Time, seconds precision)."""
    if isinstance(value, InvalidTimeTag):
        return value.raw
    if not isinstance(value, datetime):
        raise _Problem(f"must be an aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _Problem(f"must be timezone-aware, got naive {value.isoformat()}")
    local = value.astimezone(CHINA_TZ)
    if not 2000 <= local.year <= 2099:
        raise _Problem(f"year must be 2000..2099 in China Standard Time, got {local.year}")
    return bytes(
        (local.second, local.minute, local.hour, local.day, local.month, local.year - 2000)
    )


# ---------------------------------------------------------------------------------------------
# Text


def decode_description(raw: bytes) -> str:
    """Decode a 31-byte GB18030 description: cut at the first NUL, strip trailing spaces."""
    end = raw.find(0)
    if end >= 0:
        raw = raw[:end]
    return raw.decode(TEXT_ENCODING, "replace").rstrip(" ")


def decode_text(raw: bytes) -> tuple[str, bytes]:
    """Decode a configuration text: the text up to the first NUL, and the exact bytes when
    they are not the plain GB18030 encoding of that text (else ``b""``)."""
    end = raw.find(0)
    text = (raw if end < 0 else raw[:end]).decode(TEXT_ENCODING, "replace")
    return text, (b"" if end < 0 and text.encode(TEXT_ENCODING) == raw else bytes(raw))


def encode_text(text: str, wire_text: bytes = b"") -> bytes:
    """The bytes of a configuration text (at most 255): ``wire_text`` when given (it must
    decode to ``text``), else ``text`` in GB18030, which must not contain NUL."""
    if not isinstance(text, str):
        raise _Problem(f"must be str, got {type(text).__name__}")
    if wire_text:
        if decode_text(wire_text)[0] != text:
            raise _Problem("does not match its wire bytes (wire_text decodes to another text)")
        data = bytes(wire_text)
    else:
        if "\x00" in text:
            raise _Problem("must not contain NUL (it ends the text on the wire)")
        data = _encode_text(text)
    if len(data) > 0xFF:
        raise _Problem(f"is {len(data)} bytes in GB18030, at most 255 fit")
    return data


def encode_description(text: str) -> bytes:
    """Encode a description to at most 31 GB18030 bytes (``struct`` pads it with NULs).

    Trailing spaces are sent but do not survive decoding, as the note prescribes.
    """
    if not isinstance(text, str):
        raise _Problem(f"must be str, got {type(text).__name__}")
    if "\x00" in text:
        raise _Problem("must not contain NUL (it ends the text on the wire)")
    data = _encode_text(text)
    if len(data) > DESCRIPTION_LENGTH:
        raise _Problem(
            f"is {len(data)} bytes in GB18030, at most {DESCRIPTION_LENGTH} fit: {text!r}"
        )
    return data


def _encode_text(text: str) -> bytes:
    try:
        return text.encode(TEXT_ENCODING)
    except UnicodeEncodeError as err:
        raise _Problem(f"cannot be encoded as GB18030: {err.reason}") from err


def component_address_bytes(component_address: int) -> bytes:
    """The 4 wire bytes of a component address (little-endian)."""
    return component_address.to_bytes(4, "little")
