"""HTTP push: HMAC signature, replay window, replayed signatures, batches, 2xx after durable."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from firegrid.core.db import Database
from firegrid.core.errors import Unauthenticated
from firegrid.core.settings import Settings
from firegrid.ingest.adapters.http.codec import signature, verify
from firegrid.ingest.adapters.http.server import HTTPPushServer, create_push_app
from firegrid.ingest.events import EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestService
from firegrid.ingest.simulate import ensure_integration, register_devices

URL = "/api/v1/ingest/push/carrier"


def signed(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": "application/json",
        "X-Firegrid-Timestamp": timestamp,
        "X-Firegrid-Signature": signature(secret, timestamp, body),
    }


def batch(*messages: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(messages)}).encode()


def message(device: str, n: int, kind: str = "fire_alarm") -> dict[str, Any]:
    return {"id": f"p-{n}", "device": device, "time": "2026-11-25T10:00:00+08:00", "kind": kind}


def test_verify_rules() -> None:
    body = b"{}"
    now = 1_800_000_000.0
    good = signature("s3cret", str(int(now)), body)
    assert verify("s3cret", str(int(now)), good.upper(), body, now=now) == (good, int(now))
    cases = [
        ("s3cret", str(int(now)), "00" * 32, body),  # wrong signature
        ("other", str(int(now)), good, body),  # wrong secret
        ("s3cret", str(int(now)), good, b"{ }"),  # body changed
        ("s3cret", str(int(now) - 301), signature("s3cret", str(int(now) - 301), body), body),
        ("s3cret", None, good, body),
        ("s3cret", "soon", good, body),
    ]
    for secret, timestamp, sig, data in cases:
        with pytest.raises(Unauthenticated):
            verify(secret, timestamp, sig, data, now=now)


def with_client(
    db: Database,
    settings: Settings,
    scenario: Callable[[httpx.AsyncClient, IngestService], Awaitable[None]],
) -> None:
    async def run() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        app = create_push_app(service, settings)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await scenario(client, service)
        finally:
            await service.close()

    asyncio.run(run())


def test_signed_batch_is_stored_before_200(db: Database, settings: Settings) -> None:
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "carrier")

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        body = batch(message(device, 1), message(device, 2, "fault"), message("nobody", 3))
        response = await client.post(URL, content=body, headers=signed(secret, body))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "ok": True,
            "admitted": 2,
            "quarantined": 1,
            "rejected": 0,
            "accepted": [0, 1, 2],
            "rejections": [],
        }
        events = [i.event for i in await service.log.read(0, 100)]
        kinds = sorted(str(e.kind) for e in events if e.kind != EventKind.ONLINE)
        assert kinds == ["fault", "fire_alarm"]
        # the same batch signed again (a platform retry) is accepted and deduplicated
        response = await client.post(
            URL, content=body, headers=signed(secret, body, time.time() + 1)
        )
        assert response.status_code == 200
        assert len(await service.log.read(0, 100)) == len(events)

    with_client(db, settings, scenario)


def test_bad_signature_stale_and_replayed_requests_get_401(
    db: Database, settings: Settings
) -> None:
    secret = ensure_integration(db, "carrier")

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        body = batch()
        headers = signed(secret, body)
        bad = {**headers, "X-Firegrid-Signature": "ab" * 32}
        response = await client.post(URL, content=body, headers=bad)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert set(response.json()["error"]) == {
            "code",
            "message",
            "details",
            "message_code",
            "message_params",
        }
        stale = signed(secret, body, time.time() - 600)
        assert (await client.post(URL, content=body, headers=stale)).status_code == 401
        assert (await client.post(URL, content=body, headers=headers)).status_code == 200
        replay = await client.post(URL, content=body, headers=headers)
        assert replay.status_code == 401
        assert "replay" in replay.json()["error"]["message"]
        unknown = await client.post("/api/v1/ingest/push/ghost", content=body, headers=headers)
        assert unknown.status_code == 401
        missing = await client.post(URL, content=body)
        assert missing.status_code == 401

    with_client(db, settings, scenario)


def test_vendor_integration_and_bad_payload(db: Database, settings: Settings) -> None:
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "acme", vendor="acme-smoke")

    async def scenario(client: httpx.AsyncClient, service: IngestService) -> None:
        body = json.dumps(
            [
                {
                    "msgId": "x1",
                    "imei": device,
                    "timestamp": 1764036000000,
                    "eventType": "SMOKE_ALARM",
                }
            ]
        ).encode()
        response = await client.post(
            "/api/v1/ingest/push/acme", content=body, headers=signed(secret, body)
        )
        assert response.status_code == 200
        events = [i.event for i in await service.log.read(0, 10)]
        assert any(e.kind == EventKind.FIRE_ALARM for e in events)
        junk = b"[1, 2]"
        response = await client.post(
            "/api/v1/ingest/push/acme", content=junk, headers=signed(secret, junk)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_failed"

    with_client(db, settings, scenario)


def test_push_server_over_a_real_socket(db: Database, settings: Settings) -> None:
    device = register_devices(db, "http", 1)[0].external_id
    secret = ensure_integration(db, "carrier")

    async def run() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        server = HTTPPushServer(service, settings, port=0)
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                body = batch(message(device, 9))
                response = await client.post(URL, content=body, headers=signed(secret, body))
                assert response.status_code == 200
                assert response.json()["admitted"] == 1
        finally:
            await server.close()
            await service.close()

    asyncio.run(run())
