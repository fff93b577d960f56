"""Pure codec for GB/T 26875.3-2011 (urban fire remote monitoring: transmitter ↔ centre).

Bytes in, typed frozen structs out, and back; no I/O. The layouts follow
``shared/protocols/gb26875.md`` (the note). The public API lives in the sibling modules and is
re-exported here:

- :mod:`.flags`: ``Command``, ``TypeFlag``, status/operation ``IntFlag`` classes, code tables.
- :mod:`.fields`: field encodings (time tags, GB18030 texts, addresses) and the errors.
- :mod:`.objects`: one struct per information object, ``ApplicationData``.
- :mod:`.adu`: the wire layout of every object, ADU decode/encode.
- :mod:`.frames`: ``Frame``, ``encode_frame``/``decode_frame`` and the centre's frames
  (``confirm``, ``deny``, ``query``, ``clock_sync``, ``initialise``, ``check_post``).
- :mod:`.stream`: ``StreamDecoder`` with ``DecodedFrame``/``FrameError`` events and the reply
  policy per error kind (``REPLY_FOR_ERROR``).

Note versus standard
--------------------
The standard's text was not at hand while writing this codec; every layout, bit and table
follows the note, which states it compared them with the standard. No point was found where
the note contradicts what is known of the standard, so no layout departs from the note. The
note leaves these points open, and the codec decides them as follows:

- Type 92 is reserved (the note lists no "check post reply" type); the operator's answer to a
  check post comes back as a type-24 operation with ``CHECK_POST_REPLY`` set.
- Types 89-91 are sent with command 1 (control) by default, the standard's example; command 4
  can be chosen. Types 90 and 91 carry no extra reserved byte (standard, not ActorLancer).
- Analog "valid range" (表6) is read as a range in the unit (e.g. temperature -273..3200 °C
  with 0.1 °C steps): with that reading every row needs at most 32000 raw steps, which fits the
  signed 16-bit field. Out-of-range values are kept and flagged (``AnalogValue.within_range``).
- Command bytes 0 and 7-127 (reserved) are a validation failure (answered with DENY, standard
  6.5.3); 128-255 decode as plain ints.
- Type flags that are reserved or user-defined (128-254) decode to ``RawApplicationData`` and
  the frame is valid. Bytes after the last declared object are kept in
  ``ApplicationData.extra_bytes`` rather than refused.
- Per-type maximum object counts (``MAX_OBJECTS``) are enforced only by the centre's builders;
  the decoder accepts any count that fits the ADU (note: "decode any count that fits").
- Time tags are read as China Standard Time (Asia/Shanghai, unconfirmed in the note); a tag
  that is not a date decodes to ``InvalidTimeTag`` with the raw bytes instead of failing.
"""

from __future__ import annotations

from .adu import (
    OBJECT_CLASSES,
    decode_application_data,
    encode_application_data,
)
from .fields import (
    DESCRIPTION_LENGTH,
    MAX_ADU_LENGTH,
    CodecError,
    DecodeError,
    InvalidFieldError,
    InvalidTimeTag,
    TimeTag,
    TruncatedObjectsError,
    component_address_bytes,
    decode_description,
    decode_time_tag,
    encode_description,
    encode_time_tag,
)
from .flags import (
    ANALOG_QUANTITIES,
    ANSWER_TYPE_FOR_READ,
    COMPONENT_TYPES,
    MAX_OBJECTS,
    SYSTEM_TYPES,
    AnalogQuantity,
    Command,
    ComponentStatusFlag,
    FrameErrorKind,
    SystemOperationFlag,
    SystemStatusFlag,
    TransmitterOperationFlag,
    TransmitterStatusFlag,
    TypeFlag,
    is_reserved_command,
)
from .frames import (
    END_MARKER,
    FRAME_OVERHEAD,
    MAX_ADDRESS,
    MAX_FRAME_LENGTH,
    PROTOCOL_VERSION,
    START_MARKER,
    ChecksumError,
    EndMarkerError,
    Frame,
    IncompleteFrameError,
    LengthMismatchError,
    LengthTooLargeError,
    ReservedCommandError,
    StartMarkerError,
    check_post,
    checksum,
    clock_sync,
    confirm,
    decode_frame,
    deny,
    encode_frame,
    initialise,
    query,
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
from .stream import REPLY_FOR_ERROR, DecodedFrame, FrameError, Reply, StreamDecoder

__all__ = [
    "ANALOG_QUANTITIES",
    "ANSWER_TYPE_FOR_READ",
    "COMPONENT_TYPES",
    "DESCRIPTION_LENGTH",
    "END_MARKER",
    "FRAME_OVERHEAD",
    "MAX_ADDRESS",
    "MAX_ADU_LENGTH",
    "MAX_FRAME_LENGTH",
    "MAX_OBJECTS",
    "OBJECT_CLASSES",
    "PROTOCOL_VERSION",
    "REPLY_FOR_ERROR",
    "START_MARKER",
    "SYSTEM_TYPES",
    "AnalogQuantity",
    "AnalogValue",
    "ApplicationData",
    "CheckPost",
    "ChecksumError",
    "CodecError",
    "Command",
    "ComponentConfiguration",
    "ComponentStatus",
    "ComponentStatusFlag",
    "DecodeError",
    "DecodedFrame",
    "EndMarkerError",
    "Frame",
    "FrameError",
    "FrameErrorKind",
    "IncompleteFrameError",
    "InfoObject",
    "InitialiseTransmitter",
    "InvalidFieldError",
    "InvalidTimeTag",
    "LengthMismatchError",
    "LengthTooLargeError",
    "RawApplicationData",
    "ReadComponentAnalogValues",
    "ReadComponentConfiguration",
    "ReadComponentStatus",
    "ReadSystemClock",
    "ReadSystemConfiguration",
    "ReadSystemOperations",
    "ReadSystemSoftwareVersion",
    "ReadSystemStatus",
    "ReadTransmitterClock",
    "ReadTransmitterConfiguration",
    "ReadTransmitterOperations",
    "ReadTransmitterSoftwareVersion",
    "ReadTransmitterStatus",
    "Reply",
    "ReservedCommandError",
    "StartMarkerError",
    "StreamDecoder",
    "SyncTransmitterClock",
    "SystemClock",
    "SystemConfiguration",
    "SystemOperation",
    "SystemOperationFlag",
    "SystemSoftwareVersion",
    "SystemStatus",
    "SystemStatusFlag",
    "TimeTag",
    "TransmitterClock",
    "TransmitterConfiguration",
    "TransmitterOperation",
    "TransmitterOperationFlag",
    "TransmitterSoftwareVersion",
    "TransmitterStatus",
    "TransmitterStatusFlag",
    "TruncatedObjectsError",
    "TypeFlag",
    "check_post",
    "checksum",
    "clock_sync",
    "component_address_bytes",
    "confirm",
    "decode_application_data",
    "decode_description",
    "decode_frame",
    "decode_time_tag",
    "deny",
    "encode_application_data",
    "encode_description",
    "encode_frame",
    "encode_time_tag",
    "initialise",
    "is_reserved_command",
    "query",
]
