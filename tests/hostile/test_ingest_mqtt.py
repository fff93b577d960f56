"""MQTT through Mosquitto on 127.0.0.1:1883 under hostile payloads (issue #24): a flood of
deeply nested JSON must not stall ingest, and one bad event must not sink its neighbours."""

from __future__ import annotations

import asyncio
import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firegrid.core.db import Database
from firegrid.ingest.adapters.mqtt.codec import mapping_for
from firegrid.ingest.adapters.mqtt.server import MQTTSubscriber
from firegrid.ingest.adapters.payload import MQTT_LIMITS, parse_batch
from firegrid.ingest.events import EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import register_devices
from tests.hostile.ingest_fixtures import (
    forget_session,
    ingest_errors,
    native_event,
    nested,
    publish,
    wait_until,
)

CODES = {
    "too_large",
    "not_json",
    "too_deep",
    "too_many_events",
    "not_an_object",
    "bad_fields",
    "no_device_id",
    "bad_event",
    "bad_topic",
}


async def _stored(service: IngestService, kind: EventKind) -> int:
    return sum(i.event.kind is kind for i in await service.log.read(0, 10_000))


def test_a_flood_of_nested_json_does_not_stall_ingest(mqtt_broker: None, db: Database) -> None:
    """30 deeply nested payloads (more than Mosquitto's 20 in-flight slots), then 5 fire
    alarms: the alarms are stored and every nested payload is recorded and acknowledged."""
    external_id = register_devices(db, "mqtt", 1)[0].external_id
    client_id = f"firegrid-hostile-{uuid.uuid4().hex[:8]}"
    topic = f"firegrid/devices/firegrid/{external_id}/events"

    async def scenario() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        subscriber = MQTTSubscriber(service, client_id=client_id)
        await subscriber.start()
        try:
            # deep enough for RecursionError in the JSON parser, small enough for the limit
            await publish(topic, *[nested(50_000 + n) for n in range(30)])
            fires = [json.dumps(native_event(n)).encode() for n in range(1, 6)]
            await publish(topic, *fires)

            async def five_fires() -> bool:
                return await _stored(service, EventKind.FIRE_ALARM) == 5

            assert await wait_until(five_fires, 60.0), subscriber.counters

            async def all_acked() -> bool:
                return subscriber.counters["acked"] == 35

            assert await wait_until(all_acked, 10.0), subscriber.counters
        finally:
            await subscriber.close()
            await service.close()
            await forget_session(client_id)
        rejected = ingest_errors(db, "bad_payload")
        assert len(rejected) == 30
        assert all("too_deep" in row.message for row in rejected)
        assert all(row.raw_hex.startswith("5b5b5b") for row in rejected)
        assert all(row.external_id == external_id for row in rejected)

    asyncio.run(scenario())


def test_valid_events_sharing_a_payload_with_a_bad_one_are_stored(
    mqtt_broker: None, db: Database
) -> None:
    external_id = register_devices(db, "mqtt", 1)[0].external_id
    client_id = f"firegrid-hostile-{uuid.uuid4().hex[:8]}"
    topic = f"firegrid/devices/firegrid/{external_id}/events"
    bad = {"id": "bad-1", "time": "yesterday", "kind": "fire_alarm"}
    mixed = json.dumps([native_event(1), bad, native_event(3, "fault"), 17]).encode()

    async def scenario() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        subscriber = MQTTSubscriber(service, client_id=client_id)
        await subscriber.start()
        try:
            await publish(topic, mixed)

            async def acked() -> bool:
                return subscriber.counters["acked"] == 1

            assert await wait_until(acked, 20.0), subscriber.counters
            events = [i.event for i in await service.log.read(0, 100)]
            stored = sorted((e.component.point, e.kind) for e in events if e.component.point)
            assert stored == [(1, EventKind.FIRE_ALARM), (3, EventKind.FAULT)]
        finally:
            await subscriber.close()
            await service.close()
            await forget_session(client_id)
        rows = ingest_errors(db, "bad_event")
        assert len(rows) == 2
        by_index = {row.message.split(": ")[1]: row for row in rows}
        assert set(by_index) == {"event 1", "event 3"}
        assert "bad_fields" in by_index["event 1"].message
        assert json.loads(bytes.fromhex(by_index["event 1"].raw_hex)) == bad
        assert "not_an_object" in by_index["event 3"].message

    asyncio.run(scenario())


# -- fuzzing the MQTT payload parser -----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
field_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": field_values,
        "device": field_values,
        "time": field_values | st.just("2026-11-25T10:30:05+08:00"),
        "kind": field_values | st.sampled_from(["fire_alarm", "fault", "nonsense"]),
        "component": field_values
        | st.fixed_dictionaries({}, optional={"loop": field_values, "point": field_values}),
        "values": field_values | json_values,
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(events | json_values, max_size=8).map(lambda v: json.dumps(v).encode()),
    st.lists(events, max_size=8).map(lambda v: json.dumps({"events": v}).encode()),
    st.integers(1, 5000).map(nested),
)


@settings(max_examples=300, deadline=None)
@given(payload=payloads)
def test_the_mqtt_payload_parser_never_raises_and_accounts_for_every_event(
    payload: bytes,
) -> None:
    batch = parse_batch(payload, mapping_for("firegrid"), MQTT_LIMITS, device_given=True)
    assert {r.code for r in batch.rejected} <= CODES
    whole = [r for r in batch.rejected if r.index is None]
    if whole:
        assert batch.accepted == []
        assert len(batch.rejected) == 1
    else:
        indexes = sorted([i for i, _ in batch.accepted] + [r.index or 0 for r in batch.rejected])
        assert indexes == list(range(len(indexes)))
    assert all(len(r.raw) <= 4096 for r in batch.rejected)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=payloads)
def test_the_subscriber_acknowledges_every_payload_after_recording_it(
    db: Database, payload: bytes
) -> None:
    """Through the real service (no broker needed for this part): every payload may be
    acknowledged, and what was rejected is in ``ingest_errors``."""
    external_id = register_devices(db, "mqtt", 1)[0].external_id
    topic = f"firegrid/devices/firegrid/{external_id}/events"

    async def scenario() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        subscriber = MQTTSubscriber(service)
        try:
            before = len(ingest_errors(db))
            assert await subscriber.handle(topic, payload) is True
            batch = parse_batch(payload, mapping_for("firegrid"), MQTT_LIMITS, device_given=True)
            assert len(ingest_errors(db)) - before == len(batch.rejected)
        finally:
            await service.close()

    asyncio.run(scenario())
