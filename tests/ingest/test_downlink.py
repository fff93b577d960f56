"""Downstream commands end to end over real TCP: API/CLI → table → ingest → transmitter.

A real :class:`GB26875Server` with its :class:`Downlink` on 127.0.0.1, simulated transmitters
(:class:`firegrid.ingest.simulate.GBClient` with a :class:`DownlinkResponder`) on real
sockets, the real database; commands are written through the HTTP API or the request
service, as the API process does, and picked up from the table.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from firegrid.accounts.principal import system_principal
from firegrid.api.app import create_app
from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.devices.models import Device
from firegrid.ingest.adapters.gb26875.codec import (
    ANSWER_TYPE_FOR_READ,
    TransmitterStatus,
    TransmitterStatusFlag,
)
from firegrid.ingest.adapters.gb26875.server import GB26875Server
from firegrid.ingest.commands import catalogue, requests
from firegrid.ingest.commands.dispatcher import Downlink
from firegrid.ingest.commands.models import DeviceCommand, DeviceCommandSchedule
from firegrid.ingest.commands.schedule import ScheduleSettings
from firegrid.ingest.events import EventKind
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import GBClient, SimStats, register_devices
from firegrid.ingest.simulate_downlink import DownlinkResponder
from tests.helpers import bearer, until
from tests.ingest.conftest import running_service

FAST = {"tick_s": 0.05, "queue_poll_s": 0.05, "remap_s": 0.1, "answer_timeout_s": 2.0}


@asynccontextmanager
async def centre(
    db: Database, stream_name: str, **options: Any
) -> AsyncIterator[tuple[IngestService, GB26875Server, Downlink]]:
    """One ingest process: its service, the GB/T 26875.3 server and the downlink."""
    async with running_service(db, "database", stream_name) as service:
        server = GB26875Server(service)
        await server.start()
        downlink = Downlink(server, **{**FAST, "schedules": False, **options})
        await downlink.start()
        try:
            yield service, server, downlink
        finally:
            await downlink.close()
            await server.close()


async def transmitter(
    port: int, device: Device, *, answer_ratio: float = 1.0, delay_s: float = 0.2
) -> GBClient:
    """A simulated transmitter, connected and heard once (the centre learns its address)."""
    responder = DownlinkResponder(
        int(device.external_id),
        operator_answer_ratio=answer_ratio,
        operator_delay_s=delay_s,
        operator_number=7,
        rng=random.Random(1),
    )
    client = GBClient(
        "127.0.0.1",
        port,
        int(device.external_id),
        SimStats("gb26875", 1),
        retransmit_s=3.0,
        window=8,
        responder=responder,
    )
    await client.connect()
    now = utcnow().astimezone(CHINA_TZ).replace(microsecond=0)
    await client.send(TransmitterStatus(TransmitterStatusFlag.NORMAL, now), None)
    await until(lambda: not client.pending)
    return client


def commands(db: Database) -> list[DeviceCommand]:
    with db.session() as session:
        rows = list(session.scalars(select(DeviceCommand).order_by(DeviceCommand.id)).all())
        session.expunge_all()
    return rows


async def finished(db: Database, count: int, timeout_s: float = 10.0) -> list[DeviceCommand]:
    """Wait until ``count`` commands are finished (not queued or sent)."""
    rows: list[DeviceCommand] = []

    async def wait() -> None:
        nonlocal rows
        while True:
            rows = await asyncio.to_thread(commands, db)
            done = [r for r in rows if r.status not in ("queued", "sent")]
            if len(done) >= count:
                return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout_s)
    return rows


def test_poll_written_through_the_api_is_answered_and_recorded(
    db: Database, settings: Settings, stream_name: str
) -> None:
    (device,) = register_devices(db, "gb26875", 1)
    headers = bearer(db, settings, "monitor_operator", "990000")
    app = create_app(settings, db)

    async def scenario() -> None:
        async with centre(db, stream_name) as (_service, server, downlink):
            client = await transmitter(server.port, device)
            with TestClient(app) as http:
                response = await asyncio.to_thread(
                    http.post, f"/api/v1/devices/{device.id}/poll", headers=headers
                )
                assert response.status_code == 201, response.text
                assert response.json()["status"] == "queued"
                (row,) = await finished(db, 1)
                listed = await asyncio.to_thread(
                    http.get, "/api/v1/device-commands", headers=headers
                )
            assert row.status == "answered"
            assert row.kind == "read_transmitter_status"
            assert row.requested_by.startswith("user:")
            assert row.cause == "poll"
            assert row.sent_at is not None
            assert row.answered_at is not None
            assert row.requested_at <= row.sent_at <= row.answered_at
            assert row.result is not None
            assert row.result["type_flag"] == 21
            assert row.result["objects"][0]["type"] == "TransmitterStatus"
            assert client.responder is not None
            assert client.responder.handled == {"read_transmitter_status": 1}
            assert downlink.counters["answered"] == 1
            assert downlink.counters["retries"] == 0
            (item,) = listed.json()["items"]
            assert (item["id"], item["status"]) == (row.id, "answered")
            assert item["device_code"] == device.code
            await client.close()

    asyncio.run(scenario())


def test_check_post_answered_by_the_operator_and_one_that_times_out(
    db: Database, stream_name: str
) -> None:
    staffed, empty = register_devices(db, "gb26875", 2)

    async def scenario() -> None:
        async with centre(db, stream_name) as (service, server, _):
            answering = await transmitter(server.port, staffed, answer_ratio=1.0)
            silent = await transmitter(server.port, empty, answer_ratio=0.0)
            with db.session() as session:
                started = requests.start_check_post(
                    session, system_principal("tests"), all_venues=True, reply_window_s=1
                )
            assert started["commands"] == 2
            rows = {r.device_id: r for r in await finished(db, 2)}
            events = [i.event for i in await service.log.read(0, 100)]
            await answering.close()
            await silent.close()
        answered, timed_out = rows[staffed.id], rows[empty.id]
        assert answered.status == "answered"
        assert answered.round_id == timed_out.round_id == started["round_id"]
        assert answered.result is not None
        assert answered.result["operator_number"] == 7
        assert answered.result["answered"] is True
        assert answered.result["reply_window_s"] == 1
        assert answered.result["confirmed_at"] is not None
        assert 0.2 <= answered.result["answered_in_s"] < 1.0
        assert answered.answered_at is not None
        assert timed_out.status == "timed_out"
        assert timed_out.result is not None
        assert timed_out.result["answered"] is False
        assert timed_out.result["confirmed_at"] is not None  # it got there: nobody pressed
        assert timed_out.answered_at is None
        assert timed_out.finished_at is not None
        # the operator's reply is stored as an operation of the device, not a heartbeat
        operations = [e for e in events if e.kind is EventKind.OPERATION]
        assert [e.device_id for e in operations] == [staffed.id]
        assert "CHECK_POST_REPLY" in operations[0].values["flags"]

    asyncio.run(scenario())


EXAMPLE_PARAMETERS: dict[str, dict[str, Any]] = {
    "read_system_status": {"system_type": 1, "system_address": 0},
    "read_component_status": {"system_type": 1, "system_address": 0, "component_address": 217},
    "read_component_analog_values": {
        "system_type": 1,
        "system_address": 0,
        "component_address": 217,
    },
    "read_system_operations": {
        "system_type": 1,
        "system_address": 0,
        "record_count": 5,
        "start_time": "2026-11-25T08:00:00+08:00",
    },
    "read_system_software_version": {"system_type": 1, "system_address": 0},
    "read_system_configuration": {"system_type": 1, "system_address": 0},
    "read_component_configuration": {
        "system_type": 1,
        "system_address": 0,
        "component_address": 217,
    },
    "read_system_clock": {"system_type": 1, "system_address": 0},
    "read_transmitter_operations": {"record_count": 5, "start_time": "2026-11-25T08:00:00+08:00"},
    "check_post": {"reply_window_s": 2},
}


def test_every_downstream_kind_is_sent_and_its_answer_matched(
    db: Database, stream_name: str
) -> None:
    (device,) = register_devices(db, "gb26875", 1)

    async def scenario() -> None:
        async with centre(db, stream_name) as (_service, server, downlink):
            client = await transmitter(server.port, device, delay_s=0.05)
            with db.session() as session:
                for kind in catalogue.KINDS:
                    requests.request_command(
                        session,
                        system_principal("tests"),
                        device.id,
                        kind=kind,
                        parameters=EXAMPLE_PARAMETERS.get(kind, {}),
                        cause="test",
                    )
            rows = await finished(db, len(catalogue.KINDS))
            assert client.responder is not None
            handled = dict(client.responder.handled)
            await client.close()
            assert downlink.counters["wrong_type"] == 0
        assert {r.kind: r.status for r in rows} == dict.fromkeys(catalogue.KINDS, "answered")
        assert handled == dict.fromkeys(catalogue.KINDS, 1)
        for row in rows:
            flag = catalogue.KINDS[row.kind]
            assert row.result is not None
            if flag in ANSWER_TYPE_FOR_READ:
                assert row.result["type_flag"] == ANSWER_TYPE_FOR_READ[flag]
            elif row.kind == "check_post":
                assert row.result["operator_number"] == 7
            else:
                assert row.result == {"confirmed": True}
        assert len({r.serial for r in rows}) == len(rows)  # one serial per open exchange

    asyncio.run(scenario())


def test_a_command_for_a_device_nobody_holds_becomes_not_connected(
    db: Database, stream_name: str
) -> None:
    (device,) = register_devices(db, "gb26875", 1)

    async def scenario() -> None:
        async with centre(db, stream_name, not_connected_after_s=0.3):
            with db.session() as session:
                requests.request_command(session, system_principal("tests"), device.id)
            (row,) = await finished(db, 1)
        assert row.status == "not_connected"
        assert row.sent_at is None
        assert row.finished_at is not None

    asyncio.run(scenario())


def test_only_the_process_holding_the_connection_sends(db: Database, stream_name: str) -> None:
    (device,) = register_devices(db, "gb26875", 1)

    async def scenario() -> None:
        async with (
            centre(db, stream_name, worker_id="a", not_connected_after_s=60) as (_, _, a),
            centre(db, stream_name, worker_id="b", not_connected_after_s=60) as (_, server_b, b),
        ):
            client = await transmitter(server_b.port, device)
            with db.session() as session:
                for _ in range(3):
                    requests.request_command(session, system_principal("tests"), device.id)
            rows = await finished(db, 3)
            await client.close()
            assert (a.counters["sent"], b.counters["sent"]) == (0, 3)
        assert {(r.status, r.sent_by) for r in rows} == {("answered", "b")}

    asyncio.run(scenario())


def test_the_poll_schedule_fires_after_a_restart_from_its_stored_due_time(
    db: Database, stream_name: str
) -> None:
    (device,) = register_devices(db, "gb26875", 1)
    schedule = ScheduleSettings(poll_default_s=7200, clock_sync_s=86400)

    def stored() -> dict[str, DeviceCommandSchedule]:
        with db.session() as session:
            rows = session.scalars(select(DeviceCommandSchedule)).all()
            session.expunge_all()
        return {r.kind: r for r in rows}

    async def run_once() -> None:
        async with centre(db, stream_name, schedules=True, schedule=schedule) as (
            _service,
            server,
            _,
        ):
            client = await transmitter(server.port, device)
            await until(lambda: len(stored()) == 2)
            await asyncio.sleep(0.3)
            await client.close()

    asyncio.run(run_once())
    first = stored()
    start = utcnow()
    assert first["poll"].period_s == 7200
    assert start < first["poll"].next_due_at <= start + timedelta(seconds=7200)
    assert commands(db) == []  # not due yet: nothing sent
    # the process is down while the poll falls due
    with db.session() as session:
        session.execute(
            update(DeviceCommandSchedule)
            .where(DeviceCommandSchedule.kind == "poll")
            .values(next_due_at=start - timedelta(seconds=5))
        )

    async def run_again() -> list[DeviceCommand]:
        async with centre(db, stream_name, schedules=True, schedule=schedule) as (
            _service,
            server,
            _,
        ):
            client = await transmitter(server.port, device)
            rows = await finished(db, 1)
            await client.close()
            return rows

    (row,) = asyncio.run(run_again())
    assert (row.kind, row.cause, row.requested_by, row.status) == (
        "read_transmitter_status",
        "schedule.poll",
        "schedule",
        "answered",
    )
    after = stored()["poll"]
    assert after.last_fired_at is not None
    # the next poll keeps the phase: one period after the due time it fired for
    assert after.next_due_at == start - timedelta(seconds=5) + timedelta(seconds=7200)


def test_commands_unanswered_when_ingest_stops_are_recorded_failed(
    db: Database, stream_name: str
) -> None:
    (device,) = register_devices(db, "gb26875", 1)

    async def scenario() -> None:
        async with centre(db, stream_name, answer_timeout_s=30.0) as (_, server, downlink):
            client = await transmitter(server.port, device)
            client.responder = None  # this transmitter never answers
            with db.session() as session:
                requests.request_command(session, system_principal("tests"), device.id)
            await until(lambda: downlink.counters["sent"] == 1)
            assert [r.status for r in commands(db)] == ["sent"]
            await client.close()

    asyncio.run(scenario())
    (row,) = commands(db)
    assert (row.status, row.result) == ("failed", {"reason": "ingest_stopped"})
    assert row.sent_by == "ingest"
    assert row.finished_at is not None
