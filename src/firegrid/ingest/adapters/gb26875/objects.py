"""Information objects of the application data unit (ADU), and the field encodings they share.

An ADU is ``type flag (1) | object count n (1) | n objects``. Every object kind is one frozen
``msgspec.Struct``; its wire layout is one row of ``_LAYOUTS`` (field name, struct format,
decoder, encoder), so adding a type is adding a struct and a row.

Field encodings:

- Time tags are 6 binary bytes (sec, min, hour, day, month, year-2000) in China Standard Time.
  They decode to an aware ``datetime`` in Asia/Shanghai, or to :class:`InvalidTimeTag` holding
  the raw bytes when the fields are out of range (month 0, hour 24 ...): decoding never fails
  on a bad clock.
- Descriptions are 31 bytes of GB18030, cut at the first NUL, trailing spaces stripped,
  decoded with replacement (a character cut at byte 31 becomes U+FFFD).
- Configuration texts (types 6 and 26) are a length byte and that many GB18030 bytes, kept
  exactly as sent (decoded with replacement).
- Addresses and component addresses are little-endian ints; the wire bytes are recovered
  exactly with ``int.to_bytes(n, "little")`` (see :func:`component_address_bytes`).
"""

from __future__ import annotations

import functools
import operator
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import msgspec

from firegrid.core.clock import CHINA_TZ

from .flags import (
    ANALOG_QUANTITIES,
    AnalogQuantity,
    ComponentStatusFlag,
    FrameErrorKind,
    SystemOperationFlag,
    SystemStatusFlag,
    TransmitterOperationFlag,
    TransmitterStatusFlag,
    TypeFlag,
)

if TYPE_CHECKING:
    from .frames import Frame

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


# ---------------------------------------------------------------------------------------------
# Information objects


class InfoObject(msgspec.Struct, frozen=True):
    """Base of all information objects. ``TYPE_FLAG`` is the ADU type flag of the kind."""

    TYPE_FLAG: ClassVar[TypeFlag]


class SystemStatus(InfoObject, frozen=True):
    """Type 1: status of a building fire system."""

    TYPE_FLAG = TypeFlag.SYSTEM_STATUS
    system_type: int
    system_address: int
    status: SystemStatusFlag
    occurred_at: TimeTag


class ComponentStatus(InfoObject, frozen=True):
    """Type 2: running status of a building component (detector, module ...)."""

    TYPE_FLAG = TypeFlag.COMPONENT_STATUS
    system_type: int
    system_address: int
    component_type: int
    component_address: int
    status: ComponentStatusFlag
    description: str
    occurred_at: TimeTag


class AnalogValue(InfoObject, frozen=True):
    """Type 3: an analog value of a component; ``raw_value`` is the signed wire integer."""

    TYPE_FLAG = TypeFlag.COMPONENT_ANALOG_VALUE
    system_type: int
    system_address: int
    component_type: int
    component_address: int
    analog_type: int
    raw_value: int
    sampled_at: TimeTag

    @property
    def quantity(self) -> AnalogQuantity | None:
        """The table row for ``analog_type``, None for unused/reserved/user-defined types."""
        return ANALOG_QUANTITIES.get(self.analog_type)

    @property
    def value_in_unit(self) -> float | None:
        """``raw_value`` scaled to ``quantity.unit``; None when the type is not in the table."""
        quantity = self.quantity
        return None if quantity is None else self.raw_value / quantity.raw_per_unit

    @property
    def within_range(self) -> bool | None:
        """Whether the value lies in the standard's valid range (never a reason to drop it)."""
        quantity = self.quantity
        if quantity is None:
            return None
        value = self.raw_value / quantity.raw_per_unit
        return quantity.minimum_in_unit <= value <= quantity.maximum_in_unit


class SystemOperation(InfoObject, frozen=True):
    """Type 4: an operation on a building fire system (reset, silence ...)."""

    TYPE_FLAG = TypeFlag.SYSTEM_OPERATION
    system_type: int
    system_address: int
    operations: SystemOperationFlag
    operator_number: int
    occurred_at: TimeTag


class SystemSoftwareVersion(InfoObject, frozen=True):
    """Type 5: software version of a building fire system."""

    TYPE_FLAG = TypeFlag.SYSTEM_SOFTWARE_VERSION
    system_type: int
    system_address: int
    major: int
    minor: int


class SystemConfiguration(InfoObject, frozen=True):
    """Type 6: configuration text of a building fire system."""

    TYPE_FLAG = TypeFlag.SYSTEM_CONFIGURATION
    system_type: int
    system_address: int
    text: str


