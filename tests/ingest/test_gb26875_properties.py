"""Property tests: round trips for every type and frame, and a decoder that never raises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firegrid.core.clock import CHINA_TZ
from firegrid.ingest.adapters.gb26875 import codec
from firegrid.ingest.adapters.gb26875.codec import (
    OBJECT_CLASSES,
    ApplicationData,
    Command,
    ComponentStatusFlag,
    DecodedFrame,
    Frame,
    FrameError,
    FrameErrorKind,
    InfoObject,
    InvalidTimeTag,
    RawApplicationData,
    StreamDecoder,
    SystemOperationFlag,
    SystemStatusFlag,
    TransmitterOperationFlag,
    TransmitterStatusFlag,
    TypeFlag,
)

_QUIET = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
FAST = settings(max_examples=40, **_QUIET)
MEDIUM = settings(max_examples=150, **_QUIET)


def _is_date(raw: bytes) -> bool:
    second, minute, hour, day, month, year = raw
    try:
        datetime(2000 + year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:
        return False
    return True


valid_times = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2099, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(CHINA_TZ),
).map(lambda moment: moment.replace(microsecond=0))
invalid_times = st.binary(min_size=6, max_size=6).filter(lambda raw: not _is_date(raw))
time_tags = st.one_of(valid_times, valid_times, invalid_times.map(InvalidTimeTag))


def _fits(text: str, limit: int) -> bool:
    return len(text.encode("gb18030")) <= limit


descriptions = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=31).filter(
    lambda text: _fits(text, 31) and not text.endswith(" ")
)
# a NUL ends a configuration text on the wire (padding); the padded forms are covered by
# tests/hostile/test_ingest_gb26875_texts.py
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60).filter(
    lambda text: _fits(text, 255)
)
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "system_type": u8,
    "system_address": u8,
    "component_type": u8,
    "component_address": st.integers(0, 0xFFFF_FFFF),
    "analog_type": u8,
    "raw_value": st.integers(-0x8000, 0x7FFF),
    "operator_number": u8,
    "major": u8,
    "minor": u8,
    "record_count": u8,
    "reserved": u8,
    "reply_timeout_min": u8,
    "description": descriptions,
    "text": texts,
    "wire_text": st.just(b""),
}
FLAG_FIELDS: dict[tuple[TypeFlag, str], st.SearchStrategy[Any]] = {
    (TypeFlag.SYSTEM_STATUS, "status"): u16.map(SystemStatusFlag),
    (TypeFlag.COMPONENT_STATUS, "status"): u16.map(ComponentStatusFlag),
    (TypeFlag.TRANSMITTER_STATUS, "status"): u8.map(TransmitterStatusFlag),
    (TypeFlag.SYSTEM_OPERATION, "operations"): u8.map(SystemOperationFlag),
    (TypeFlag.TRANSMITTER_OPERATION, "operations"): u8.map(TransmitterOperationFlag),
}
TIME_FIELDS = {
    "occurred_at",
    "sampled_at",
    "system_time",
    "transmitter_time",
    "start_time",
    "centre_time",
}


def objects_of(flag: TypeFlag) -> st.SearchStrategy[InfoObject]:
    cls = OBJECT_CLASSES[flag]
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name in cls.__struct_fields__:
        if name in TIME_FIELDS:
            fields[name] = time_tags
        elif (flag, name) in FLAG_FIELDS:
            fields[name] = FLAG_FIELDS[flag, name]
        else:
            fields[name] = FIELDS[name]
    return st.builds(cls, **fields)


def application_data_of(flag: TypeFlag) -> st.SearchStrategy[ApplicationData]:
    return st.builds(
        ApplicationData,
        st.just(flag),
        st.lists(objects_of(flag), max_size=5).map(tuple),
        st.one_of(st.just(b""), st.binary(max_size=6)),
    ).filter(lambda data: len(codec.encode_application_data(data)) <= codec.MAX_ADU_LENGTH)


any_application_data = st.sampled_from(list(TypeFlag)).flatmap(application_data_of)
unknown_flags = st.integers(0, 255).filter(lambda flag: flag not in OBJECT_CLASSES)
raw_application_data = st.builds(
    lambda flag, rest: RawApplicationData(bytes([flag]) + rest),
    unknown_flags,
    st.binary(max_size=40),
)
commands = st.one_of(st.sampled_from(list(Command)), st.integers(128, 255))
frames = st.builds(
    Frame,
    serial=u16,
    version=st.tuples(u8, u8),
    sent_at=time_tags,
    source=st.integers(0, codec.MAX_ADDRESS),
    destination=st.integers(0, codec.MAX_ADDRESS),
    command=commands,
    adu=st.one_of(st.none(), any_application_data, raw_application_data),
)
streams = st.lists(frames, min_size=1, max_size=4).map(
    lambda items: (items, b"".join(codec.encode_frame(frame) for frame in items))
)


def feed_in_chunks(data: bytes, cuts: list[int]) -> list[DecodedFrame | FrameError]:
    decoder = StreamDecoder()
    events: list[DecodedFrame | FrameError] = []
    previous = 0
    for cut in [*sorted({min(cut, len(data)) for cut in cuts}), len(data)]:
        events += decoder.feed(data[previous:cut])
        previous = cut
    return events + decoder.close()


def frames_of(events: list[DecodedFrame | FrameError]) -> list[Frame]:
    return [event.frame for event in events if isinstance(event, DecodedFrame)]


def check_events(events: list[DecodedFrame | FrameError]) -> None:
    """Invariants every event list must satisfy, whatever the input."""
    for event in events:
        if isinstance(event, DecodedFrame):
            assert codec.decode_frame(event.raw) == event.frame
        else:
            assert isinstance(event.kind, FrameErrorKind)
            assert event.message
            bytes.fromhex(event.raw_hex)
    starts = [event.offset for event in events if isinstance(event, DecodedFrame)]
    assert starts == sorted(starts)


@pytest.mark.parametrize("flag", list(TypeFlag), ids=lambda flag: flag.name)
@FAST
@given(data=st.data())
def test_every_type_round_trips(flag: TypeFlag, data: st.DataObject) -> None:
    value = data.draw(application_data_of(flag))
    encoded = codec.encode_application_data(value)
    assert codec.decode_application_data(encoded) == value
    assert codec.encode_application_data(codec.decode_application_data(encoded)) == encoded


@MEDIUM
@given(frame=frames)
def test_frames_round_trip(frame: Frame) -> None:
    encoded = codec.encode_frame(frame)
    assert codec.decode_frame(encoded) == frame
    assert codec.encode_frame(codec.decode_frame(encoded)) == encoded


@MEDIUM
@given(stream=streams, cuts=st.lists(st.integers(0, 5000), max_size=8))
def test_any_chunking_of_a_valid_stream_gives_the_same_frames(
    stream: tuple[list[Frame], bytes], cuts: list[int]
) -> None:
    items, data = stream
    events = feed_in_chunks(data, cuts)
    assert [event for event in events if isinstance(event, FrameError)] == []
    assert frames_of(events) == items


@settings(max_examples=15, **_QUIET)
@given(stream=streams)
def test_splitting_a_valid_stream_at_every_position_gives_identical_events(
    stream: tuple[list[Frame], bytes],
) -> None:
    items, data = stream
    expected = StreamDecoder().feed(data)
    assert frames_of(expected) == items
    for cut in range(0, len(data) + 1, max(1, len(data) // 300)):
        decoder = StreamDecoder()
        assert decoder.feed(data[:cut]) + decoder.feed(data[cut:]) == expected


def _no_double_at(garbage: bytes) -> bool:
    return b"@@" not in garbage


garbage = st.binary(max_size=80).filter(_no_double_at)


@MEDIUM
@given(
    stream=streams,
    garbage_parts=st.lists(garbage, min_size=5, max_size=5),
    cuts=st.lists(st.integers(0, 5000), max_size=6),
)
def test_valid_frames_surrounded_by_garbage_are_all_recovered(
    stream: tuple[list[Frame], bytes], garbage_parts: list[bytes], cuts: list[int]
) -> None:
    items, _ = stream
    pieces = [garbage_parts[0]]
    for index, frame in enumerate(items):
        pieces += [codec.encode_frame(frame), garbage_parts[index + 1]]
    events = feed_in_chunks(b"".join(pieces), cuts)
    check_events(events)
    assert frames_of(events) == items


plausible_headers = st.builds(
    lambda serial_etc, length, command: b"@@" + serial_etc + length + command,
    st.binary(min_size=22, max_size=22),
    st.sampled_from([b"\x00\x00", b"\x09\x00", b"\x30\x00", b"\x00\x04", b"\xff\xff"]),
    st.sampled_from([b"\x02", b"\x03", b"\x07", b"\x80"]),
)
noise = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from([b"@", b"@@", b"##", b"@@@", b"\x00"]),
        plausible_headers,
    ),
    max_size=30,
).map(b"".join)


@MEDIUM
@given(data=noise, cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    check_events(feed_in_chunks(data, cuts))


Mutation = Callable[[bytearray], None]


@st.composite
def mutations(draw: st.DrawFn, size: int) -> Mutation:
    position = draw(st.integers(0, max(size - 1, 0)))
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
    bit = draw(st.integers(0, 7))
    inserted = draw(st.binary(min_size=1, max_size=8))
    width = draw(st.integers(1, 40))
    value = draw(u8)

    def mutate(data: bytearray) -> None:
        if not data:
            return
        at = min(position, len(data) - 1)
        if kind == "flip":
            data[at] ^= 1 << bit
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = inserted
        elif kind == "delete":
            del data[at : at + width]
        else:
            data[at] = value

    return mutate


@MEDIUM
@given(stream=streams, data=st.data(), cuts=st.lists(st.integers(0, 5000), max_size=8))
def test_mutated_streams_never_raise(
    stream: tuple[list[Frame], bytes], data: st.DataObject, cuts: list[int]
) -> None:
    items, encoded = stream
    mutated = bytearray(encoded)
    for mutate in data.draw(st.lists(mutations(len(encoded)), min_size=1, max_size=4)):
        mutate(mutated)
    events = feed_in_chunks(bytes(mutated), cuts)
    check_events(events)
    # A frame that decodes from a mutated stream is one that was sent, or passes every check.
    assert len(frames_of(events)) <= len(items) + 4


@MEDIUM
@given(
    stream=streams,
    data=st.data(),
    cuts=st.lists(st.integers(0, 5000), max_size=6),
)
def test_a_bit_flip_loses_only_the_frame_it_hits(
    stream: tuple[list[Frame], bytes], data: st.DataObject, cuts: list[int]
) -> None:
    items, encoded = stream
    position = data.draw(st.integers(0, len(encoded) - 1))
    flipped = bytearray(encoded)
    flipped[position] ^= 1 << data.draw(st.integers(0, 7))
    ends = []
    total = 0
    for frame in items:
        total += len(codec.encode_frame(frame))
        ends.append(total)
    hit = next(index for index, end in enumerate(ends) if position < end)
    events = feed_in_chunks(bytes(flipped), cuts)
    check_events(events)
    assert frames_of(events) == items[:hit] + items[hit + 1 :]
    assert any(isinstance(event, FrameError) for event in events)
