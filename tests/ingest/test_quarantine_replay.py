"""After adoption, a device's quarantined messages reach the event log (once)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.ingest import quarantine
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.adapters.json_messages import admit_json
from firegrid.ingest.adapters.mqtt.codec import decode_message, mapping_for
from firegrid.ingest.events import EventKind
from firegrid.ingest.models import IngestError, QuarantineDevice
from firegrid.ingest.service import QuarantineItem
from firegrid.ingest.simulate import register_devices
from tests.ingest.conftest import running_service
from tests.ingest.test_tcp import Device, alarm, frame_bytes, stored

SMOKE = {
    "id": "msg-1",
    "device": "SMOKE-77",
    "time": "2026-11-25T10:30:00+08:00",
    "kind": "fire_alarm",
    "component": {"description": "卧室"},
}


def _adopt_all(db: Database, venue_id: int) -> dict[str, int]:
    adopted = {}
    with db.session() as session:
        for n, entry in enumerate(quarantine.list_unknown(session)):
            device, _ = quarantine.adopt(
                session, entry["id"], venue_id=venue_id, code=f"ADOPT-{n}", kind="smoke_alarm"
            )
            adopted[entry["external_id"]] = device.id
    return adopted


def test_adopted_devices_messages_are_replayed_once(
    db: Database, log_backend: str, stream_name: str
) -> None:
    venue_id = register_devices(db, "gb26875", 1)[0].venue_id

    async def scenario() -> None:
        async with running_service(db, log_backend, stream_name) as service:
            # Two fire alarms from an unregistered panel, confirmed and quarantined ...
            server = GB26875Server(service)
            await server.start()
            panel = await Device.connect(server.port)
            await panel.send(frame_bytes(654321, 1, alarm(1)) + frame_bytes(654321, 2, alarm(2)))
            await panel.replies_within(2)
            await panel.close()
            await server.close()
            # ... and one smoke alarm over MQTT from an unregistered detector.
            message = decode_message(SMOKE, mapping_for("firegrid"))
            counts = await admit_json(
                service, "mqtt", [message], external_id="SMOKE-77", context={"vendor": "firegrid"}
            )
            assert counts["quarantined"] == 1
            assert await stored(service) == []
            assert await service.replay_adopted() == 0  # nothing adopted yet

            adopted = _adopt_all(db, venue_id)
            assert await service.replay_adopted() == 0  # adopted, but not yet in the registry
            await service.refresh_registry()
            assert await service.replay_adopted() == 3
            events = await stored(service)
            assert sorted((e.protocol, e.kind, e.device_id) for e in events) == [
                ("gb26875", EventKind.FIRE_ALARM, adopted["654321"]),
                ("gb26875", EventKind.FIRE_ALARM, adopted["654321"]),
                ("mqtt", EventKind.FIRE_ALARM, adopted["SMOKE-77"]),
            ]
            assert all(e.values["replayed_from_quarantine"] for e in events)
            assert {e.component.description for e in events} == {"三楼1", "三楼2", "卧室"}
            assert all(e.venue_id == venue_id for e in events)
            assert service.state.get(adopted["654321"]) is not None  # state knows the alarms

            # A second pass replays nothing; a message quarantined in the instant before the
            # refresh (or an undecodable one) is handled by the next pass.
            assert await service.replay_adopted() == 0
            await service.quarantine(
                QuarantineItem("gb26875", "654321", utcnow(), "4040zz", {"late": True})
            )
            late = frame_bytes(654321, 3, alarm(3)).hex()
            await service.quarantine(QuarantineItem("gb26875", "654321", utcnow(), late, {}))
            assert await service.replay_adopted() == 1
            assert len(await stored(service)) == 4

    asyncio.run(scenario())
    with db.session() as session:
        panel = session.scalars(
            select(QuarantineDevice).where(QuarantineDevice.external_id == "654321")
        ).one()
        assert panel.replayed_events == 3
        assert panel.replayed_at is not None
        errors = session.scalars(select(IngestError).where(IngestError.kind == "replay_failed"))
        assert [e.external_id for e in errors] == ["654321"]
