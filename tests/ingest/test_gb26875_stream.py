"""StreamDecoder: framing over a TCP byte stream, error events and resynchronisation."""

from __future__ import annotations

from datetime import datetime

import pytest

from firegrid.core.clock import CHINA_TZ
from firegrid.ingest.adapters.gb26875 import codec
from firegrid.ingest.adapters.gb26875.codec import (
    ApplicationData,
    Command,
    ComponentStatus,
    ComponentStatusFlag,
    DecodedFrame,
    Frame,
    FrameError,
    FrameErrorKind,
    RawApplicationData,
    Reply,
    StreamDecoder,
    SystemStatus,
    SystemStatusFlag,
    TransmitterStatus,
    TransmitterStatusFlag,
)

T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=CHINA_TZ)
DEVICE = 88888


def heartbeat(serial: int) -> Frame:
    return Frame(
        serial,
        (1, 1),
        T,
        DEVICE,
        0,
        Command.SEND_DATA,
        ApplicationData.of([TransmitterStatus(TransmitterStatusFlag.NORMAL, T)]),
    )


def alarm(serial: int, description: str = "3F smoke") -> Frame:
    status = ComponentStatusFlag.NORMAL | ComponentStatusFlag.FIRE_ALARM
    return Frame(
        serial,
        (1, 1),
        T,
        DEVICE,
        0,
        Command.SEND_DATA,
        ApplicationData.of([ComponentStatus(1, 0, 40, 7, status, description, T)]),
    )


def frames_of(events: list[DecodedFrame | FrameError]) -> list[Frame]:
    return [event.frame for event in events if isinstance(event, DecodedFrame)]


def errors_of(events: list[DecodedFrame | FrameError]) -> list[FrameErrorKind]:
    return [event.kind for event in events if isinstance(event, FrameError)]


GOOD = [heartbeat(1), alarm(2), heartbeat(3), alarm(4, "东门@@##")]
STREAM = b"".join(codec.encode_frame(frame) for frame in GOOD)


def test_several_frames_in_one_read() -> None:
    events = StreamDecoder().feed(STREAM)
    assert events == [
        DecodedFrame(frame, offset, codec.encode_frame(frame))
        for frame, offset in zip(GOOD, [0, 39, 117, 156], strict=True)
    ]


def test_every_split_position_gives_the_same_events() -> None:
    expected = StreamDecoder().feed(STREAM)
    for cut in range(len(STREAM) + 1):
        decoder = StreamDecoder()
        events = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
        assert events == expected, cut
        assert decoder.pending_bytes == 0


def test_byte_by_byte_feeding() -> None:
    decoder = StreamDecoder()
    events = [event for byte in STREAM for event in decoder.feed(bytes([byte]))]
    assert frames_of(events) == GOOD
    assert decoder.close() == []


def test_markers_inside_the_payload_do_not_confuse_framing() -> None:
    # Serial 0x4040 puts '@@' in the header and 0x2323 puts '##' there; the description too.
    tricky = [alarm(0x4040, "@@##@@"), alarm(0x2323, "##"), heartbeat(0x4023)]
    data = b"".join(codec.encode_frame(frame) for frame in tricky)
    assert frames_of(StreamDecoder().feed(data)) == tricky


def test_garbage_before_a_frame_is_skipped_and_reported() -> None:
    decoder = StreamDecoder()
    events = decoder.feed(b"\x00\x01hello#" + STREAM)
    assert frames_of(events) == GOOD
    garbage = events[0]
    assert isinstance(garbage, FrameError)
    assert garbage.kind is FrameErrorKind.GARBAGE
    assert (garbage.offset, garbage.size, garbage.raw_hex) == (0, 8, "000168656c6c6f23")
    assert garbage.reply is Reply.NONE
    assert decoder.bytes_discarded == 8


def test_stray_at_signs_before_a_frame_are_garbage() -> None:
    events = StreamDecoder().feed(b"@" + STREAM[:39] + b"@@@" + STREAM[39:])
    assert frames_of(events) == GOOD
    assert errors_of(events) == [FrameErrorKind.GARBAGE, FrameErrorKind.GARBAGE]


def corrupt(frame: Frame, position: int, value: int) -> bytes:
    data = bytearray(codec.encode_frame(frame))
    data[position] = value
    return bytes(data)