class ComponentConfiguration(InfoObject, frozen=True):
    """Type 7: configuration (description) of a building component."""

    TYPE_FLAG = TypeFlag.COMPONENT_CONFIGURATION
    system_type: int
    system_address: int
    component_type: int
    component_address: int
    description: str


class SystemClock(InfoObject, frozen=True):
    """Type 8: the clock of a building fire system."""

    TYPE_FLAG = TypeFlag.SYSTEM_CLOCK
    system_type: int
    system_address: int
    system_time: TimeTag


class TransmitterStatus(InfoObject, frozen=True):
    """Type 21: running status of the transmitter (often sent as a heartbeat)."""

    TYPE_FLAG = TypeFlag.TRANSMITTER_STATUS
    status: TransmitterStatusFlag
    occurred_at: TimeTag


class TransmitterOperation(InfoObject, frozen=True):
    """Type 24: an operation on the transmitter."""

    TYPE_FLAG = TypeFlag.TRANSMITTER_OPERATION
    operations: TransmitterOperationFlag
    operator_number: int
    occurred_at: TimeTag


class TransmitterSoftwareVersion(InfoObject, frozen=True):
    """Type 25: software version of the transmitter."""

    TYPE_FLAG = TypeFlag.TRANSMITTER_SOFTWARE_VERSION
    major: int
    minor: int


class TransmitterConfiguration(InfoObject, frozen=True):
    """Type 26: configuration text of the transmitter."""

    TYPE_FLAG = TypeFlag.TRANSMITTER_CONFIGURATION
    text: str


class TransmitterClock(InfoObject, frozen=True):
    """Type 28: the transmitter's clock."""

    TYPE_FLAG = TypeFlag.TRANSMITTER_CLOCK
    transmitter_time: TimeTag


class ReadSystemStatus(InfoObject, frozen=True):
    """Type 61: read a building fire system's status."""

    TYPE_FLAG = TypeFlag.READ_SYSTEM_STATUS
    system_type: int
    system_address: int


class ReadComponentStatus(InfoObject, frozen=True):
    """Type 62: read a component's status (the request carries no component type)."""

    TYPE_FLAG = TypeFlag.READ_COMPONENT_STATUS
    system_type: int
    system_address: int
    component_address: int


class ReadComponentAnalogValues(InfoObject, frozen=True):
    """Type 63: read a component's analog values."""

    TYPE_FLAG = TypeFlag.READ_COMPONENT_ANALOG_VALUES
    system_type: int
    system_address: int
    component_address: int


class ReadSystemOperations(InfoObject, frozen=True):
    """Type 64: read up to ``record_count`` (≤ 102) operation records from ``start_time``."""

    TYPE_FLAG = TypeFlag.READ_SYSTEM_OPERATIONS
    system_type: int
    system_address: int
    record_count: int
    start_time: TimeTag


class ReadSystemSoftwareVersion(InfoObject, frozen=True):
    """Type 65: read a building fire system's software version."""

    TYPE_FLAG = TypeFlag.READ_SYSTEM_SOFTWARE_VERSION
    system_type: int
    system_address: int


class ReadSystemConfiguration(InfoObject, frozen=True):
    """Type 66: read a building fire system's configuration."""

    TYPE_FLAG = TypeFlag.READ_SYSTEM_CONFIGURATION
    system_type: int
    system_address: int


class ReadComponentConfiguration(InfoObject, frozen=True):
    """Type 67: read a component's configuration."""

    TYPE_FLAG = TypeFlag.READ_COMPONENT_CONFIGURATION
    system_type: int
    system_address: int
    component_address: int


class ReadSystemClock(InfoObject, frozen=True):
    """Type 68: read a building fire system's clock."""

    TYPE_FLAG = TypeFlag.READ_SYSTEM_CLOCK
    system_type: int
    system_address: int


class ReadTransmitterStatus(InfoObject, frozen=True):
    """Type 81: read the transmitter's status (one reserved byte, 0)."""

    TYPE_FLAG = TypeFlag.READ_TRANSMITTER_STATUS
    reserved: int = 0


class ReadTransmitterOperations(InfoObject, frozen=True):
    """Type 84: read up to ``record_count`` (≤ 102) transmitter operations from ``start_time``."""

    TYPE_FLAG = TypeFlag.READ_TRANSMITTER_OPERATIONS
    record_count: int
    start_time: TimeTag


