"""GB/T 26875.3 configuration texts (types 6 and 26) end at the first NUL, like every other
text of the codec; the exact bytes stay in the object and in the stored event (issue #24)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firegrid.core.db import Database
from firegrid.ingest.adapters.gb26875 import codec
from firegrid.ingest.adapters.gb26875.codec import (
    ApplicationData,
    InfoObject,
    SystemConfiguration,
    TransmitterConfiguration,
    TypeFlag,
)
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.events import EventKind
from firegrid.ingest.simulate import register_devices
from tests.hostile.ingest_fixtures import TcpDevice, frame_bytes
from tests.ingest.conftest import running_service

PADDED = "消防主机A".encode("gb18030") + b"\x00" * 12


def decoded_objects(adu: bytes) -> tuple[InfoObject, ...]:
    data = codec.decode_application_data(adu)
    assert isinstance(data, ApplicationData)
    return data.objects


def test_padded_texts_end_at_the_first_nul_and_keep_their_bytes() -> None:
    system, transmitter = TypeFlag.SYSTEM_CONFIGURATION, TypeFlag.TRANSMITTER_CONFIGURATION
    for flag, head in ((system, b"\x01\x02"), (transmitter, b"")):
        adu = bytes((flag, 1)) + head + bytes((len(PADDED),)) + PADDED
        (obj,) = decoded_objects(adu)
        assert isinstance(obj, SystemConfiguration | TransmitterConfiguration)
        assert obj.text == "消防主机A"
        assert obj.wire_text == PADDED
        assert codec.encode_application_data(ApplicationData(flag, (obj,))) == adu


def test_a_plain_text_keeps_no_copy_and_a_nul_in_a_new_text_is_refused() -> None:
    adu = bytes((TypeFlag.TRANSMITTER_CONFIGURATION, 1, 3)) + b"ABC"
    (obj,) = decoded_objects(adu)
    assert obj == TransmitterConfiguration("ABC")
    new = TransmitterConfiguration("A\x00B")
    with pytest.raises(codec.InvalidFieldError, match="NUL"):
        codec.encode_application_data(ApplicationData(TypeFlag.TRANSMITTER_CONFIGURATION, (new,)))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=255))
def test_any_text_bytes_decode_to_the_text_before_nul_and_encode_back_exactly(raw: bytes) -> None:
    adu = bytes((TypeFlag.TRANSMITTER_CONFIGURATION, 1, len(raw))) + raw
    (obj,) = decoded_objects(adu)
    assert isinstance(obj, TransmitterConfiguration)
    assert "\x00" not in obj.text
    assert obj.text == raw.split(b"\x00", 1)[0].decode("gb18030", "replace")
    assert codec.encode_application_data(ApplicationData(obj.TYPE_FLAG, (obj,))) == adu


def test_a_padded_text_is_stored_cut_with_its_raw_bytes(db: Database) -> None:
    address = int(register_devices(db, "gb26875", 1)[0].external_id)
    config = TransmitterConfiguration("消防主机A", wire_text=PADDED)

    async def scenario() -> None:
        async with running_service(db, "database", "") as service:
            server = GB26875Server(service)
            await server.start()
            device = await TcpDevice.connect(server.port)
            await device.send(frame_bytes(address, 1, config))
            await device.replies_within(1)
            await device.close()
            await server.close()
            (event,) = [
                i.event for i in await service.log.read(0, 100) if i.event.kind is EventKind.OTHER
            ]
            assert event.values["text"] == "消防主机A"
            assert event.values["text_hex"] == PADDED.hex()
            assert "wire_text" not in event.values

    asyncio.run(scenario())
