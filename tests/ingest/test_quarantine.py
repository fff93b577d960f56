"""Quarantine review and adoption (service rules and the admin routes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from firegrid.accounts.principal import Principal
from firegrid.api.deps import get_principal
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, DomainError, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.ingest import quarantine
from firegrid.ingest.api import router
from firegrid.ingest.events import EventKind
from firegrid.ingest.log_db import DatabaseEventLog
from firegrid.ingest.service import IngestService, QuarantineItem
from firegrid.ingest.simulate import register_devices

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def admin(scope: str = "/") -> Principal:
    return Principal("user:1", "admin", "admin", scope, "root", auth_method="bearer")


def quarantine_two(db: Database) -> None:
    async def run() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        for n in range(3):
            await service.quarantine(
                QuarantineItem("gb26875", "424242", T0.replace(second=n), f"4040{n:02x}", {"n": n})
            )
        await service.quarantine(QuarantineItem("mqtt", "lonely", T0, "", {"n": 9}))
        await service.close()

    asyncio.run(run())


def test_list_and_adopt(db: Database) -> None:
    venue_id = register_devices(db, "gb26875", 1)[0].venue_id
    quarantine_two(db)
    with db.session() as session:
        items = quarantine.list_unknown(session)
        by_id = {i["external_id"]: i for i in items}
        gb = by_id["424242"]
        assert gb["message_count"] == 3
        assert gb["first_seen"] == T0
        assert gb["last_seen"] == T0.replace(second=2)
        messages = quarantine.list_messages(session, gb["id"])
        assert [m["raw_hex"] for m in messages] == ["404002", "404001", "404000"]
        with pytest.raises(ValidationFailed):
            quarantine.adopt(session, gb["id"], venue_id=999, code="X-1", kind="transmitter")
        with pytest.raises(ValidationFailed):
            quarantine.adopt(
                session,
                gb["id"],
                venue_id=venue_id,
                code="X-1",
                kind="transmitter",
                can_see_path=lambda path: False,
            )
        device, ref = quarantine.adopt(
            session, gb["id"], venue_id=venue_id, code="X-1", kind="transmitter"
        )
        assert (device.protocol, device.external_id) == ("gb26875", "424242")
        assert ref.device_id == device.id
        with pytest.raises(Conflict):
            quarantine.adopt(session, gb["id"], venue_id=venue_id, code="X-2", kind="transmitter")
    with db.session() as session:
        assert [i["external_id"] for i in quarantine.list_unknown(session)] == ["lonely"]
        assert len(quarantine.list_unknown(session, include_adopted=True)) == 2


def test_adopted_device_is_admitted_after_refresh(db: Database) -> None:
    venue_id = register_devices(db, "gb26875", 1)[0].venue_id
    quarantine_two(db)

    async def run() -> None:
        service = IngestService(db, DatabaseEventLog(db))
        await service.start(background=False)
        assert service.lookup("gb26875", "424242") is None
        with db.session() as session:
            (entry,) = [i for i in quarantine.list_unknown(session) if i["external_id"] == "424242"]
            quarantine.adopt(
                session, entry["id"], venue_id=venue_id, code="X-9", kind="transmitter"
            )
        await service.refresh_registry()
        ref = service.lookup("gb26875", "424242")
        assert ref is not None
        assert ref.venue_id == venue_id
        await service.close()

    asyncio.run(run())


def test_admin_routes(db: Database, settings: Settings) -> None:
    venue_id = register_devices(db, "gb26875", 1)[0].venue_id
    quarantine_two(db)
    app = FastAPI()
    app.state.db = db
    app.state.settings = settings
    app.include_router(router, prefix="/api/v1")

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.envelope(), status_code=exc.status)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            app.dependency_overrides[get_principal] = lambda: Principal(
                "user:2", "viewer", "grid_worker", "/", "root"
            )
            assert (await client.get("/api/v1/ingest/quarantine")).status_code == 403
            app.dependency_overrides[get_principal] = admin
            listed = (await client.get("/api/v1/ingest/quarantine")).json()["items"]
            gb = next(i for i in listed if i["external_id"] == "424242")
            messages = await client.get(f"/api/v1/ingest/quarantine/{gb['id']}/messages")
            assert len(messages.json()["items"]) == 3
            adopted = await client.post(
                f"/api/v1/ingest/quarantine/{gb['id']}/adopt",
                json={"venue_id": venue_id, "code": "ADOPT-1", "kind": "transmitter"},
            )
            assert adopted.status_code == 201, adopted.text
            assert adopted.json()["external_id"] == "424242"
            again = await client.post(
                f"/api/v1/ingest/quarantine/{gb['id']}/adopt",
                json={"venue_id": venue_id, "code": "ADOPT-2", "kind": "transmitter"},
            )
            assert again.status_code == 409

    asyncio.run(run())


def test_quarantined_frames_never_reach_the_log(db: Database) -> None:
    quarantine_two(db)

    async def run() -> None:
        log = DatabaseEventLog(db)
        await log.start()
        assert [i for i in await log.read(0, 10) if i.event.kind != EventKind.ONLINE] == []
        await log.close()

    asyncio.run(run())
