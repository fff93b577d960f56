"""HTTP routes of ingest (mounted under ``/api/v1``).

- ``POST /ingest/push/{integration}``: HTTP push from IoT platforms, authenticated by HMAC
  (see :mod:`firegrid.ingest.adapters.http.codec`), not by user tokens; a replayed
  signature is refused atomically (:mod:`firegrid.ingest.adapters.http.claims`). The batch
  is split: its valid events are stored, its invalid ones recorded in ``ingest_errors``;
  200 (listing any rejections) only after the valid ones are durable, 422 when none is.
- ``GET /ingest/quarantine``, ``GET /ingest/quarantine/{id}/messages``,
  ``POST /ingest/quarantine/{id}/adopt``: quarantine review (permission ``devices:write``).
"""

# No ``from __future__ import annotations``: FastAPI reads the real annotations.

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.api.schemas import Timestamp
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, Unauthenticated, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.ingest import quarantine
from firegrid.ingest.adapters.http.claims import claim_signature, release_signature
from firegrid.ingest.adapters.http.codec import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from firegrid.ingest.adapters.json_messages import admit_json
from firegrid.ingest.adapters.mqtt.codec import mapping_for
from firegrid.ingest.adapters.payload import HTTP_LIMITS, parse_batch
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


def _integration(db: Database, name: str) -> tuple[str, str] | None:
    with db.session() as session:
        row = session.scalars(
            select(IngestIntegration).where(
                IngestIntegration.name == name, IngestIntegration.enabled.is_(True)
            )
        ).first()
        return None if row is None else (row.secret, row.vendor)


class PushRejection(BaseModel):
    """Why one event of the batch (``index``) or the whole batch (``index`` null) was not
    stored; the same reason is kept in ``ingest_errors`` with the raw event."""

    index: int | None
    code: str
    message: str
    details: Any = None


class PushResult(BaseModel):
    """The answer to a push: which events are durable, which were rejected and why.

    ``ok`` is true when every event was stored. ``accepted`` lists the indexes (in the
    batch) of the events stored (admitted to the event log, or quarantined for an unknown
    device); ``rejections`` the others.
    """

    ok: bool = True
    admitted: int
    quarantined: int
    rejected: int
    accepted: list[int] = Field(default_factory=list)
    rejections: list[PushRejection] = Field(default_factory=list)


@push_router.post(
    "/ingest/push/{integration}",
    summary="Push a signed batch of device messages (HMAC-SHA256, not a user token)",
    response_model=PushResult,
    responses={
        401: {"description": "bad or missing signature, stale timestamp, or a replay"},
        422: {"description": "no event of the batch could be stored (reasons in details)"},
    },
)
async def push(integration: str, request: Request) -> PushResult:
    """200 once the batch's valid events are durable (the body lists any rejected ones);
    422 when none is valid; 401 for a bad signature or a replayed request."""
    service = await ingest_service(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValidationFailed(
            "the batch is too large",
            {"max_bytes": MAX_BODY_BYTES},
            text=TextCode.VALIDATION_TOO_LARGE,
            params={"field": "body", "max_mb": round(MAX_BODY_BYTES / 1048576, 1)},
        )
    found = await asyncio.to_thread(_integration, service.db, integration)
    if found is None:
        # the same answer as a bad signature: do not reveal which integrations exist
        raise Unauthenticated(
            "the request signature does not match", text=TextCode.SIGNATURE_MISMATCH, params={}
        )
    secret, vendor = found
    sig, signed_at = verify(
        secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body
    )
    if not await asyncio.to_thread(claim_signature, service.db, integration, sig, signed_at):
        raise Unauthenticated(
            "this signed request was already received (replay)",
            text=TextCode.SIGNATURE_REPLAYED,
            params={},
        )
    try:
        batch = parse_batch(body, mapping_for(vendor), HTTP_LIMITS, device_given=False)
        await service.record_rejections(PROTOCOL, batch.rejected, where=f"push/{integration}")
        counts = {"admitted": 0, "quarantined": 0, "rejected": 0}
        if batch.accepted:
            counts = await admit_json(
                service,
                PROTOCOL,
                batch.messages,
                context={"integration": integration, "vendor": vendor},
            )
    except BaseException:  # nothing durable to answer for: the request may be sent again
        await asyncio.to_thread(release_signature, service.db, sig)
        raise
    rejections = [PushRejection(**r.describe()) for r in batch.rejected]
    if not batch.accepted and batch.rejected:
        raise ValidationFailed(
            "no event of the batch could be stored",
            {"rejections": [r.model_dump() for r in rejections]},
            text=TextCode.INGEST_NOTHING_STORED,
            params={"count": len(rejections)},
        )
    return PushResult(
        ok=not rejections,
        admitted=counts["admitted"],
        quarantined=counts["quarantined"],
        rejected=len(rejections),
        accepted=[index for index, _ in batch.accepted],
        rejections=rejections,
    )


router.include_router(push_router)


class AdoptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    venue_id: int
    code: str = Field(min_length=1, max_length=40)
    kind: str = Field(pattern="^(transmitter|smoke_alarm|sprinkler_pressure|electrical_monitor)$")
    install_location: str = Field("", max_length=200)


WriteDevices = Annotated[Principal, Depends(require("devices:write"))]


class QuarantinedDevice(BaseModel):
    """An unknown device that sent messages (quarantined until adopted)."""

    id: int
    protocol: str
    external_id: str
    first_seen: Timestamp
    last_seen: Timestamp
    message_count: int
    last_peer: str
    adopted_device_id: int | None
    adopted_at: Timestamp | None
    replayed_at: Timestamp | None
    replayed_events: int


class QuarantinedMessageOut(BaseModel):
    id: int
    received_at: Timestamp
    raw_hex: str
    summary: dict[str, Any]


class QuarantinedDevices(BaseModel):
    items: list[QuarantinedDevice]


class QuarantinedMessages(BaseModel):
    items: list[QuarantinedMessageOut]


class AdoptedDevice(BaseModel):
    device_id: int
    code: str
    protocol: str
    external_id: str
    venue_id: int


@router.get(
    "/ingest/quarantine",
    response_model=QuarantinedDevices,
    summary="Unknown devices that sent messages",
)
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


@router.get(
    "/ingest/quarantine/{quarantine_id}/messages",
    response_model=QuarantinedMessages,
    summary="Quarantined messages",
)
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
    response_model=AdoptedDevice,
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
        raise NotFound(
            "device not created",
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "device", "id": None},
        )
    return {
        "device_id": device.id,
        "code": device.code,
        "protocol": device.protocol,
        "external_id": device.external_id,
        "venue_id": device.venue_id,
    }
