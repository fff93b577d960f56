"""Wire layouts of the information objects, and ADU decode/encode."""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .fields import (
    DESCRIPTION_LENGTH,
    MAX_ADU_LENGTH,
    InvalidFieldError,
    TruncatedObjectsError,
    _Problem,
    decode_description,
    decode_text,
    decode_time_tag,
    encode_description,
    encode_text,
    encode_time_tag,
)
from .flags import (
    ComponentStatusFlag,
    SystemOperationFlag,
    SystemStatusFlag,
    TransmitterOperationFlag,
    TransmitterStatusFlag,
    TypeFlag,
)
from .objects import (
    AnalogValue,
    ApplicationData,
    CheckPost,
    ComponentConfiguration,
    ComponentStatus,
    InfoObject,
    InitialiseTransmitter,
    RawApplicationData,
    ReadComponentAnalogValues,
    ReadComponentConfiguration,
    ReadComponentStatus,
    ReadSystemClock,
    ReadSystemConfiguration,
    ReadSystemOperations,
    ReadSystemSoftwareVersion,
    ReadSystemStatus,
    ReadTransmitterClock,
    ReadTransmitterConfiguration,
    ReadTransmitterOperations,
    ReadTransmitterSoftwareVersion,
    ReadTransmitterStatus,
    SyncTransmitterClock,
    SystemClock,
    SystemConfiguration,
    SystemOperation,
    SystemSoftwareVersion,
    SystemStatus,
    TransmitterClock,
    TransmitterConfiguration,
    TransmitterOperation,
    TransmitterSoftwareVersion,
    TransmitterStatus,
)

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


def _memo(decode: Callable[[Any], Any], size: int = 4096) -> Callable[[Any], Any]:
    """``decode`` with its results kept for repeated wire values (status words, time tags
    of the same second, descriptions repeat): each result is immutable, so it is shared."""
    cache: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        found = cache.get(value, cache)
        if found is cache:
            found = decode(value)
            if len(cache) >= size:
                cache.clear()
            cache[value] = found
        return found

    return cached


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    fmt: str
    decode: Callable[[Any], Any]
    encode: Callable[[Any], Any]


def _u8(name: str) -> _Field:
    return _Field(name, "B", int, _U8)


def _u16_flag(name: str, flag: Callable[[int], Any]) -> _Field:
    return _Field(name, "H", _memo(flag), _U16)


def _u8_flag(name: str, flag: Callable[[int], Any]) -> _Field:
    return _Field(name, "B", _memo(flag), _U8)


_DECODE_TIME_TAG = _memo(decode_time_tag)


def _time(name: str) -> _Field:
    return _Field(name, "6s", _DECODE_TIME_TAG, encode_time_tag)


_COMPONENT_ADDRESS = _Field("component_address", "I", int, _U32)
_DESCRIPTION = _Field(
    "description", f"{DESCRIPTION_LENGTH}s", _memo(decode_description), encode_description
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
        # ``struct`` already yields ints: only the other fields need a decoder call
        self.converters = tuple(
            (i, f.decode) for i, f in enumerate(self.fields) if f.decode is not int
        )
        # A text layout is ``head | length byte | text``; the text is the struct's last field.
        self.text = text
        names = tuple(f.name for f in self.fields) + (("text", "wire_text") if text else ())
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
        make, converters = self.cls, self.converters
        objects: list[InfoObject] = []
        for values in self.head.iter_unpack(adu[2:stop]):
            fields = list(values)
            for index, decode in converters:
                fields[index] = decode(fields[index])
            objects.append(make(*fields))
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
            text, wire_text = decode_text(adu[offset : offset + length])
            offset += length
            objects.append(self.cls(*map(operator.call, self.decoders, values), text, wire_text))
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
                text = encode_text(_text_of(obj), getattr(obj, "wire_text", b""))
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
