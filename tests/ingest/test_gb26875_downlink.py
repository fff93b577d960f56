"""Downstream frames of GB/T 26875.3 byte for byte, and matching the device's answers.

Every expected frame below was written field by field from the note's layout
(shared/protocols/gb26875.md): serial, version 01 01, time tag 2024-05-06 07:08:09
(``09 08 07 06 05 18``), source = centre 0, destination = device 88888 (``38 5B 01 00 00 00``),
ADU length, command, ADU, checksum, ``23 23``. Each checksum is the sum of the control unit
(serial + 2 + 59 + 0 + 148 + L + command) plus the ADU bytes, mod 256, spelled out per row.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.clock import CHINA_TZ
from firegrid.ingest.adapters.gb26875 import codec
from firegrid.ingest.adapters.gb26875.codec import (
    ANSWER_TYPE_FOR_READ,
    ApplicationData,
    CheckPost,
    Command,
    Frame,
    InfoObject,
    InitialiseTransmitter,
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
    TransmitterOperation,
    TransmitterOperationFlag,
    TypeFlag,
)
from firegrid.ingest.adapters.gb26875.exchange import (
    DOWNSTREAM_TYPES,
    Exchanges,
    Outcome,
    Request,
    SerialCounter,
    check_post_replies,
    direction_of,
)
from firegrid.ingest.commands import catalogue
from firegrid.ingest.simulate_downlink import DownlinkResponder

T = datetime(2024, 5, 6, 7, 8, 9, tzinfo=CHINA_TZ)
DEVICE = 88888
CENTRE = 0

# name, object, command, control unit (serial .. command), ADU, checksum  # control + ADU sums
FRAMES: list[tuple[str, InfoObject, int, str, str, str]] = [
    (
        "READ_SYSTEM_STATUS",
        ReadSystemStatus(1, 0),
        4,
        "20 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 04 00 04",
        "3D 01 01 00",
        "38",
    ),  # 249 + 63 = 312
    (
        "READ_COMPONENT_STATUS",
        ReadComponentStatus(1, 0, 0x000600D9),
        4,
        "21 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 04",
        "3E 01 01 00 D9 00 06 00",
        "1D",
    ),  # 254 + 287 = 541
    (
        "READ_COMPONENT_ANALOG_VALUES",
        ReadComponentAnalogValues(1, 0, 0x000600D9),
        4,
        "22 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 04",
        "3F 01 01 00 D9 00 06 00",
        "1F",
    ),  # 255 + 288 = 543
    (
        "READ_SYSTEM_OPERATIONS",
        ReadSystemOperations(1, 0, 10, T),
        4,
        "23 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 0B 00 04",
        "40 01 01 00 0A 09 08 07 06 05 18",
        "8A",
    ),  # 259 + 135 = 394
    (
        "READ_SYSTEM_SOFTWARE_VERSION",
        ReadSystemSoftwareVersion(1, 0),
        4,
        "24 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 04 00 04",
        "41 01 01 00",
        "40",
    ),  # 253 + 67 = 320
    (
        "READ_SYSTEM_CONFIGURATION",
        ReadSystemConfiguration(1, 0),
        4,
        "25 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 04 00 04",
        "42 01 01 00",
        "42",
    ),  # 254 + 68 = 322
    (
        "READ_COMPONENT_CONFIGURATION",
        ReadComponentConfiguration(1, 0, 0x000600D9),
        4,
        "26 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 04",
        "43 01 01 00 D9 00 06 00",
        "27",
    ),  # 259 + 292 = 551
    (
        "READ_SYSTEM_CLOCK",
        ReadSystemClock(1, 0),
        4,
        "27 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 04 00 04",
        "44 01 01 00",
        "46",
    ),  # 256 + 70 = 326
    (
        "READ_TRANSMITTER_STATUS",
        ReadTransmitterStatus(),
        4,
        "28 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 04",
        "51 01 00",
        "52",
    ),  # 256 + 82 = 338
    (
        "READ_TRANSMITTER_OPERATIONS",
        ReadTransmitterOperations(10, T),
        4,
        "29 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 09 00 04",
        "54 01 0A 09 08 07 06 05 18",
        "A1",
    ),  # 263 + 154 = 417
    (
        "READ_TRANSMITTER_SOFTWARE_VERSION",
        ReadTransmitterSoftwareVersion(),
        4,
        "2A 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 04",
        "55 01 00",
        "58",
    ),  # 258 + 86 = 344
    (
        "READ_TRANSMITTER_CONFIGURATION",
        ReadTransmitterConfiguration(),
        4,
        "2B 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 04",
        "56 01 00",
        "5A",
    ),  # 259 + 87 = 346
    (
        "READ_TRANSMITTER_CLOCK",
        ReadTransmitterClock(),
        4,
        "2C 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 04",
        "58 01 00",
        "5D",
    ),  # 260 + 89 = 349
    (
        "INITIALISE_TRANSMITTER",
        InitialiseTransmitter(),
        1,
        "2D 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 01",
        "59 01 00",
        "5C",
    ),  # 258 + 90 = 348
    (
        "SYNC_TRANSMITTER_CLOCK",
        SyncTransmitterClock(T),
        1,
        "2E 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 08 00 01",
        "5A 01 09 08 07 06 05 18",
        "9E",
    ),  # 264 + 150 = 414
    (
        "CHECK_POST",
        CheckPost(3),
        1,
        "2F 00 01 01 09 08 07 06 05 18 00 00 00 00 00 00 38 5B 01 00 00 00 03 00 01",
        "5B 01 03",
        "63",
    ),  # 260 + 95 = 355
]

#: the parameters a caller gives through the catalogue for each row's object
PARAMETERS: dict[str, dict[str, Any]] = {
    "read_system_status": {"system_type": 1, "system_address": 0},
    "read_component_status": {"system_type": 1, "system_address": 0, "component_address": 0x600D9},
    "read_component_analog_values": {
        "system_type": 1,
        "system_address": 0,
        "component_address": 0x600D9,
    },
    "read_system_operations": {
        "system_type": 1,
        "system_address": 0,
        "record_count": 10,
        "start_time": T.isoformat(),
    },
    "read_system_software_version": {"system_type": 1, "system_address": 0},
    "read_system_configuration": {"system_type": 1, "system_address": 0},
    "read_component_configuration": {
        "system_type": 1,
        "system_address": 0,
        "component_address": 0x600D9,
    },
    "read_system_clock": {"system_type": 1, "system_address": 0},
    "read_transmitter_operations": {"record_count": 10, "start_time": T.isoformat()},
    "check_post": {"reply_window_s": 150},  # 2.5 min: the wire carries 3 whole minutes
}


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def expected_frame(control: str, adu: str, check: str) -> bytes:
    return h(f"40 40 {control} {adu} {check} 23 23")


def test_the_table_covers_every_downstream_type() -> None:
    assert {TypeFlag[row[0]] for row in FRAMES} == DOWNSTREAM_TYPES
    assert set(catalogue.KINDS.values()) == DOWNSTREAM_TYPES


@pytest.mark.parametrize(
    ("name", "obj", "command", "control", "adu", "check"), FRAMES, ids=[r[0] for r in FRAMES]
)
def test_downstream_frame_is_exact_and_round_trips(
    name: str, obj: InfoObject, command: int, control: str, adu: str, check: str
) -> None:
    serial = h(control)[0]
    frame = Frame(serial, (1, 1), T, CENTRE, DEVICE, Command(command), ApplicationData.of([obj]))
    wire = expected_frame(control, adu, check)
    assert codec.encode_frame(frame) == wire
    assert codec.decode_frame(wire) == frame
    assert codec.decode_application_data(h(adu)) == ApplicationData.of([obj])
    # the catalogue builds the same frame from the caller's parameters
    kind = name.lower()
    built = catalogue.build_frame(
        kind,
        catalogue.validate(kind, PARAMETERS.get(kind, {})),
        serial=serial,
        now=T,
        centre_address=CENTRE,
        device_address=DEVICE,
    )
    assert codec.encode_frame(built) == wire


@pytest.mark.parametrize("flag", sorted(DOWNSTREAM_TYPES), ids=lambda f: f.name)
def test_every_downstream_type_round_trips_with_varied_values(flag: TypeFlag) -> None:
    rng = random.Random(int(flag))
    cls = codec.OBJECT_CLASSES[flag]
    for _ in range(50):
        values: dict[str, Any] = {}
        for field in cls.__struct_fields__:
            if field in ("start_time", "centre_time"):
                values[field] = datetime(
                    rng.randint(2000, 2099), rng.randint(1, 12), rng.randint(1, 28),
                    rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), tzinfo=CHINA_TZ,
                )  # fmt: skip
            elif field == "component_address":
                values[field] = rng.randint(0, 0xFFFF_FFFF)
            elif field == "reserved":
                values[field] = 0
            else:
                values[field] = rng.randint(0, 0xFF)
        data = ApplicationData.of([cls(**values)])
        assert codec.decode_application_data(codec.encode_application_data(data)) == data


# ---------------------------------------------------------------------------------------------
# Matching answers to requests


def test_an_answer_matches_by_serial_and_type() -> None:
    exchanges = Exchanges()
    read = Request(5, TypeFlag.READ_TRANSMITTER_STATUS, Command.REQUEST, "poll")
    exchanges.open("dev", read)
    status = ApplicationData.of([codec.TransmitterStatus(codec.TransmitterStatusFlag.NORMAL, T)])
    clock = ApplicationData.of([codec.TransmitterClock(T)])
    assert exchanges.match("dev", Command.ANSWER, 6, status) is None  # another serial
    assert exchanges.match("other", Command.ANSWER, 5, status) is None  # another device
    wrong = exchanges.match("dev", Command.ANSWER, 5, clock)
    assert wrong is not None
    assert wrong.outcome is Outcome.WRONG_TYPE
    assert exchanges.is_open("dev", 5)  # a wrong answer does not close the exchange
    match = exchanges.match("dev", Command.ANSWER, 5, status)
    assert match is not None
    assert (match.outcome, match.request.token) == (Outcome.ANSWERED, "poll")
    assert not exchanges.is_open("dev", 5)
    assert exchanges.match("dev", Command.ANSWER, 5, status) is None  # answered once only


def test_a_control_is_confirmed_or_denied() -> None:
    exchanges = Exchanges()
    exchanges.open("dev", Request(1, TypeFlag.SYNC_TRANSMITTER_CLOCK, Command.CONTROL, "sync"))
    exchanges.open("dev", Request(2, TypeFlag.INITIALISE_TRANSMITTER, Command.CONTROL, "init"))
    confirmed = exchanges.match("dev", Command.CONFIRM, 1, None)
    denied = exchanges.match("dev", Command.DENY, 2, None)
    assert confirmed is not None
    assert confirmed.outcome is Outcome.CONFIRMED
    assert denied is not None
    assert denied.outcome is Outcome.DENIED
    assert len(exchanges) == 0
    exchanges.open("dev", Request(3, TypeFlag.CHECK_POST, Command.CONTROL, None))
    with pytest.raises(ValueError, match="already open"):
        exchanges.open("dev", Request(3, TypeFlag.CHECK_POST, Command.CONTROL, None))


def test_serials_start_at_zero_wrap_and_skip_open_ones() -> None:
    counter = SerialCounter()
    assert [counter.take() for _ in range(3)] == [0, 1, 2]
    assert counter.take(lambda s: s in {3, 4}) == 5
    for _ in range(0xFFFF - 6):
        counter.take()
    assert counter.take() == 0xFFFF
    assert counter.take() == 0


@pytest.mark.parametrize("flag", sorted(DOWNSTREAM_TYPES), ids=lambda f: f.name.lower())
def test_the_simulated_transmitters_answer_matches_each_request(flag: TypeFlag) -> None:
    kind = flag.name.lower()
    request = catalogue.build_frame(
        kind,
        catalogue.validate(kind, PARAMETERS.get(kind, {})),
        serial=9,
        now=T,
        centre_address=CENTRE,
        device_address=DEVICE,
    )
    wire = codec.encode_frame(request)
    responder = DownlinkResponder(DEVICE, operator_answer_ratio=1.0)
    reply_bytes, later, _ = responder.handle(codec.decode_frame(wire))
    assert reply_bytes is not None
    reply = codec.decode_frame(reply_bytes)
    assert (reply.serial, reply.source, reply.destination) == (9, DEVICE, CENTRE)
    exchanges = Exchanges()
    exchanges.open(DEVICE, Request(9, flag, Command(request.command), kind))
    match = exchanges.match(DEVICE, int(reply.command), reply.serial, reply.adu)
    assert match is not None
    if flag in ANSWER_TYPE_FOR_READ:
        assert match.outcome is Outcome.ANSWERED
        assert isinstance(reply.adu, ApplicationData)
        assert reply.adu.type_flag is ANSWER_TYPE_FOR_READ[flag]
    else:
        assert match.outcome is Outcome.CONFIRMED
    if flag is TypeFlag.CHECK_POST:
        assert isinstance(later, TransmitterOperation)
        assert check_post_replies(ApplicationData.of([later])) == [later]
    else:
        assert later is None


def test_check_post_replies_are_type_24_with_the_reply_bit() -> None:
    reply = TransmitterOperation(TransmitterOperationFlag.CHECK_POST_REPLY, 3, T)
    other = TransmitterOperation(TransmitterOperationFlag.SILENCE, 3, T)
    assert check_post_replies(ApplicationData.of([other, reply])) == [reply]
    assert check_post_replies(ApplicationData.of([CheckPost(1)])) == []
    assert check_post_replies(None) == []
    assert (direction_of(24), direction_of(91), direction_of(150)) == ("up", "down", None)


def test_catalogue_refuses_bad_parameters_naming_each() -> None:
    from firegrid.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        catalogue.validate(
            "read_component_status", {"system_type": 300, "component_address": -1, "x": 1}
        )
    problems = caught.value.details["parameters"]
    assert set(problems) == {"system_type", "system_address", "component_address", "x"}
    with pytest.raises(ValidationFailed, match="unknown command kind"):
        catalogue.validate("reboot", {})
    with pytest.raises(ValidationFailed):
        catalogue.validate("check_post", {"reply_window_s": 0})
    assert catalogue.reply_timeout_min(1) == 1
    assert catalogue.reply_timeout_min(60) == 1
    assert catalogue.reply_timeout_min(61) == 2


# ---------------------------------------------------------------------------------------------
# The decode tool


runner = CliRunner()
CHECK_POST_FRAME = expected_frame(*FRAMES[-1][3:]).hex(" ")


def test_decode_prints_the_header_type_and_objects() -> None:
    result = runner.invoke(app, ["gb26875", "decode", CHECK_POST_FRAME, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["serial"] == 0x2F
    assert (out["source"], out["destination"]) == (CENTRE, DEVICE)
    assert (out["command"], out["command_name"]) == (1, "control")
    assert (out["type_flag"], out["type"], out["direction"]) == (91, "check_post", "down")
    assert out["object_count"] == 1
    assert out["objects"] == [{"type": "CheckPost", "fields": {"reply_timeout_min": 3}}]
    assert out["checksum"] == "0x63"


def test_decode_adu_prints_the_objects_with_their_fields() -> None:
    result = runner.invoke(
        app, ["gb26875", "decode-adu", "40 01 01 00 0A 09 08 07 06 05 18", "--direction",
              "down", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["type_flag"], out["object_count"]) == (64, 1)
    assert out["objects"][0]["fields"] == {
        "system_type": 1,
        "system_address": 0,
        "record_count": 10,
        "start_time": "2024-05-06T07:08:09+08:00",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decode", CHECK_POST_FRAME.replace("63 23 23", "64 23 23")], "bad_checksum"),
        (["decode", "40 40 zz"], "FRAME_HEX is not hex"),
        (["decode", "40 40 01 00"], "incomplete_frame"),
        (["decode", "41 40" + CHECK_POST_FRAME[5:]], "bad_start_marker"),
        (["decode-adu", "5B 01 0A", "--direction", "up"], "type flag 91 is downstream"),
        (["decode-adu", "3E 02 01 00 D9", "--direction", "down"], "truncated"),
        (["decode-adu", "5B 01 0A", "--direction", "sideways"], "--direction must be"),
    ],
)
def test_a_malformed_input_is_one_clean_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["gb26875", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    as_json = runner.invoke(app, ["gb26875", *args, "--json"])  # the envelope on stdout
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)["error"]
    assert message in error["message"]
    assert error["hint"]
