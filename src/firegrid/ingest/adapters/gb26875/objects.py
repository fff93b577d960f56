"""Information objects of the application data unit (ADU).

An ADU is ``type flag (1) | object count n (1) | n objects``. Every object kind is one frozen
``msgspec.Struct``; its wire layout is one row of ``adu._LAYOUTS`` (field name, struct
format, decoder, encoder), so adding a type is adding a struct here and a row there. The
field encodings (time tags, GB18030 texts, addresses) are in :mod:`.fields`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import msgspec

from .fields import InvalidFieldError, TimeTag
from .flags import (
    ANALOG_QUANTITIES,
    AnalogQuantity,
    ComponentStatusFlag,
    SystemOperationFlag,
    SystemStatusFlag,
    TransmitterOperationFlag,
    TransmitterStatusFlag,
    TypeFlag,
)

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


class SystemConfiguration(InfoObject, frozen=True, omit_defaults=True):
    """Type 6: configuration text of a building fire system.

    ``text`` ends at the first NUL; ``wire_text`` holds the exact bytes when they are not
    the plain encoding of ``text`` (NUL padding, bytes that are not GB18030), else empty.
    """

    TYPE_FLAG = TypeFlag.SYSTEM_CONFIGURATION
    system_type: int
    system_address: int
    text: str
    wire_text: bytes = b""


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


class TransmitterConfiguration(InfoObject, frozen=True, omit_defaults=True):
    """Type 26: configuration text of the transmitter.

    ``text`` ends at the first NUL; ``wire_text`` holds the exact bytes when they are not
    the plain encoding of ``text`` (NUL padding, bytes that are not GB18030), else empty.
    """

    TYPE_FLAG = TypeFlag.TRANSMITTER_CONFIGURATION
    text: str
    wire_text: bytes = b""


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
        from .adu import _LAYOUT_BY_FLAG  # the layouts are built from these classes

        if flag in _LAYOUT_BY_FLAG:
            return f"ADU of type {flag} kept raw ({len(self.raw)} bytes)"
        kind = "user-defined" if 128 <= flag <= 254 else "reserved"
        return f"type flag {flag} is {kind}, not decoded; ADU kept raw ({len(self.raw)} bytes)"
