"""HTTP routes of ingest (mounted under ``/api/v1``).

- ``POST /ingest/push/{integration}``: HTTP push from IoT platforms, authenticated by HMAC
  (see :mod:`firegrid.ingest.adapters.http.codec`), not by user tokens. Answers 200 only
  after the batch is durable.
- ``GET /ingest/quarantine``, ``GET /ingest/quarantine/{id}/messages``,
  ``POST /ingest/quarantine/{id}/adopt``: quarantine review (permission ``devices:write``).
"""

# No ``from __future__ import annotations``: FastAPI reads the real annotations.

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from firegrid.accounts.principal import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, Unauthenticated, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.ingest import quarantine
from firegrid.ingest.adapters.http.codec import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ReplayGuard,
    verify,
)
from firegrid.ingest.adapters.mqtt.codec import decode_message, mapping_for, split_payload
from firegrid.ingest.models import IngestIntegration
from firegrid.ingest.service import IngestService

PROTOCOL = "http"
MAX_BODY_BYTES = 4 * 1024 * 1024

router = APIRouter(tags=["ingest"])
push_router = APIRouter(tags=["ingest"])


async def ingest_service(request: Request) -> IngestService:
    """The app's ingest service (``app.state.ingest``), created and started on first use."""
    state = request.app.state
    service: IngestService | None = getattr(state, "ingest", None)
    if service is None:
        lock: asyncio.Lock | None = getattr(state, "ingest_lock", None)
        if lock is None:  # no await since the check: one lock per app
            lock = state.ingest_lock = asyncio.Lock()
        async with lock:
            service = getattr(state, "ingest", None)
            if service is None:
                from firegrid.ingest.log import open_event_log

                settings: Settings = state.settings
                database: Database = state.db
                service = IngestService(database, open_event_log(settings, database))
                await service.start()
                state.ingest = service
    return service


def replay_guard(request: Request) -> ReplayGuard:
    guard: ReplayGuard | None = getattr(request.app.state, "ingest_replay_guard", None)
    if guard is None:
        guard = ReplayGuard()
        request.app.state.ingest_replay_guard = guard
    return guard


def _integration(db: Database, name: str) -> tuple[str, str] | None:
    with db.session() as session:
        row = session.scalars(
            select(IngestIntegration).where(
                IngestIntegration.name == name, IngestIntegration.enabled.is_(True)
            )
        ).first()
        return None if row is None else (row.secret, row.vendor)


class PushResult(BaseModel):
    ok: bool = True
    admitted: int
    quarantined: int
    rejected: int


@push_router.post(
    "/ingest/push/{integration}",
    summary="Push a signed batch of device messages (HMAC-SHA256, not a user token)",
    response_model=PushResult,
)
async def push(integration: str, request: Request) -> PushResult:
    service = await ingest_service(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValidationFailed("the batch is too large", {"max_bytes": MAX_BODY_BYTES})
    found = await asyncio.to_thread(_integration, service.db, integration)
    guard = replay_guard(request)
    if found is None:
        # the same answer as a bad signature: do not reveal which integrations exist
        raise Unauthenticated("the request signature does not match")
    secret, vendor = found
    verify(
        secret,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        body,
        guard,
    )
    mapping = mapping_for(vendor)
    messages = [decode_message(item, mapping) for item in split_payload(body)]
    counts = await service.admit_json(
        PROTOCOL, messages, context={"integration": integration, "vendor": vendor}
    )
    guard.remember(
        request.headers[SIGNATURE_HEADER].strip().lower(), float(request.headers[TIMESTAMP_HEADER])
    )
    return PushResult(**counts)


router.include_router(push_router)


class AdoptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    venue_id: int
    code: str = Field(min_length=1, max_length=40)
    kind: str = Field(pattern="^(transmitter|smoke_alarm|sprinkler_pressure|electrical_monitor)$")
    install_location: str = Field("", max_length=200)


WriteDevices = Annotated[Principal, Depends(require("devices:write"))]


@router.get("/ingest/quarantine", summary="Unknown devices that sent messages")
def list_quarantine(
    session: SessionDep,
    _principal: WriteDevices,
    include_adopted: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    items = quarantine.list_unknown(
        session, include_adopted=include_adopted, limit=limit, offset=offset
    )
    return {"items": items}


@router.get("/ingest/quarantine/{quarantine_id}/messages", summary="Quarantined messages")
def quarantine_messages(
    quarantine_id: int,
    session: SessionDep,
    _principal: WriteDevices,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"items": quarantine.list_messages(session, quarantine_id, limit)}


@router.post(
    "/ingest/quarantine/{quarantine_id}/adopt",
    summary="Register a quarantined device at a venue",
    status_code=201,
)
def adopt_device(
    quarantine_id: int,
    body: AdoptIn,
    request: Request,
    session: SessionDep,
    principal: WriteDevices,
) -> dict[str, Any]:
    device, ref = quarantine.adopt(
        session,
        quarantine_id,
        venue_id=body.venue_id,
        code=body.code,
        kind=body.kind,
        install_location=body.install_location,
        can_see_path=principal.can_see_path,
    )
    service: IngestService | None = getattr(request.app.state, "ingest", None)
    if service is not None:
        service.registry.add(ref)
    if device.id is None:  # pragma: no cover - flushed by adopt
        raise NotFound("device not created")
    return {
        "device_id": device.id,
        "code": device.code,
        "protocol": device.protocol,
        "external_id": device.external_id,
        "venue_id": device.venue_id,
    }
