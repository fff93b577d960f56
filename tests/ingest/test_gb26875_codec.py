"""GB/T 26875.3 codec against hand-built bytes.

Every expected hex string below was written field by field from the frame format note
(shared/protocols/gb26875.md); checksums were added up by hand (sum of bytes 3..end of ADU,
mod 256) and are spelled out in comments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from firegrid.core.clock import CHINA_TZ
from firegrid.ingest.adapters.gb26875 import codec
from firegrid.ingest.adapters.gb26875.codec import (
    AnalogValue,
    ApplicationData,
    CheckPost,
    ChecksumError,
    CodecError,
    Command,
    ComponentConfiguration,
    ComponentStatus,
    ComponentStatusFlag,
    EndMarkerError,
    Frame,
    FrameErrorKind,
    IncompleteFrameError,
    InitialiseTransmitter,
    InvalidFieldError,
    InvalidTimeTag,
    LengthMismatchError,
    LengthTooLargeError,
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
    ReservedCommandError,
    StartMarkerError,
    SyncTransmitterClock,
    SystemClock,
    SystemConfiguration,
    SystemOperation,
    SystemOperationFlag,
    SystemSoftwareVersion,
    SystemStatus,
    SystemStatusFlag,
    TransmitterClock,
    TransmitterConfiguration,
    TransmitterOperation,
    TransmitterOperationFlag,
    TransmitterSoftwareVersion,
    TransmitterStatus,
    TransmitterStatusFlag,
    TruncatedObjectsError,
    TypeFlag,
)

# 2024-05-06 07:08:09 China Standard Time; wire order sec, min, hour, day, month, yy.
T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=CHINA_TZ)
T_HEX = "09 08 07 06 05 18"
DEVICE = 88888  # wire bytes 38 5B 01 00 00 00 (the note's example)
CENTRE = 0


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# A transmitter heartbeat (type 21) from device 88888 to centre 0, serial 1.
# checksum: serial 1 + version 2 + time 59 + source 148 + L 9 + command 2
#           + ADU (21 + 1 + 1 + 59) = 303 -> 0x2F
HEARTBEAT_HEX = (
    "40 40  01 00  01 01  09 08 07 06 05 18  38 5B 01 00 00 00  00 00 00 00 00 00  09 00  02"
    "  15 01 01 09 08 07 06 05 18  2F  23 23"
)
HEARTBEAT = Frame(
    serial=1,
    version=(1, 1),
    sent_at=T,
    source=DEVICE,
    destination=CENTRE,
    command=Command.SEND_DATA,
    adu=ApplicationData(
        TypeFlag.TRANSMITTER_STATUS, (TransmitterStatus(TransmitterStatusFlag.NORMAL, T),)
    ),
)

# A smoke detector fire alarm (type 2): system 1/0, component type 40, address d9 00 06 00,
# status normal + fire alarm, description "中文" (GB2312 D6D0 CEC4) padded with 27 NULs.
# checksum: serial 2 + version 2 + time 59 + source 148 + L 48 + command 2 = 261
#           ADU: 2 + 1 + 1 + 0 + 40 + (217 + 6) + 3 + (214 + 208 + 206 + 196) + 59 = 1153
#           1414 mod 256 = 134 -> 0x86
FIRE_ALARM_HEX = (
    "40 40  02 00  01 01  09 08 07 06 05 18  38 5B 01 00 00 00  00 00 00 00 00 00  30 00  02"
    "  02 01  01 00 28 D9 00 06 00 03 00 D6 D0 CE C4" + " 00" * 27 + " 09 08 07 06 05 18"
    "  86  23 23"
)
FIRE_ALARM_OBJECT = ComponentStatus(
    system_type=1,
    system_address=0,
    component_type=40,
    component_address=0x000600D9,
    status=ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM,
    description="中文",
    occurred_at=T,
)


def test_heartbeat_decodes_and_encodes_byte_for_byte() -> None:
    assert codec.decode_frame(h(HEARTBEAT_HEX)) == HEARTBEAT
    assert codec.encode_frame(HEARTBEAT) == h(HEARTBEAT_HEX)


def test_fire_alarm_frame_decodes_and_encodes_byte_for_byte() -> None:
    frame = codec.decode_frame(h(FIRE_ALARM_HEX))
    assert frame.serial == 2
    assert frame.source == DEVICE
    assert frame.source_bytes == h("38 5B 01 00 00 00")
    assert frame.adu == ApplicationData(TypeFlag.COMPONENT_STATUS, (FIRE_ALARM_OBJECT,))
    assert ComponentStatusFlag.FIRE_ALARM in FIRE_ALARM_OBJECT.status
    assert codec.component_address_bytes(FIRE_ALARM_OBJECT.component_address) == h("D9000600")
    assert codec.encode_frame(frame) == h(FIRE_ALARM_HEX)


def test_confirm_reply_to_heartbeat_is_exact() -> None:
    # Same serial, source and destination swapped, fresh time (07:08:10), command 3, L = 0.
    # checksum: 1 + 2 + (10 + 8 + 7 + 6 + 5 + 24) + 148 + 3 = 214 -> 0xD6
    expected = (
        "40 40 01 00 01 01 0A 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 00 00 03 D6 23 23"
    )
    reply = codec.confirm(codec.decode_frame(h(HEARTBEAT_HEX)), T + timedelta(seconds=1), CENTRE)
    assert codec.encode_frame(reply) == h(expected)
    assert reply.command is Command.CONFIRM
    assert reply.adu is None


def test_deny_reply_to_heartbeat_is_exact() -> None:
    # As the confirm, command 6: checksum 214 - 3 + 6 = 217 -> 0xD9.
    expected = (
        "40 40 01 00 01 01 0A 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 00 00 06 D9 23 23"
    )
    reply = codec.deny(HEARTBEAT, T + timedelta(seconds=1), CENTRE)
    assert codec.encode_frame(reply) == h(expected)


def test_reply_time_is_converted_to_china_time_and_whole_seconds() -> None:
    now_utc = datetime(2024, 5, 5, 23, 8, 10, 987_000, tzinfo=UTC)  # 07:08:10 next day CST
    reply = codec.confirm(HEARTBEAT, now_utc, CENTRE)
    assert reply.sent_at == datetime(2024, 5, 6, 7, 8, 10, tzinfo=CHINA_TZ)
    assert codec.decode_frame(codec.encode_frame(reply)) == reply


def test_query_frame_is_exact() -> None:
    # checksum: 7 + 2 + 59 + 148 + L 8 + command 4 = 228; ADU 62 + 1 + 1 + 0 + 217 + 6 = 287
    #           515 mod 256 = 3
    expected = (
        "40 40 07 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 04"
        " 3E 01 01 00 D9 00 06 00 03 23 23"
    )
    frame = codec.query(
        [ReadComponentStatus(1, 0, 0x000600D9)],
        serial=7,
        now=T,
        centre_address=CENTRE,
        device_address=DEVICE,
    )
    assert codec.encode_frame(frame) == h(expected)


def test_clock_sync_frame_is_exact() -> None:
    # checksum: 8 + 2 + 59 + 148 + 8 + 1 = 226; ADU 90 + 1 + 59 = 150; 376 mod 256 = 0x78
    expected = (
        "40 40 08 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 01"
        " 5A 01 09 08 07 06 05 18 78 23 23"
    )
    frame = codec.clock_sync(serial=8, now=T, centre_address=CENTRE, device_address=DEVICE)
    assert codec.encode_frame(frame) == h(expected)


def test_check_post_frame_is_exact() -> None:
    # checksum: 9 + 2 + 59 + 148 + 3 + 1 = 222; ADU 91 + 1 + 10 = 102; 324 mod 256 = 0x44
    expected = (
        "40 40 09 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 01"
        " 5B 01 0A 44 23 23"
    )
    frame = codec.check_post(
        serial=9, now=T, centre_address=CENTRE, device_address=DEVICE, reply_timeout_min=10
    )
    assert codec.encode_frame(frame) == h(expected)


def test_initialise_frame_is_exact_and_command_can_be_request() -> None:
    # checksum: 10 + 2 + 59 + 148 + 3 + 1 = 223; ADU 89 + 1 + 0 = 90; 313 mod 256 = 0x39
    expected = (
        "40 40 0A 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 01"
        " 59 01 00 39 23 23"
    )
    frame = codec.initialise(serial=10, now=T, centre_address=CENTRE, device_address=DEVICE)
    assert codec.encode_frame(frame) == h(expected)
    as_request = codec.initialise(
        serial=10, now=T, centre_address=0, device_address=DEVICE, command=Command.REQUEST
    )
    assert as_request.command is Command.REQUEST


# One row per type flag: ADU hex written from the note's tables, and the objects it holds.
DESC_ZHONGWEN = "D6 D0 CE C4" + " 00" * 27
DESC_HALL_A = "48 61 6C 6C 20 41" + " 00" * 25
ADU_CASES: list[tuple[str, ApplicationData]] = [
    (
        # sys type 10, addr 2, status 0x2104 = fault | main power fault | reset
        f"01 01  0A 02 04 21 {T_HEX}",
        ApplicationData(
            TypeFlag.SYSTEM_STATUS,
            (
                SystemStatus(
                    10,
                    2,
                    SystemStatusFlag.FAULT
                    | SystemStatusFlag.MAIN_POWER_FAULT
                    | SystemStatusFlag.RESET,
                    T,
                ),
            ),
        ),
    ),
    (
        f"02 01  01 00 28 D9 00 06 00 03 00 {DESC_ZHONGWEN} {T_HEX}",
        ApplicationData(TypeFlag.COMPONENT_STATUS, (FIRE_ALARM_OBJECT,)),
    ),
    (
        # analog type 3 (temperature), raw 0xFFFB = -5 -> -0.5 °C
        f"03 01  01 00 28 D9 00 06 00 03 FB FF {T_HEX}",
        ApplicationData(
            TypeFlag.COMPONENT_ANALOG_VALUE, (AnalogValue(1, 0, 40, 0x000600D9, 3, -5, T),)
        ),
    ),
    (
        # operations 0x22 = silence | acknowledge, operator 7
        f"04 01  01 00 22 07 {T_HEX}",
        ApplicationData(
            TypeFlag.SYSTEM_OPERATION,
            (
                SystemOperation(
                    1, 0, SystemOperationFlag.SILENCE | SystemOperationFlag.ACKNOWLEDGE, 7, T
                ),
            ),
        ),
    ),
    (
        "05 01  01 00 02 0A",
        ApplicationData(TypeFlag.SYSTEM_SOFTWARE_VERSION, (SystemSoftwareVersion(1, 0, 2, 10),)),
    ),
    (
        "06 01  01 00 04 D6 D0 CE C4",
        ApplicationData(TypeFlag.SYSTEM_CONFIGURATION, (SystemConfiguration(1, 0, "中文"),)),
    ),
    (
        f"07 01  01 00 17 01 00 00 00 {DESC_HALL_A}",
        ApplicationData(
            TypeFlag.COMPONENT_CONFIGURATION, (ComponentConfiguration(1, 0, 23, 1, "Hall A"),)
        ),
    ),
    (f"08 01  01 00 {T_HEX}", ApplicationData(TypeFlag.SYSTEM_CLOCK, (SystemClock(1, 0, T),))),
    (
        # status 0x41 = normal monitoring | panel link fault
        f"15 01  41 {T_HEX}",
        ApplicationData(
            TypeFlag.TRANSMITTER_STATUS,
            (
                TransmitterStatus(
                    TransmitterStatusFlag.NORMAL | TransmitterStatusFlag.PANEL_LINK_FAULT, T
                ),
            ),
        ),
    ),
    (
        f"18 01  20 05 {T_HEX}",
        ApplicationData(
            TypeFlag.TRANSMITTER_OPERATION,
            (TransmitterOperation(TransmitterOperationFlag.CHECK_POST_REPLY, 5, T),),
        ),
    ),
    (
        "19 01  01 02",
        ApplicationData(TypeFlag.TRANSMITTER_SOFTWARE_VERSION, (TransmitterSoftwareVersion(1, 2),)),
    ),
    (
        "1A 01  03 41 42 43",
        ApplicationData(TypeFlag.TRANSMITTER_CONFIGURATION, (TransmitterConfiguration("ABC"),)),
    ),
    (f"1C 01  {T_HEX}", ApplicationData(TypeFlag.TRANSMITTER_CLOCK, (TransmitterClock(T),))),
    ("3D 01  01 00", ApplicationData(TypeFlag.READ_SYSTEM_STATUS, (ReadSystemStatus(1, 0),))),
    (
        "3E 01  01 00 D9 00 06 00",
        ApplicationData(TypeFlag.READ_COMPONENT_STATUS, (ReadComponentStatus(1, 0, 0x000600D9),)),
    ),
    (
        "3F 01  01 00 D9 00 06 00",
        ApplicationData(
            TypeFlag.READ_COMPONENT_ANALOG_VALUES, (ReadComponentAnalogValues(1, 0, 0x000600D9),)
        ),
    ),
    (
        f"40 01  01 00 0A {T_HEX}",
        ApplicationData(TypeFlag.READ_SYSTEM_OPERATIONS, (ReadSystemOperations(1, 0, 10, T),)),
    ),
    (
        "41 01  01 00",
        ApplicationData(TypeFlag.READ_SYSTEM_SOFTWARE_VERSION, (ReadSystemSoftwareVersion(1, 0),)),
    ),
    (
        "42 01  01 00",
        ApplicationData(TypeFlag.READ_SYSTEM_CONFIGURATION, (ReadSystemConfiguration(1, 0),)),
    ),
    (
        "43 01  01 00 D9 00 06 00",
        ApplicationData(
            TypeFlag.READ_COMPONENT_CONFIGURATION,
            (ReadComponentConfiguration(1, 0, 0x000600D9),),
        ),
    ),
    ("44 01  01 00", ApplicationData(TypeFlag.READ_SYSTEM_CLOCK, (ReadSystemClock(1, 0),))),
    (
        "51 01  00",
        ApplicationData(TypeFlag.READ_TRANSMITTER_STATUS, (ReadTransmitterStatus(),)),
    ),
    (
        f"54 01  0A {T_HEX}",
        ApplicationData(TypeFlag.READ_TRANSMITTER_OPERATIONS, (ReadTransmitterOperations(10, T),)),
    ),
    (
        "55 01  00",
        ApplicationData(
            TypeFlag.READ_TRANSMITTER_SOFTWARE_VERSION, (ReadTransmitterSoftwareVersion(),)
        ),
    ),
    (
        "56 01  00",
        ApplicationData(TypeFlag.READ_TRANSMITTER_CONFIGURATION, (ReadTransmitterConfiguration(),)),
    ),
    (
        "58 01  00",
        ApplicationData(TypeFlag.READ_TRANSMITTER_CLOCK, (ReadTransmitterClock(),)),
    ),
    (
        "59 01  00",
        ApplicationData(TypeFlag.INITIALISE_TRANSMITTER, (InitialiseTransmitter(),)),
    ),
    (
        f"5A 01  {T_HEX}",
        ApplicationData(TypeFlag.SYNC_TRANSMITTER_CLOCK, (SyncTransmitterClock(T),)),
    ),
    ("5B 01  0A", ApplicationData(TypeFlag.CHECK_POST, (CheckPost(10),))),
]


@pytest.mark.parametrize(
    ("adu_hex", "expected"), ADU_CASES, ids=[case[1].type_flag.name for case in ADU_CASES]
)
def test_every_type_decodes_and_encodes_byte_for_byte(
    adu_hex: str, expected: ApplicationData
) -> None:
    assert codec.decode_application_data(h(adu_hex)) == expected
    assert codec.encode_application_data(expected) == h(adu_hex)


def test_adu_table_covers_every_type_flag() -> None:
    assert {case[1].type_flag for case in ADU_CASES} == set(TypeFlag)


def test_several_objects_and_count_zero() -> None:
    two = f"01 02  01 00 01 00 {T_HEX}  01 01 03 00 {T_HEX}"
    data = codec.decode_application_data(h(two))
    assert isinstance(data, ApplicationData)
    assert [obj.system_address for obj in data.objects] == [0, 1]  # type: ignore[attr-defined]
    assert codec.decode_application_data(h("02 00")) == ApplicationData(
        TypeFlag.COMPONENT_STATUS, ()
    )


def test_variable_length_configuration_objects_are_walked_one_by_one() -> None:
    adu = "06 02  01 00 02 41 42  01 01 00"
    assert codec.decode_application_data(h(adu)) == ApplicationData(
        TypeFlag.SYSTEM_CONFIGURATION,
        (SystemConfiguration(1, 0, "AB"), SystemConfiguration(1, 1, "")),
    )


def test_bytes_after_the_declared_objects_are_kept() -> None:
    data = codec.decode_application_data(h("19 01 01 02 FF EE"))
    assert data == ApplicationData(
        TypeFlag.TRANSMITTER_SOFTWARE_VERSION,
        (TransmitterSoftwareVersion(1, 2),),
        extra_bytes=h("FF EE"),
    )
    assert codec.encode_application_data(data) == h("19 01 01 02 FF EE")


def test_truncated_objects_keep_the_complete_ones() -> None:
    adu = f"01 03  01 00 01 00 {T_HEX}  01 01 01 00 {T_HEX}  01 02 01"
    with pytest.raises(TruncatedObjectsError, match="3 objects of 10 bytes declared, 2 fit") as e:
        codec.decode_application_data(h(adu))
    assert e.value.kind is FrameErrorKind.TRUNCATED_OBJECTS
    assert e.value.partial is not None
    assert len(e.value.partial.objects) == 2


@pytest.mark.parametrize(
    "adu_hex",
    [
        "06 01 01 00 05 41 42",  # text runs past the end
        "06 02 01 00 01 41 01",  # second object cut before its length byte
        "02",  # no object count
    ],
)
def test_truncated_variable_and_tiny_adus(adu_hex: str) -> None:
    with pytest.raises(TruncatedObjectsError):
        codec.decode_application_data(h(adu_hex))


@pytest.mark.parametrize("flag", [0, 9, 22, 92, 127, 150, 254, 255])
def test_unknown_type_flags_are_kept_raw(flag: int) -> None:
    adu = bytes((flag, 1)) + bytes(16)
    data = codec.decode_application_data(adu)
    assert data == RawApplicationData(adu)
    assert isinstance(data, RawApplicationData)
    assert data.type_flag == flag
    assert f"type flag {flag}" in data.note
    assert codec.encode_application_data(data) == adu


def test_time_tag_is_binary_not_bcd() -> None:
    assert codec.decode_time_tag(h("3B 3B 17 1F 0C 63")) == datetime(
        2099, 12, 31, 23, 59, 59, tzinfo=CHINA_TZ
    )


@pytest.mark.parametrize("raw_hex", ["00 00 00 00 05 18", "00 00 18 01 01 18", "3C 00 00 01 01 00"])
def test_out_of_range_time_is_kept_raw(raw_hex: str) -> None:
    tag = codec.decode_time_tag(h(raw_hex))
    assert tag == InvalidTimeTag(h(raw_hex))
    assert isinstance(tag, InvalidTimeTag)
    assert "not a valid time" in tag.reason
    assert codec.encode_time_tag(tag) == h(raw_hex)


def test_time_tag_encoding_converts_to_china_time() -> None:
    assert codec.encode_time_tag(datetime(2024, 5, 5, 23, 8, 9, tzinfo=UTC)) == h(T_HEX)


def test_status_flags_keep_reserved_bits() -> None:
    data = codec.decode_application_data(h(f"01 01 01 00 03 C0 {T_HEX}"))
    assert isinstance(data, ApplicationData)
    status = data.objects[0].status  # type: ignore[attr-defined]
    assert SystemStatusFlag.FIRE_ALARM in status
    assert int(status) == 0xC003
    assert codec.encode_application_data(data) == h(f"01 01 01 00 03 C0 {T_HEX}")


def test_description_is_cut_at_nul_and_trailing_spaces_stripped() -> None:
    raw = h("41 42 20 20 00 58 59") + bytes(24)
    assert codec.decode_description(raw) == "AB"


def test_description_with_a_character_cut_at_byte_31_does_not_crash() -> None:
    raw = b"A" * 30 + h("D6")  # first byte of 中 at the very end
    assert codec.decode_description(raw) == "A" * 30 + "\ufffd"


def test_description_that_does_not_fit_is_refused_with_the_field_name() -> None:
    too_long = ComponentConfiguration(1, 0, 23, 1, "中" * 16)  # 32 bytes
    with pytest.raises(InvalidFieldError, match=r"objects\[0\]\.description: is 32 bytes") as e:
        codec.encode_application_data(ApplicationData.of([too_long]))
    assert e.value.field == "objects[0].description"
    with pytest.raises(InvalidFieldError, match="NUL"):
        codec.encode_application_data(
            ApplicationData.of([ComponentConfiguration(1, 0, 23, 1, "a\x00b")])
        )
    assert codec.encode_description("中" * 15) == h("D6 D0" * 15)  # 30 bytes fit


def test_analog_value_scaling_and_range_flag() -> None:
    temperature = AnalogValue(1, 0, 30, 1, 3, -5, T)
    assert temperature.value_in_unit == -0.5
    assert temperature.quantity is not None
    assert temperature.quantity.unit == "°C"
    assert temperature.within_range is True
    hot = AnalogValue(1, 0, 30, 1, 3, 32767, T)
    assert hot.within_range is False
    user_defined = AnalogValue(1, 0, 30, 1, 200, 5, T)
    assert user_defined.value_in_unit is None
    assert user_defined.within_range is None


def test_user_defined_command_is_kept_as_int() -> None:
    frame = Frame(3, (1, 1), T, DEVICE, CENTRE, 200, None)
    decoded = codec.decode_frame(codec.encode_frame(frame))
    assert decoded.command == 200
    assert not isinstance(decoded.command, Command)


def test_any_version_is_accepted() -> None:
    frame = Frame(3, (0, 1), T, DEVICE, CENTRE, Command.SEND_DATA, None)
    assert codec.decode_frame(codec.encode_frame(frame)).version == (0, 1)


def test_encoding_invalid_header_fields_names_every_one() -> None:
    frame = Frame(70000, (1, 1), datetime(2024, 1, 1), 1 << 48, -1, 2, None)  # noqa: DTZ001
    with pytest.raises(InvalidFieldError) as e:
        codec.encode_frame(frame)
    assert [field for field, _ in e.value.problems] == [
        "serial",
        "source",
        "destination",
        "sent_at",
    ]
    assert isinstance(e.value, CodecError)
    assert isinstance(e.value, ValueError)
    assert "naive" in str(e.value)


def test_encoding_rejects_out_of_century_time_and_oversized_adu() -> None:
    old = Frame(1, (1, 1), datetime(1999, 12, 31, tzinfo=CHINA_TZ), 1, 2, 2, None)
    with pytest.raises(InvalidFieldError, match=r"sent_at: year must be 2000\.\.2099"):
        codec.encode_frame(old)
    big = Frame(1, (1, 1), T, 1, 2, 2, RawApplicationData(bytes([150]) + bytes(1024)))
    with pytest.raises(InvalidFieldError, match=r"adu\.adu: is 1025 bytes, at most 1024"):
        codec.encode_frame(big)


def test_encoding_rejects_objects_of_the_wrong_kind_and_bad_values() -> None:
    mixed = ApplicationData(
        TypeFlag.SYSTEM_STATUS, (ReadSystemStatus(1, 0), SystemStatus(256, 0, 0, T))
    )  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError) as e:
        codec.encode_application_data(mixed)
    assert [field for field, _ in e.value.problems] == ["objects[0]", "objects[1].system_type"]


def test_decode_frame_reports_each_error_kind() -> None:
    good = h(HEARTBEAT_HEX)
    with pytest.raises(StartMarkerError):
        codec.decode_frame(b"AB" + good[2:])
    with pytest.raises(IncompleteFrameError):
        codec.decode_frame(good[:-1])
    with pytest.raises(LengthMismatchError):
        codec.decode_frame(good + b"\x00")
    too_long = bytearray(good)
    too_long[24:26] = (1025).to_bytes(2, "little")
    with pytest.raises(LengthTooLargeError):
        codec.decode_frame(bytes(too_long))
    bad_sum = bytearray(good)
    bad_sum[-3] ^= 0xFF
    with pytest.raises(ChecksumError) as checksum_error:
        codec.decode_frame(bytes(bad_sum))
    assert checksum_error.value.frame is not None
    assert checksum_error.value.frame.serial == 1
    assert isinstance(checksum_error.value.frame.adu, RawApplicationData)
    bad_end = bytearray(good)
    bad_end[-1] = 0x24
    with pytest.raises(EndMarkerError):
        codec.decode_frame(bytes(bad_end))


def test_reserved_command_is_a_decode_error_with_the_header() -> None:
    frame = Frame(3, (1, 1), T, DEVICE, CENTRE, 7, None)
    with pytest.raises(ReservedCommandError) as e:
        codec.decode_frame(codec.encode_frame(frame))
    assert e.value.frame == frame


def test_query_refuses_non_read_objects_and_too_many_objects() -> None:
    with pytest.raises(InvalidFieldError, match="not a read request"):
        codec.query([CheckPost(1)], serial=1, now=T, centre_address=0, device_address=1)
    with pytest.raises(InvalidFieldError, match="allows 1 object"):
        codec.query(
            [ReadSystemClock(1, 0), ReadSystemClock(1, 1)],
            serial=1,
            now=T,
            centre_address=0,
            device_address=1,
        )
    with pytest.raises(InvalidFieldError, match="objects"):
        codec.query([], serial=1, now=T, centre_address=0, device_address=1)


def test_builders_validate_their_arguments() -> None:
    with pytest.raises(InvalidFieldError, match="now: must be a timezone-aware"):
        codec.confirm(HEARTBEAT, datetime(2024, 1, 1), CENTRE)  # noqa: DTZ001
    with pytest.raises(InvalidFieldError, match="source"):
        codec.confirm(HEARTBEAT, T, 1 << 48)
    with pytest.raises(InvalidFieldError, match=r"reply_timeout_min: must be an integer"):
        codec.check_post(serial=1, now=T, centre_address=0, device_address=1, reply_timeout_min=256)


@pytest.mark.parametrize("size", [0, 1, 2, 30, 255, 256, 257, 1054])
def test_checksum_is_the_byte_sum_modulo_256_at_every_size(size: int) -> None:
    import random

    from firegrid.ingest.adapters.gb26875.frames import checksum

    rng = random.Random(size)
    for data in (
        bytes([0xFF]) * size,  # the largest sum a span of this size can have
        bytes(size),
        bytes(rng.randrange(256) for _ in range(size)),
    ):
        assert checksum(data) == sum(data) % 256
        assert checksum(bytearray(data)) == checksum(memoryview(data)) == sum(data) % 256