class ReadTransmitterSoftwareVersion(InfoObject, frozen=True):
    """Type 85: read the transmitter's software version (one reserved byte, 0)."""

    TYPE_FLAG = TypeFlag.READ_TRANSMITTER_SOFTWARE_VERSION
    reserved: int = 0


class ReadTransmitterConfiguration(InfoObject, frozen=True):
    """Type 86: read the transmitter's configuration (one reserved byte, 0)."""

    TYPE_FLAG = TypeFlag.READ_TRANSMITTER_CONFIGURATION
    reserved: int = 0


class ReadTransmitterClock(InfoObject, frozen=True):
    """Type 88: read the transmitter's clock (one reserved byte, 0)."""

    TYPE_FLAG = TypeFlag.READ_TRANSMITTER_CLOCK
    reserved: int = 0


class InitialiseTransmitter(InfoObject, frozen=True):
    """Type 89: initialise the transmitter (one reserved byte, 0)."""

    TYPE_FLAG = TypeFlag.INITIALISE_TRANSMITTER
    reserved: int = 0


class SyncTransmitterClock(InfoObject, frozen=True):
    """Type 90: set the transmitter's clock to ``centre_time`` (6 bytes, no reserved byte)."""

    TYPE_FLAG = TypeFlag.SYNC_TRANSMITTER_CLOCK
    centre_time: TimeTag


class CheckPost(InfoObject, frozen=True):
    """Type 91: check that an operator is on duty; they must answer within the timeout."""

    TYPE_FLAG = TypeFlag.CHECK_POST
    reply_timeout_min: int


class ApplicationData(msgspec.Struct, frozen=True):
    """A decoded ADU: one type flag and its objects.

    ``extra_bytes`` holds bytes after the last declared object (kept so that encoding
    reproduces the frame; empty for a well-formed ADU).
    """

    type_flag: TypeFlag
    objects: tuple[InfoObject, ...]
    extra_bytes: bytes = b""

    @classmethod
    def of(cls, objects: Iterable[InfoObject]) -> ApplicationData:
        """Build from a non-empty sequence of objects of one kind."""
        items = tuple(objects)
        if not items:
            raise InvalidFieldError([("objects", "need at least one object to infer the type")])
        return cls(items[0].TYPE_FLAG, items)


class RawApplicationData(msgspec.Struct, frozen=True):
    """An ADU kept undecoded: an unknown (reserved or user-defined) type flag, or a frame
    whose checksum failed (its objects must never become alarms)."""

    raw: bytes

    @property
    def type_flag(self) -> int | None:
        return self.raw[0] if self.raw else None

    @property
    def note(self) -> str:
        flag = self.type_flag
        if flag is None:
            return "empty ADU"
        if flag in _LAYOUT_BY_FLAG:
            return f"ADU of type {flag} kept raw ({len(self.raw)} bytes)"
        kind = "user-defined" if 128 <= flag <= 254 else "reserved"
        return f"type flag {flag} is {kind}, not decoded; ADU kept raw ({len(self.raw)} bytes)"


# ---------------------------------------------------------------------------------------------
# Wire layouts


def _int_field(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or not low <= value <= high:
            raise _Problem(f"must be an integer in {low}..{high}, got {value!r}")
        return int(value)

    return check


_U8 = _int_field(0, 0xFF)
_U16 = _int_field(0, 0xFFFF)
_U32 = _int_field(0, 0xFFFF_FFFF)
_I16 = _int_field(-0x8000, 0x7FFF)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    fmt: str
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]


def _u8(name: str) -> _Field:
    return _Field(name, "B", int, _U8)


def _u16_flag(name: str, flag: Callable[[int], Any]) -> _Field:
    return _Field(name, "H", flag, _U16)


def _u8_flag(name: str, flag: Callable[[int], Any]) -> _Field:
    return _Field(name, "B", flag, _U8)


def _time(name: str) -> _Field:
    return _Field(name, "6s", decode_time_tag, encode_time_tag)


_COMPONENT_ADDRESS = _Field("component_address", "I", int, _U32)
_DESCRIPTION = _Field(
    "description", f"{DESCRIPTION_LENGTH}s", decode_description, encode_description
)
_SYSTEM = (_u8("system_type"), _u8("system_address"))
_COMPONENT = (*_SYSTEM, _u8("component_type"), _COMPONENT_ADDRESS)
_RESERVED = (_u8("reserved"),)