def test_bad_checksum_is_reported_with_the_header_for_a_deny() -> None:
    bad = corrupt(alarm(9), -3, 0)  # checksum byte
    events = StreamDecoder().feed(bad + STREAM)
    assert frames_of(events) == GOOD
    error = events[0]
    assert isinstance(error, FrameError)
    assert error.kind is FrameErrorKind.BAD_CHECKSUM
    assert error.reply is Reply.DENY
    assert error.frame is not None
    assert error.frame.serial == 9
    assert isinstance(error.frame.adu, RawApplicationData)  # objects never decoded
    assert error.raw_hex == bad.hex()
    assert "checksum" in error.message
    deny = codec.deny(error.frame, T, 0)
    assert (deny.serial, deny.destination, deny.command) == (9, DEVICE, Command.DENY)


def test_corrupted_payload_byte_is_a_checksum_error() -> None:
    bad = corrupt(alarm(9), 40, 0x55)  # inside the description
    assert errors_of(StreamDecoder().feed(bad + STREAM)) == [FrameErrorKind.BAD_CHECKSUM]


def test_impossible_length_resyncs_without_waiting() -> None:
    bad = bytearray(codec.encode_frame(heartbeat(9)))
    bad[24:26] = (5000).to_bytes(2, "little")
    events = StreamDecoder().feed(bytes(bad) + STREAM)
    assert frames_of(events) == GOOD
    assert errors_of(events) == [FrameErrorKind.LENGTH_TOO_LARGE]
    assert "5000" in events[0].message  # type: ignore[union-attr]


def test_length_too_short_is_a_length_mismatch() -> None:
    bad = bytearray(codec.encode_frame(alarm(9)))
    bad[24] -= 2  # the frame now seems to end 2 bytes early
    events = StreamDecoder().feed(bytes(bad) + STREAM)
    assert frames_of(events) == GOOD
    assert errors_of(events)[0] is FrameErrorKind.LENGTH_MISMATCH


def test_length_too_long_does_not_hold_up_the_next_frames() -> None:
    bad = bytearray(codec.encode_frame(heartbeat(9)))
    bad[24] += 200  # claims 200 more bytes than it has
    decoder = StreamDecoder()
    events = decoder.feed(bytes(bad) + STREAM)
    assert frames_of(events) == GOOD  # no need to wait for 200 more bytes
    assert errors_of(events) == [FrameErrorKind.LENGTH_MISMATCH]


def test_wrong_end_marker_with_right_checksum() -> None:
    bad = corrupt(heartbeat(9), -1, ord("$"))
    events = StreamDecoder().feed(bad + STREAM)
    assert frames_of(events) == GOOD
    error = events[0]
    assert isinstance(error, FrameError)
    assert error.kind is FrameErrorKind.BAD_END_MARKER
    assert error.reply is Reply.DENY


def test_reserved_command_is_denied_and_skipped_whole() -> None:
    bad = codec.encode_frame(Frame(9, (1, 1), T, DEVICE, 0, 0x55, None))
    events = StreamDecoder().feed(bad + STREAM)
    assert frames_of(events) == GOOD
    error = events[0]
    assert isinstance(error, FrameError)
    assert error.kind is FrameErrorKind.RESERVED_COMMAND
    assert error.reply is Reply.DENY


def test_truncated_objects_report_the_complete_ones() -> None:
    two = ApplicationData.of(
        [
            SystemStatus(1, n, SystemStatusFlag.NORMAL | SystemStatusFlag.FIRE_ALARM, T)
            for n in (1, 2)
        ]
    )
    adu = codec.encode_application_data(two)
    adu = adu[:1] + bytes([3]) + adu[2:]  # declares 3 objects, carries 2
    frame = Frame(9, (1, 1), T, DEVICE, 0, Command.SEND_DATA, RawApplicationData(adu))
    events = StreamDecoder().feed(codec.encode_frame(frame) + STREAM)
    assert frames_of(events) == GOOD
    error = events[0]
    assert isinstance(error, FrameError)
    assert error.kind is FrameErrorKind.TRUNCATED_OBJECTS
    assert error.reply is Reply.DENY
    assert error.frame is not None
    assert isinstance(error.frame.adu, ApplicationData)
    assert error.frame.adu.objects == two.objects


