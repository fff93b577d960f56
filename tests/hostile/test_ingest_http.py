"""Signed HTTP push under hostile input (issue #24): mixed batches are split, every failure
is answered and recorded, and a signed request is accepted once however it is replayed."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable

import httpx
from hypothesis import HealthCheck, given, settings

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.adapters.http.server import HTTPPushServer, create_push_app
from firegrid.ingest.adapters.mqtt.codec import mapping_for
from firegrid.ingest.adapters.payload import HTTP_LIMITS, parse_batch
from firegrid.ingest.events import EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import ensure_integration, register_devices
from tests.hostile.ingest_fixtures import ingest_errors, native_event, nested, signed_headers
from tests.hostile.test_ingest_mqtt import CODES, payloads

URL = "/api/v1/ingest/push/carrier"


def with_client(
    db: Database,
    settings: Settings,
    scenario: Callable[[httpx.AsyncClient, IngestService], Awaitable[None]],
) -> None:
    async def run() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        transport = httpx.ASGITransport(app=create_push_app(service, settings))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await scenario(client, service)
        finally:
            await service.close()

    asyncio.run(run())


def test_a_mixed_batch_stores_the_valid_events_and_lists_the_rejected(
    db: Database, settings: Settings
) -> None:
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "carrier")
    bad = {"id": "bad", "device": device, "time": "yesterday", "kind": "fire_alarm"}
    body = json.dumps(
        {"events": [native_event(1, device=device), bad, native_event(3, "fault", device)]}
    ).encode()

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        response = await client.post(URL, content=body, headers=signed_headers(secret, body))
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["ok"] is False
        assert (answer["admitted"], answer["quarantined"], answer["rejected"]) == (2, 0, 1)
        assert answer["accepted"] == [0, 2]
        (rejection,) = answer["rejections"]
        assert rejection["index"] == 1
        assert rejection["code"] == "bad_fields"
        assert "time" in rejection["details"]
        events = [i.event for i in await service.log.read(0, 100)]
        stored = sorted((e.component.point, e.kind) for e in events if e.component.point)
        assert stored == [(1, EventKind.FIRE_ALARM), (3, EventKind.FAULT)]

    with_client(db, settings, scenario)
    (row,) = ingest_errors(db, "bad_event")
    assert row.protocol == "http"
    assert "push/carrier: event 1: bad_fields" in row.message
    assert json.loads(bytes.fromhex(row.raw_hex)) == bad


def test_hostile_batches_get_422_with_reasons_and_are_recorded(
    db: Database, settings: Settings
) -> None:
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "carrier")
    too_many = json.dumps([native_event(n, device=device) for n in range(5001)]).encode()
    cases = {
        "too_deep": nested(100_000),
        "not_json": b"\xff\xfe not json",
        "too_many_events": too_many,
        "no_device_id": json.dumps([native_event(1)]).encode(),
    }

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        for code, body in cases.items():
            response = await client.post(URL, content=body, headers=signed_headers(secret, body))
            assert response.status_code == 422, (code, response.text)
            error = response.json()["error"]
            assert error["code"] == "validation_failed"
            assert [r["code"] for r in error["details"]["rejections"]] == [code]
        assert await service.log.read(0, 10) == []

    with_client(db, settings, scenario)
    rows = ingest_errors(db)
    assert len(rows) == 4
    assert all(row.raw_hex for row in rows)
    assert rows[0].raw_hex.startswith("5b5b5b")  # the nested payload's first bytes


def test_concurrent_replays_of_one_signed_push_are_accepted_once_across_processes(
    db: Database, settings: Settings
) -> None:
    """Ten identical signed requests at once, spread over two push servers (two ingest
    services sharing the database, as two processes would): exactly one 200."""
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "carrier")
    body = json.dumps([native_event(n, device=device) for n in range(1, 4)]).encode()
    headers = signed_headers(secret, body)

    async def run() -> None:
        services = [IngestService(db, DatabaseEventLog(db)) for _ in range(2)]
        servers = []
        for service in services:
            await service.start(background=False)
            server = HTTPPushServer(service, settings, port=0)
            await server.start()
            servers.append(server)
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                urls = [f"http://127.0.0.1:{server.port}{URL}" for server in servers]
                requests = [
                    client.post(urls[n % 2], content=body, headers=headers) for n in range(10)
                ]
                responses = await asyncio.gather(*requests)
            codes = sorted(r.status_code for r in responses)
            assert codes == [200] + [401] * 9
            refused = [r.json()["error"] for r in responses if r.status_code == 401]
            assert all("replay" in e["message"] for e in refused)
            events = [i.event for i in await services[0].log.read(0, 100)]
            assert sum(e.kind is EventKind.FIRE_ALARM for e in events) == 3
            # a fresh signature of the same body (a platform's retry) is accepted
            async with httpx.AsyncClient(timeout=30) as client:
                retry = await client.post(
                    f"http://127.0.0.1:{servers[1].port}{URL}",
                    content=body,
                    headers=signed_headers(secret, body, time.time() + 1),
                )
            assert retry.status_code == 200
        finally:
            for server in servers:
                await server.close()
            for service in services:
                await service.close()

    asyncio.run(run())


@settings(max_examples=300, deadline=None)
@given(payload=payloads)
def test_the_http_payload_parser_never_raises(payload: bytes) -> None:
    batch = parse_batch(payload, mapping_for("firegrid"), HTTP_LIMITS, device_given=False)
    assert {r.code for r in batch.rejected} <= CODES
    assert all(message.external_id for message in batch.messages)


_SECONDS_AGO = itertools.count(1)
_SIGNED_FROM: list[int] = []  # the whole second of the first example


def _own_second() -> int:
    """A signing time no other example of this run has: counting back from the first
    example's whole second (counting back from the clock each time collides once the clock
    moves on by as many seconds as the counter did, and two equal payloads then replay)."""
    if not _SIGNED_FROM:
        _SIGNED_FROM.append(int(time.time()))
    return _SIGNED_FROM[0] - next(_SECONDS_AGO) % 240


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=payloads)
def test_the_push_route_answers_every_signed_payload_with_200_or_422(
    db: Database, settings: Settings, payload: bytes
) -> None:
    secret = ensure_integration(db, "carrier")
    # the database outlives one example: sign each at its own second (within the 300 s
    # window), so no example is another's replay
    headers = signed_headers(secret, payload, _own_second())

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        response = await client.post(URL, content=payload, headers=headers)
        batch = parse_batch(payload, mapping_for("firegrid"), HTTP_LIMITS, device_given=False)
        expected = 422 if batch.rejected and not batch.accepted else 200
        assert response.status_code == expected, response.text
        replay = await client.post(URL, content=payload, headers=headers)
        assert replay.status_code == 401

    with_client(db, settings, scenario)