class _Layout:
    """How one object kind sits on the wire: fixed-size (a struct) or a length-prefixed text."""

    def __init__(self, cls: type[InfoObject], fields: Sequence[_Field], text: bool = False):
        self.cls = cls
        self.fields = tuple(fields)
        self.head = struct.Struct("<" + "".join(f.fmt for f in self.fields))
        self.decoders = tuple(f.decode for f in self.fields)
        # A text layout is ``head | length byte | text``; the text is the struct's last field.
        self.text = text
        names = tuple(f.name for f in self.fields) + (("text",) if text else ())
        if names != cls.__struct_fields__:
            raise RuntimeError(f"layout of {cls.__name__} does not match its fields: {names}")

    def decode_all(self, adu: bytes, count: int) -> tuple[list[InfoObject], int, str | None]:
        """Decode ``count`` objects from ``adu[2:]``; return objects, end offset, problem."""
        if self.text:
            return self._decode_texts(adu, count)
        size = self.head.size
        end = 2 + count * size
        complete = count if end <= len(adu) else (len(adu) - 2) // size
        stop = 2 + complete * size
        make, call, decoders = self.cls, operator.call, self.decoders
        objects = [
            make(*map(call, decoders, values)) for values in self.head.iter_unpack(adu[2:stop])
        ]
        if complete < count:
            return objects, stop, f"{count} objects of {size} bytes declared, {complete} fit"
        return objects, stop, None

    def _decode_texts(self, adu: bytes, count: int) -> tuple[list[InfoObject], int, str | None]:
        objects: list[InfoObject] = []
        offset, head = 2, self.head
        for index in range(count):
            if offset + head.size + 1 > len(adu):
                return objects, offset, f"object {index} of {count} is cut before its text"
            values = head.unpack_from(adu, offset)
            offset += head.size
            length = adu[offset]
            offset += 1
            if offset + length > len(adu):
                return objects, offset, f"text of object {index} runs past the ADU end"
            text = adu[offset : offset + length].decode(TEXT_ENCODING, "replace")
            offset += length
            objects.append(self.cls(*map(operator.call, self.decoders, values), text))
        return objects, offset, None

    def encode(self, obj: InfoObject, path: str, problems: list[tuple[str, str]]) -> bytes:
        values = []
        for field in self.fields:
            try:
                values.append(field.encode(getattr(obj, field.name)))
            except _Problem as err:
                problems.append((f"{path}.{field.name}", str(err)))
        text = b""
        if self.text:
            try:
                text = _encode_text(_text_of(obj))
                if len(text) > 0xFF:
                    raise _Problem(f"is {len(text)} bytes in GB18030, at most 255 fit")
            except _Problem as err:
                problems.append((f"{path}.text", str(err)))
        if problems:
            return b""
        if self.text:
            return self.head.pack(*values) + bytes((len(text),)) + text
        return self.head.pack(*values)


def _text_of(obj: InfoObject) -> str:
    text = getattr(obj, "text", None)
    if not isinstance(text, str):
        raise _Problem(f"must be str, got {type(text).__name__}")
    return text


_SYSTEM_ADDRESSED_READS = (
    ReadSystemStatus,
    ReadSystemSoftwareVersion,
    ReadSystemConfiguration,
    ReadSystemClock,
)
_COMPONENT_ADDRESSED_READS = (
    ReadComponentStatus,
    ReadComponentAnalogValues,
    ReadComponentConfiguration,
)
_RESERVED_ONLY = (
    ReadTransmitterStatus,
    ReadTransmitterSoftwareVersion,
    ReadTransmitterConfiguration,
    ReadTransmitterClock,
    InitialiseTransmitter,
)

