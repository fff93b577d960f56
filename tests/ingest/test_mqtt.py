"""MQTT through Mosquitto on 127.0.0.1:1883: QoS 1, persistent session, PUBACK after durable."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.ingest.adapters.mqtt.codec import (
    decode_message,
    load_mappings,
    mapping_for,
    parse_topic,
    split_payload,
)
from firegrid.ingest.adapters.mqtt.server import MQTTSubscriber
from firegrid.ingest.events import DeviceEvent, EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.models import IngestError, QuarantineDevice
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import register_devices


def native(n: int, kind: str = "fire_alarm") -> dict[str, Any]:
    return {
        "id": f"m-{n}",
        "time": "2026-11-25T10:30:05+08:00",
        "kind": kind,
        "component": {"description": "三楼走廊", "loop": 1, "point": n},
        "values": {"battery": 80, "rssi": -70},
    }


# -- codec (pure) ------------------------------------------------------------------------------


def test_topic_layout() -> None:
    assert parse_topic("firegrid/devices/acme-smoke/860001/events") == ("acme-smoke", "860001")
    for bad in (
        "firegrid/devices/x/events",
        "other/devices/a/b/events",
        "firegrid/devices//1/events",
    ):
        with pytest.raises(ValidationFailed):
            parse_topic(bad)


def test_vendor_mapping_is_data() -> None:
    mappings = load_mappings()
    assert {"firegrid", "acme-smoke", "hydrant-pressure"} <= set(mappings)
    payload = {
        "msgId": "a1",
        "imei": "860001",
        "timestamp": 1764037805000,
        "eventType": "LOW_BATTERY",
        "location": "卧室",
        "data": {"batteryLevel": 9, "rsrp": -101},
    }
    (message,) = [
        decode_message(i, mapping_for("acme-smoke"))
        for i in split_payload(json.dumps(payload).encode())
    ]
    assert message.kind is EventKind.LOW_BATTERY
    assert message.external_id == "860001"
    assert message.values == {"battery": 9, "signal_dbm": -101}
    assert message.occurred_at is not None
    assert message.occurred_at.tzinfo is not None
    assert message.component.description == "卧室"


def test_bad_mappings_and_payloads_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        load_mappings("vendors:\n  x:\n    kind: {path: k, map: {A: not_a_kind}}\n")
    with pytest.raises(ValidationFailed):
        split_payload(b"{not json")
    with pytest.raises(ValidationFailed):
        decode_message({"time": "yesterday"}, mapping_for("firegrid"))
    with pytest.raises(ValidationFailed):
        mapping_for("nobody")


# -- through the broker --------------------------------------------------------------------------


async def publish(topic: str, payload: bytes) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"t-{uuid.uuid4().hex[:8]}") as client:
        await client.publish(topic, payload, qos=1)


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(loop(), timeout)


async def forget_session(client_id: str) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=client_id, clean_session=True):
        pass


class FailingLog(DatabaseEventLog):
    """Refuses appends while ``failing`` (the storage is down)."""

    failing = True

    async def append_batch(self, events: Sequence[DeviceEvent]) -> None:
        if self.failing:
            raise RuntimeError("storage down")
        await super().append_batch(events)


def test_messages_are_stored_quarantined_or_recorded(mqtt_broker: None, db: Database) -> None:
    external_id = register_devices(db, "mqtt", 1)[0].external_id
    client_id = f"firegrid-test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        subscriber = MQTTSubscriber(service, client_id=client_id)
        await subscriber.start()
        try:
            topic = f"firegrid/devices/firegrid/{external_id}/events"
            await publish(topic, json.dumps(native(1)).encode())
            await publish(topic, json.dumps({"events": [native(2), native(3, "fault")]}).encode())
            await publish(
                "firegrid/devices/firegrid/stranger/events", json.dumps(native(4)).encode()
            )
            await publish(topic, b"\xff not json")

            async def all_in() -> bool:
                return subscriber.counters["acked"] >= 4

            await wait_for(all_in)
            events = [i.event for i in await service.log.read(0, 100)]
            kinds = sorted(str(e.kind) for e in events if e.kind != EventKind.ONLINE)
            assert kinds == ["fault", "fire_alarm", "fire_alarm"]
            alarm = next(e for e in events if e.kind == EventKind.FIRE_ALARM)
            assert alarm.protocol == "mqtt"
            assert alarm.external_id == external_id
            assert alarm.component.point == 1
            status = service.state.get(alarm.device_id or 0)
            assert status is not None
            assert status.battery_pct == 80
        finally:
            await subscriber.close()
            await service.close()
            await forget_session(client_id)
        with db.session() as session:
            unknown = session.scalars(select(QuarantineDevice)).all()
            assert [(u.protocol, u.external_id) for u in unknown] == [("mqtt", "stranger")]
            errors = session.scalars(select(IngestError)).all()
            assert [e.kind for e in errors] == ["bad_payload"]

    asyncio.run(scenario())


def test_unstored_messages_are_not_acked_and_come_back(mqtt_broker: None, db: Database) -> None:
    """PUBACK only after durable: a failed append leaves the message with the broker, which
    delivers it again to the same persistent session; so do messages sent while ingest was
    down."""
    external_id = register_devices(db, "mqtt", 1)[0].external_id
    client_id = f"firegrid-test-{uuid.uuid4().hex[:8]}"
    topic = f"firegrid/devices/firegrid/{external_id}/events"

    async def scenario() -> None:
        log = FailingLog(db)
        service = IngestService(db, log)
        await service.start(background=False)
        subscriber = MQTTSubscriber(service, client_id=client_id)
        await subscriber.start()
        try:
            await publish(topic, json.dumps(native(1)).encode())

            async def handled() -> bool:
                return subscriber.counters["messages"] >= 1

            await wait_for(handled)
            await asyncio.sleep(0.2)
            assert subscriber.counters["acked"] == 0
            await subscriber.close()
            # while ingest is away, another message arrives at the broker
            await publish(topic, json.dumps(native(2)).encode())
            log.failing = False
            subscriber = MQTTSubscriber(service, client_id=client_id)
            await subscriber.start()

            async def both() -> bool:
                events = [i.event for i in await log.read(0, 100)]
                return sum(e.kind == EventKind.FIRE_ALARM for e in events) == 2

            await wait_for(both, 10)
        finally:
            await subscriber.close()
            await service.close()
            await forget_session(client_id)

    asyncio.run(scenario())
