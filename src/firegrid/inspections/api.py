"""HTTP routes of the inspections context (thin: the rules live in the service).

Every route is authenticated with ``require(...)``; every list and get is filtered by the
caller's jurisdiction (and, for a venue manager, its own venues); an inspection, hazard or
venue outside it is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Response,
    UploadFile,
)
from pydantic import AwareDatetime

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, SettingsDep, require
from firegrid.api.pagination import decode_cursor, encode_cursor
from firegrid.core.changes import record_change
from firegrid.core.clock import utcnow
from firegrid.inspections import idempotency, schemas, service
from firegrid.inspections.schemas import MAX_ID
from firegrid.places.public import VENUE_CHANGED

router = APIRouter(tags=["inspections"])

Reader = Annotated[Principal, Depends(require("inspections:read"))]
Writer = Annotated[Principal, Depends(require("inspections:write"))]
Rectifier = Annotated[Principal, Depends(require("hazards:rectify"))]

IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Cursor = Annotated[str | None, Query(description="Cursor from the previous page.")]
Since = Annotated[AwareDatetime | None, Query(description="From this time (inclusive).")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        max_length=80,
        description="One key per submission (8-80 of A-Z a-z 0-9 _.:-): a repeat with the "
        "same key and request answers the first result; the key with another request is 409.",
    ),
]
REPLAYED = "Idempotent-Replayed"


def _page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


@router.get(
    "/hazards/categories",
    summary="Hazard categories and their usual rectification deadlines (data-declared)",
)
def hazard_categories(_principal: Reader) -> list[schemas.CategoryOut]:
    return [schemas.CategoryOut.model_validate(c) for c in service.categories()]


@router.get("/inspections", summary="Inspections in your jurisdiction")
def list_inspections(
    principal: Reader,
    session: SessionDep,
    venue_id: IdQuery = None,
    result: Annotated[str | None, Query(pattern="^(passed|hazards_found|not_accessible)$")] = None,
    since: Since = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this time.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> schemas.InspectionPage:
    rows = service.list_inspections(
        session,
        principal,
        venue_id=venue_id,
        result=result,
        since=since,
        until=until,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    rows, next_cursor = _page(rows, limit)
    counts = service.hazard_counts(session, (r.id for r in rows))
    items = [service.inspection_dict(r, counts.get(r.id, 0)) for r in rows]
    return schemas.InspectionPage.model_validate(
        {"items": items, "next_cursor": next_cursor, "count": len(items)}
    )


@router.get("/inspections/{inspection_id}", summary="One inspection with its hazards")
def get_inspection(
    principal: Reader,
    session: SessionDep,
    inspection_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> schemas.InspectionOut:
    return _inspection_out(session, principal, inspection_id)


def _inspection_out(
    session: SessionDep, principal: Principal, inspection_id: int
) -> schemas.InspectionOut:
    now = utcnow()
    inspection = service.get_inspection(session, principal, inspection_id)
    hazards = service.list_hazards(
        session, principal, now=now, inspection_id=inspection.id, limit=1000
    )
    out = service.inspection_dict(
        inspection, len(hazards), [service.hazard_dict(h, now) for h in hazards]
    )
    return schemas.InspectionOut.model_validate(out)


@router.post(
    "/inspections",
    status_code=201,
    summary="Record an inspection of a venue in your jurisdiction, with the hazards found "
    "(idempotent with an Idempotency-Key)",
)
def record_inspection(
    principal: Writer,
    session: SessionDep,
    body: schemas.InspectionIn,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InspectionOut:
    digest = idempotency.request_digest(body.model_dump(mode="json"))
    claimed = idempotency.claim(session, principal, idempotency_key, "inspection", digest)
    if claimed.replay_id is not None:
        response.headers[REPLAYED] = "true"
        return _inspection_out(session, principal, claimed.replay_id)
    now = utcnow()
    inspection, hazards = service.record_inspection(
        session,
        principal,
        venue_id=body.venue_id,
        hazards=[
            service.HazardSpec(h.category, h.severity, h.description, h.deadline)
            for h in body.hazards
        ],
        inspected_at=body.inspected_at,
        grid_worker_id=body.grid_worker_id,
        result=body.result,
        note=body.note,
        now=now,
        checklist=body.checklist,
        checklist_answers=dict(body.checklist_answers),
        gps=service.GpsFix(
            body.gps_status, body.gps_lon, body.gps_lat, body.gps_accuracy_m, body.gps_at
        ),
    )
    idempotency.settle(session, claimed, inspection.id)
    out = service.inspection_dict(
        inspection, len(hazards), [service.hazard_dict(h, now) for h in hazards]
    )
    cause = f"inspection {inspection.id} recorded by {principal.username}"
    record_change(session, VENUE_CHANGED, inspection.venue_id, actor=principal.subject, cause=cause)
    return schemas.InspectionOut.model_validate(out)


@router.post(
    "/inspections/{inspection_id}/photo",
    summary="Attach the inspection's evidence photo (JPEG/PNG/WebP ≤ 10 MB; idempotent "
    "with an Idempotency-Key)",
)
async def attach_inspection_photo(
    principal: Writer,
    session: SessionDep,
    settings: SettingsDep,
    inspection_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    photo: Annotated[UploadFile, File()],
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> schemas.InspectionOut:
    inspection = service.get_inspection(session, principal, inspection_id)
    content = await photo.read(service.MAX_PHOTO_BYTES + 1)
    digest = idempotency.request_digest(inspection.id, photo.content_type or "", content)
    claimed = idempotency.claim(session, principal, idempotency_key, "inspection_photo", digest)
    if claimed.replay_id is not None:
        response.headers[REPLAYED] = "true"
        return _inspection_out(session, principal, claimed.replay_id)
    path = service.store_inspection_photo(
        settings.data_dir, inspection.id, photo.content_type or "", content
    )
    service.attach_photo(session, principal, inspection, path)
    idempotency.settle(session, claimed, inspection.id)
    return _inspection_out(session, principal, inspection.id)


@router.get("/hazards", summary="Hazards in your jurisdiction (overdue is derived)")
def list_hazards(
    principal: Reader,
    session: SessionDep,
    venue_id: IdQuery = None,
    inspection_id: IdQuery = None,
    status: Annotated[
        str | None,
        Query(
            pattern="^(open|rectified|overdue)$",
            description="open (overdue included), rectified, or overdue only.",
        ),
    ] = None,
    overdue: Annotated[bool | None, Query(description="Only overdue (true) or not.")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    severity: Annotated[str | None, Query(pattern="^(major|general)$")] = None,
    since: Since = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> schemas.HazardPage:
    now = utcnow()
    rows = service.list_hazards(
        session,
        principal,
        now=now,
        venue_id=venue_id,
        inspection_id=inspection_id,
        status=status,
        overdue=overdue,
        category=category,
        severity=severity,
        since=since,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    rows, next_cursor = _page(rows, limit)
    items = [service.hazard_dict(h, now) for h in rows]
    return schemas.HazardPage.model_validate(
        {"items": items, "next_cursor": next_cursor, "count": len(items)}
    )


@router.get("/hazards/{hazard_id}", summary="One hazard with its status history")
def get_hazard(
    principal: Reader,
    session: SessionDep,
    hazard_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> schemas.HazardOut:
    hazard = service.get_hazard(session, principal, hazard_id)
    out = service.hazard_dict(hazard, utcnow(), service.transitions_of(session, hazard.id))
    return schemas.HazardOut.model_validate(out)


@router.post(
    "/hazards/{hazard_id}/rectify",
    summary="Rectify (整改) a hazard with evidence: a note and/or a photo",
)
async def rectify_hazard(
    principal: Rectifier,
    session: SessionDep,
    settings: SettingsDep,
    hazard_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    response: Response,
    note: Annotated[str, Form(max_length=2000)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.HazardOut:
    hazard = service.get_hazard(session, principal, hazard_id)
    content = b"" if photo is None else await photo.read(service.MAX_PHOTO_BYTES + 1)
    content_type = "" if photo is None else photo.content_type or ""
    digest = idempotency.request_digest(hazard.id, note, content_type, content)
    claimed = idempotency.claim(session, principal, idempotency_key, "rectify", digest)
    if claimed.replay_id is not None:
        response.headers[REPLAYED] = "true"
        hazard = service.get_hazard(session, principal, claimed.replay_id)
        out = service.hazard_dict(hazard, utcnow(), service.transitions_of(session, hazard.id))
        return schemas.HazardOut.model_validate(out)
    photo_path = ""
    if photo is not None:
        photo_path = service.store_evidence(settings.data_dir, hazard.id, content_type, content)
    now = utcnow()
    hazard = service.rectify_hazard(
        session, principal, hazard, note=note, photo_path=photo_path, now=now
    )
    idempotency.settle(session, claimed, hazard.id)
    out = service.hazard_dict(hazard, now, service.transitions_of(session, hazard.id))
    cause = f"hazard {hazard.id} rectified by {principal.username}"
    record_change(session, VENUE_CHANGED, hazard.venue_id, actor=principal.subject, cause=cause)
    return schemas.HazardOut.model_validate(out)


@router.get(
    "/venues/{venue_id}/inspection-summary",
    summary="A venue's inspections and hazards: recency, open, overdue, by category",
)
def venue_summary(
    principal: Reader,
    session: SessionDep,
    venue_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> schemas.VenueSummary:
    return schemas.VenueSummary.model_validate(
        service.venue_summary(session, principal, venue_id, now=utcnow())
    )