_LAYOUTS: tuple[_Layout, ...] = (
    _Layout(SystemStatus, (*_SYSTEM, _u16_flag("status", SystemStatusFlag), _time("occurred_at"))),
    _Layout(
        ComponentStatus,
        (*_COMPONENT, _u16_flag("status", ComponentStatusFlag), _DESCRIPTION, _time("occurred_at")),
    ),
    _Layout(
        AnalogValue,
        (*_COMPONENT, _u8("analog_type"), _Field("raw_value", "h", int, _I16), _time("sampled_at")),
    ),
    _Layout(
        SystemOperation,
        (
            *_SYSTEM,
            _u8_flag("operations", SystemOperationFlag),
            _u8("operator_number"),
            _time("occurred_at"),
        ),
    ),
    _Layout(SystemSoftwareVersion, (*_SYSTEM, _u8("major"), _u8("minor"))),
    _Layout(SystemConfiguration, _SYSTEM, text=True),
    _Layout(ComponentConfiguration, (*_COMPONENT, _DESCRIPTION)),
    _Layout(SystemClock, (*_SYSTEM, _time("system_time"))),
    _Layout(TransmitterStatus, (_u8_flag("status", TransmitterStatusFlag), _time("occurred_at"))),
    _Layout(
        TransmitterOperation,
        (
            _u8_flag("operations", TransmitterOperationFlag),
            _u8("operator_number"),
            _time("occurred_at"),
        ),
    ),
    _Layout(TransmitterSoftwareVersion, (_u8("major"), _u8("minor"))),
    _Layout(TransmitterConfiguration, (), text=True),
    _Layout(TransmitterClock, (_time("transmitter_time"),)),
    *(_Layout(cls, _SYSTEM) for cls in _SYSTEM_ADDRESSED_READS),
    *(_Layout(cls, (*_SYSTEM, _COMPONENT_ADDRESS)) for cls in _COMPONENT_ADDRESSED_READS),
    _Layout(ReadSystemOperations, (*_SYSTEM, _u8("record_count"), _time("start_time"))),
    _Layout(ReadTransmitterOperations, (_u8("record_count"), _time("start_time"))),
    *(_Layout(cls, _RESERVED) for cls in _RESERVED_ONLY),
    _Layout(SyncTransmitterClock, (_time("centre_time"),)),
    _Layout(CheckPost, (_u8("reply_timeout_min"),)),
)

_LAYOUT_BY_FLAG: dict[int, _Layout] = {layout.cls.TYPE_FLAG: layout for layout in _LAYOUTS}
if set(_LAYOUT_BY_FLAG) != set(TypeFlag):
    raise RuntimeError("every TypeFlag needs exactly one wire layout")

#: Object class for each type flag.
OBJECT_CLASSES: dict[TypeFlag, type[InfoObject]] = {
    TypeFlag(flag): layout.cls for flag, layout in _LAYOUT_BY_FLAG.items()
}


# ---------------------------------------------------------------------------------------------
# ADU encode / decode


def decode_application_data(adu: bytes) -> ApplicationData | RawApplicationData:
    """Decode a non-empty ADU.

    Unknown type flags give :class:`RawApplicationData`. An ADU that ends inside an object
    raises :class:`TruncatedObjectsError` carrying the complete objects. Never reads past
    ``adu``.
    """
    if not adu:
        raise TruncatedObjectsError("empty ADU has no type flag", partial=None)
    layout = _LAYOUT_BY_FLAG.get(adu[0])
    if layout is None:
        return RawApplicationData(bytes(adu))
    if len(adu) < 2:
        raise TruncatedObjectsError(f"type {adu[0]} ADU has no object count", partial=None)
    count = adu[1]
    objects, end, problem = layout.decode_all(adu, count)
    data = ApplicationData(layout.cls.TYPE_FLAG, tuple(objects), bytes(adu[end:]))
    if problem is not None:
        raise TruncatedObjectsError(
            f"type {adu[0]} ADU of {len(adu)} bytes is truncated: {problem}", partial=data
        )
    return data


def encode_application_data(data: ApplicationData | RawApplicationData) -> bytes:
    """Encode an ADU; every invalid field is reported in one :class:`InvalidFieldError`."""
    problems: list[tuple[str, str]] = []
    if isinstance(data, RawApplicationData):
        payload = bytes(data.raw)
    else:
        layout = _LAYOUT_BY_FLAG.get(data.type_flag)
        if layout is None:
            raise InvalidFieldError([("type_flag", f"unknown type flag {data.type_flag!r}")])
        if len(data.objects) > 0xFF:
            problems.append(("objects", f"at most 255 objects, got {len(data.objects)}"))
        parts = [bytes((layout.cls.TYPE_FLAG, len(data.objects) & 0xFF))]
        for index, obj in enumerate(data.objects):
            if type(obj) is not layout.cls:
                problems.append(
                    (
                        f"objects[{index}]",
                        f"type {data.type_flag} needs {layout.cls.__name__}, "
                        f"got {type(obj).__name__}",
                    )
                )
                continue
            parts.append(layout.encode(obj, f"objects[{index}]", problems))
        parts.append(bytes(data.extra_bytes))
        payload = b"".join(parts)
    if len(payload) > MAX_ADU_LENGTH:
        problems.append(("adu", f"is {len(payload)} bytes, at most {MAX_ADU_LENGTH} allowed"))
    if problems:
        raise InvalidFieldError(problems)
    return payload
