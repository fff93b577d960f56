"""Enumerations, status bits and code tables of GB/T 26875.3-2011.

Everything here is data: the command byte, the type flags, the status and operation bits
(``enum.IntFlag`` with the default ``KEEP`` boundary, so reserved bits a device sets are kept
in the value), and the code tables for system, component and analog types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple


class Command(enum.IntEnum):
    """Command byte (position 27). Values 128-255 are user-defined and decoded as plain ints."""

    CONTROL = 1
    SEND_DATA = 2
    CONFIRM = 3
    REQUEST = 4
    ANSWER = 5
    DENY = 6


def is_reserved_command(value: int) -> bool:
    """Return True for command bytes the standard reserves (0 and 7-127)."""
    return value == 0 or 7 <= value <= 127


class FrameErrorKind(enum.StrEnum):
    """Why bytes on the wire did not become a frame (``FrameError.kind``)."""

    GARBAGE = "garbage"  # bytes before a start marker
    LENGTH_TOO_LARGE = "length_too_large"  # ADU length field over 1024
    LENGTH_MISMATCH = "length_mismatch"  # neither end marker nor checksum where L says
    BAD_END_MARKER = "bad_end_marker"  # checksum right, but no '##' where L says
    BAD_CHECKSUM = "bad_checksum"  # '##' where L says, checksum wrong
    RESERVED_COMMAND = "reserved_command"  # command byte 0 or 7-127
    TRUNCATED_OBJECTS = "truncated_objects"  # ADU ends inside an object
    INCOMPLETE_FRAME = "incomplete_frame"  # stream ended (or was cut) inside a frame
    BAD_START_MARKER = "bad_start_marker"  # decode_frame() given bytes not starting '@@'


class TypeFlag(enum.IntEnum):
    """Application data type flag (first ADU byte)."""

    # Upstream: transmitter -> centre (command 2, or 5 when answering a query).
    SYSTEM_STATUS = 1
    COMPONENT_STATUS = 2
    COMPONENT_ANALOG_VALUE = 3
    SYSTEM_OPERATION = 4
    SYSTEM_SOFTWARE_VERSION = 5
    SYSTEM_CONFIGURATION = 6
    COMPONENT_CONFIGURATION = 7
    SYSTEM_CLOCK = 8
    TRANSMITTER_STATUS = 21
    TRANSMITTER_OPERATION = 24
    TRANSMITTER_SOFTWARE_VERSION = 25
    TRANSMITTER_CONFIGURATION = 26
    TRANSMITTER_CLOCK = 28
    # Downstream: centre -> transmitter (command 4 for reads, command 1 or 4 for 89-91).
    READ_SYSTEM_STATUS = 61
    READ_COMPONENT_STATUS = 62
    READ_COMPONENT_ANALOG_VALUES = 63
    READ_SYSTEM_OPERATIONS = 64
    READ_SYSTEM_SOFTWARE_VERSION = 65
    READ_SYSTEM_CONFIGURATION = 66
    READ_COMPONENT_CONFIGURATION = 67
    READ_SYSTEM_CLOCK = 68
    READ_TRANSMITTER_STATUS = 81
    READ_TRANSMITTER_OPERATIONS = 84
    READ_TRANSMITTER_SOFTWARE_VERSION = 85
    READ_TRANSMITTER_CONFIGURATION = 86
    READ_TRANSMITTER_CLOCK = 88
    INITIALISE_TRANSMITTER = 89
    SYNC_TRANSMITTER_CLOCK = 90
    CHECK_POST = 91


#: Upload type the transmitter answers a read request with (note section 2.1, unconfirmed rule).
ANSWER_TYPE_FOR_READ: Mapping[TypeFlag, TypeFlag] = MappingProxyType(
    {
        TypeFlag.READ_SYSTEM_STATUS: TypeFlag.SYSTEM_STATUS,
        TypeFlag.READ_COMPONENT_STATUS: TypeFlag.COMPONENT_STATUS,
        TypeFlag.READ_COMPONENT_ANALOG_VALUES: TypeFlag.COMPONENT_ANALOG_VALUE,
        TypeFlag.READ_SYSTEM_OPERATIONS: TypeFlag.SYSTEM_OPERATION,
        TypeFlag.READ_SYSTEM_SOFTWARE_VERSION: TypeFlag.SYSTEM_SOFTWARE_VERSION,
        TypeFlag.READ_SYSTEM_CONFIGURATION: TypeFlag.SYSTEM_CONFIGURATION,
        TypeFlag.READ_COMPONENT_CONFIGURATION: TypeFlag.COMPONENT_CONFIGURATION,
        TypeFlag.READ_SYSTEM_CLOCK: TypeFlag.SYSTEM_CLOCK,
        TypeFlag.READ_TRANSMITTER_STATUS: TypeFlag.TRANSMITTER_STATUS,
        TypeFlag.READ_TRANSMITTER_OPERATIONS: TypeFlag.TRANSMITTER_OPERATION,
        TypeFlag.READ_TRANSMITTER_SOFTWARE_VERSION: TypeFlag.TRANSMITTER_SOFTWARE_VERSION,
        TypeFlag.READ_TRANSMITTER_CONFIGURATION: TypeFlag.TRANSMITTER_CONFIGURATION,
        TypeFlag.READ_TRANSMITTER_CLOCK: TypeFlag.TRANSMITTER_CLOCK,
    }
)

#: Largest object count the standard allows per type (note section 4). The decoder accepts any
#: count that fits the ADU; the centre-side builders refuse more than this.
MAX_OBJECTS: Mapping[TypeFlag, int] = MappingProxyType(
    {
        TypeFlag.SYSTEM_STATUS: 102,
        TypeFlag.COMPONENT_STATUS: 22,
        TypeFlag.COMPONENT_ANALOG_VALUE: 63,
        TypeFlag.SYSTEM_OPERATION: 102,
        TypeFlag.SYSTEM_SOFTWARE_VERSION: 1,
        TypeFlag.SYSTEM_CONFIGURATION: 3,
        TypeFlag.COMPONENT_CONFIGURATION: 26,
        TypeFlag.SYSTEM_CLOCK: 1,
        TypeFlag.TRANSMITTER_STATUS: 1,
        TypeFlag.TRANSMITTER_OPERATION: 127,
        TypeFlag.TRANSMITTER_SOFTWARE_VERSION: 1,
        TypeFlag.TRANSMITTER_CONFIGURATION: 1,
        TypeFlag.TRANSMITTER_CLOCK: 1,
        TypeFlag.READ_SYSTEM_STATUS: 102,
        TypeFlag.READ_COMPONENT_STATUS: 22,
        TypeFlag.READ_COMPONENT_ANALOG_VALUES: 63,
        TypeFlag.READ_SYSTEM_OPERATIONS: 1,
        TypeFlag.READ_SYSTEM_SOFTWARE_VERSION: 1,
        TypeFlag.READ_SYSTEM_CONFIGURATION: 3,
        TypeFlag.READ_COMPONENT_CONFIGURATION: 26,
        TypeFlag.READ_SYSTEM_CLOCK: 1,
        TypeFlag.READ_TRANSMITTER_STATUS: 1,
        TypeFlag.READ_TRANSMITTER_OPERATIONS: 1,
        TypeFlag.READ_TRANSMITTER_SOFTWARE_VERSION: 1,
        TypeFlag.READ_TRANSMITTER_CONFIGURATION: 1,
        TypeFlag.READ_TRANSMITTER_CLOCK: 1,
        TypeFlag.INITIALISE_TRANSMITTER: 1,
        TypeFlag.SYNC_TRANSMITTER_CLOCK: 1,
        TypeFlag.CHECK_POST: 1,
    }
)


class SystemStatusFlag(enum.IntFlag):
    """Building fire system status (type 1, u16). ``NORMAL`` cleared means test mode."""

    NORMAL = 1 << 0
    FIRE_ALARM = 1 << 1
    FAULT = 1 << 2
    DISABLED = 1 << 3  # 屏蔽: shielded / isolated
    SUPERVISORY = 1 << 4
    STARTED = 1 << 5  # cleared: stopped / closed
    FEEDBACK = 1 << 6
    DELAY = 1 << 7
    MAIN_POWER_FAULT = 1 << 8
    BACKUP_POWER_FAULT = 1 << 9
    BUS_FAULT = 1 << 10
    MANUAL_MODE = 1 << 11  # cleared: automatic mode
    CONFIG_CHANGED = 1 << 12
    RESET = 1 << 13


class ComponentStatusFlag(enum.IntFlag):
    """Building component status (type 2, u16). ``NORMAL`` cleared means test mode."""

    NORMAL = 1 << 0
    FIRE_ALARM = 1 << 1
    FAULT = 1 << 2
    DISABLED = 1 << 3
    SUPERVISORY = 1 << 4
    STARTED = 1 << 5
    FEEDBACK = 1 << 6
    DELAY = 1 << 7
    POWER_FAULT = 1 << 8


class TransmitterStatusFlag(enum.IntFlag):
    """Transmitter running status (type 21, 1 byte). ``NORMAL`` cleared means test mode."""

    NORMAL = 1 << 0  # normal monitoring
    FIRE_ALARM = 1 << 1
    FAULT = 1 << 2
    MAIN_POWER_FAULT = 1 << 3
    BACKUP_POWER_FAULT = 1 << 4
    CENTRE_CHANNEL_FAULT = 1 << 5  # communication channel to the monitoring centre
    PANEL_LINK_FAULT = 1 << 6  # monitoring link to the fire panel


class SystemOperationFlag(enum.IntFlag):
    """Operations recorded on a building fire system (type 4). Zero means no operation."""

    RESET = 1 << 0
    SILENCE = 1 << 1
    MANUAL_ALARM = 1 << 2
    ALARM_CLEARED = 1 << 3
    SELF_TEST = 1 << 4
    ACKNOWLEDGE = 1 << 5
    TEST = 1 << 6


class TransmitterOperationFlag(enum.IntFlag):
    """Operations recorded on the transmitter (type 24). Zero means no operation."""

    RESET = 1 << 0
    SILENCE = 1 << 1
    MANUAL_ALARM = 1 << 2
    ALARM_CLEARED = 1 << 3
    SELF_TEST = 1 << 4
    CHECK_POST_REPLY = 1 << 5
    TEST = 1 << 6


#: System types (表4). Values not listed are reserved (2-9, 25-127) or user-defined (128-255).
SYSTEM_TYPES: Mapping[int, str] = MappingProxyType(
    {
        0: "general",
        1: "fire alarm system",
        10: "fire linkage controller",
        11: "hydrant system",
        12: "automatic sprinkler system",
        13: "gas extinguishing system",
        14: "water spray system (pump-started)",
        15: "water spray system (pressure-vessel-started)",
        16: "foam extinguishing system",
        17: "dry-powder extinguishing system",
        18: "smoke control / exhaust system",
        19: "fire door and shutter system",
        20: "fire elevator",
        21: "emergency broadcast",
        22: "emergency lighting and evacuation signs",
        23: "fire power supply",
        24: "fire telephone",
    }
)

#: Component types (表5). Values not listed are reserved (below 128) or user-defined.
COMPONENT_TYPES: Mapping[int, str] = MappingProxyType(
    {
        0: "general",
        1: "fire alarm control panel",
        10: "combustible gas detector",
        11: "point combustible gas detector",
        12: "stand-alone combustible gas detector",
        13: "line combustible gas detector",
        16: "electrical fire monitoring alarm unit",
        17: "residual-current electrical fire detector",
        18: "temperature-type electrical fire detector",
        21: "detection loop",
        22: "fire display panel (repeater)",
        23: "manual call point",
        24: "hydrant button",
        25: "fire detector",
        30: "heat detector",
        31: "point heat detector",
        32: "point heat detector, class S",
        33: "point heat detector, class R",
        34: "line heat detector",
        35: "line heat detector, class S",
        36: "line heat detector, class R",
        37: "fibre-optic heat detector",
        40: "smoke detector",
        41: "point ionisation smoke detector",
        42: "point photoelectric smoke detector",
        43: "beam smoke detector",
        44: "aspirating smoke detector",
        50: "multi-sensor detector",
        51: "smoke + heat detector",
        52: "flame + heat detector",
        53: "flame + smoke detector",
        61: "UV flame detector",
        62: "IR flame detector",
        69: "flame (light-sensing) detector",
        74: "gas detector",
        78: "video (image) fire detector",
        79: "acoustic fire detector",
        81: "gas extinguishing controller",
        82: "fire electrical control device",
        83: "fire control room graphic display",
        84: "module",
        85: "input module",
        86: "output module",
        87: "input/output module",
        88: "relay (repeater) module",
        91: "fire pump",
        92: "fire water tank",
        95: "sprinkler pump",
        96: "water flow indicator",
        97: "signal valve",
        98: "alarm valve",
        99: "pressure switch",
        101: "valve actuator",
        102: "fire door",
        103: "fire damper",
        104: "HVAC",
        105: "foam pump",
        106: "pipe-network solenoid valve",
        111: "smoke exhaust / pressurisation fan",
        113: "smoke exhaust fire damper",
        114: "normally-closed supply air outlet",
        115: "smoke exhaust outlet",
        116: "electrically controlled smoke barrier",
        117: "fire shutter controller",
        118: "fire door monitor",
        121: "alarm device (sounder/beacon)",
    }
)


class AnalogQuantity(NamedTuple):
    """One row of the analog type table (表6).

    ``raw_per_unit`` is the number of raw steps in one unit (10 for a 0.1 step), so the value
    in the unit is ``raw / raw_per_unit``. The valid range is given in the unit; with that
    reading every row of the standard's table needs at most 32000 raw steps.
    """

    name: str
    unit: str
    raw_per_unit: int
    minimum_in_unit: float
    maximum_in_unit: float


#: Analog types (表6). 0 is unused, 13-127 reserved, 128-255 user-defined.
ANALOG_QUANTITIES: Mapping[int, AnalogQuantity] = MappingProxyType(
    {
        1: AnalogQuantity("event count", "count", 1, 0, 32000),
        2: AnalogQuantity("height", "m", 100, 0, 320),
        3: AnalogQuantity("temperature", "°C", 10, -273, 3200),
        4: AnalogQuantity("pressure", "MPa", 10, 0, 3200),
        5: AnalogQuantity("pressure", "kPa", 10, 0, 3200),
        6: AnalogQuantity("gas concentration", "%LEL", 10, 0, 100),
        7: AnalogQuantity("time", "s", 1, 0, 32000),
        8: AnalogQuantity("voltage", "V", 10, 0, 3200),
        9: AnalogQuantity("current", "A", 10, 0, 3200),
        10: AnalogQuantity("flow", "L/s", 10, 0, 3200),
        11: AnalogQuantity("air volume", "m³/min", 10, 0, 3200),
        12: AnalogQuantity("wind speed", "m/s", 1, 0, 20),
    }
)