def test_unknown_type_flag_decodes_with_a_raw_adu() -> None:
    vendor = Frame(
        9, (1, 1), T, DEVICE, 0, Command.SEND_DATA, RawApplicationData(bytes([150, 1]) + bytes(16))
    )
    events = StreamDecoder().feed(codec.encode_frame(vendor) + STREAM)
    assert frames_of(events) == [vendor, *GOOD]
    assert isinstance(vendor.adu, RawApplicationData)
    assert "user-defined" in vendor.adu.note


def test_empty_adu_on_send_data_is_a_valid_frame() -> None:
    empty = Frame(9, (1, 1), T, DEVICE, 0, Command.SEND_DATA, None)
    assert frames_of(StreamDecoder().feed(codec.encode_frame(empty))) == [empty]


def test_stream_ending_inside_a_frame_is_reported_on_close() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(STREAM + STREAM[:20]) == StreamDecoder().feed(STREAM)
    assert decoder.pending_bytes == 20
    (error,) = decoder.close()
    assert error.kind is FrameErrorKind.INCOMPLETE_FRAME
    assert (error.offset, error.size) == (len(STREAM), 20)
    assert decoder.pending_bytes == 0
    assert frames_of(decoder.feed(STREAM)) == GOOD  # usable again, offsets go on
    assert decoder.frames_decoded == 2 * len(GOOD)


def test_garbage_is_never_buffered_and_reported_in_bounded_events() -> None:
    decoder = StreamDecoder(garbage_report_bytes=64 * 1024)
    events = decoder.feed(b"\x00" * (150 * 1024))
    assert decoder.pending_bytes == 0
    assert [(e.kind, e.size) for e in events if isinstance(e, FrameError)] == [
        (FrameErrorKind.GARBAGE, 64 * 1024),
        (FrameErrorKind.GARBAGE, 64 * 1024),
    ]
    assert all(len(e.raw_hex) <= 128 for e in events if isinstance(e, FrameError))
    (rest,) = decoder.close()
    assert rest.size == 22 * 1024


def test_a_flood_of_start_markers_yields_few_events() -> None:
    decoder = StreamDecoder()
    events = decoder.feed(b"@" * 4096 + STREAM)
    assert frames_of(events) == GOOD
    assert len(errors_of(events)) <= 3


def test_buffer_holds_at_most_one_frame() -> None:
    decoder = StreamDecoder()
    start = bytearray(codec.encode_frame(heartbeat(1))[:27])
    start[24:26] = (1024).to_bytes(2, "little")
    decoder.feed(bytes(start) + bytes(2000))
    assert decoder.pending_bytes <= codec.MAX_FRAME_LENGTH


@pytest.mark.parametrize(
    "kind",
    [
        FrameErrorKind.BAD_CHECKSUM,
        FrameErrorKind.BAD_END_MARKER,
        FrameErrorKind.LENGTH_MISMATCH,
        FrameErrorKind.LENGTH_TOO_LARGE,
        FrameErrorKind.RESERVED_COMMAND,
    ],
)
def test_the_next_good_frame_is_decoded_after_each_error_even_when_split(
    kind: FrameErrorKind,
) -> None:
    good = codec.encode_frame(alarm(5))
    bad = bytearray(codec.encode_frame(alarm(9)))
    if kind is FrameErrorKind.BAD_CHECKSUM:
        bad[-3] ^= 1
    elif kind is FrameErrorKind.BAD_END_MARKER:
        bad[-2] = 0
    elif kind is FrameErrorKind.LENGTH_MISMATCH:
        bad[24] -= 1
    elif kind is FrameErrorKind.LENGTH_TOO_LARGE:
        bad[25] = 0x10
    else:
        bad = bytearray(codec.encode_frame(Frame(9, (1, 1), T, DEVICE, 0, 100, None)))
    data = bytes(bad) + good
    for cut in range(len(data) + 1):
        decoder = StreamDecoder()
        events = decoder.feed(data[:cut]) + decoder.feed(data[cut:]) + decoder.close()
        assert frames_of(events) == [alarm(5)], cut
        assert errors_of(events)[0] is kind, cut
