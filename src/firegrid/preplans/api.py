"""HTTP routes of the preplans context (thin: the rules live in ``service``).

Every route is authenticated; plans are scoped to the caller's jurisdiction (a venue
manager: its own venues), out of scope is 404. Crews read a plan only through the unit
they are on, and only while it is dispatched to the plan's venue.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, SettingsDep, require
from firegrid.core.clock import utcnow
from firegrid.core.errors import DomainError, NotFound
from firegrid.core.texts import TextCode
from firegrid.geo.service import GeoContext
from firegrid.places.public import Venue
from firegrid.preplans import attachments, live, schemas, service, sheet
from firegrid.preplans.cycle import review_intervals

#: what an attachment download can be (checked by content when it was uploaded)
ATTACHMENT_CONTENT: dict[str, dict[str, object]] = {media: {} for media in attachments.TYPES}

router = APIRouter(tags=["preplans"])

Reader = Annotated[Principal, Depends(require("preplans:read"))]
Proposer = Annotated[Principal, Depends(require("preplans:propose"))]
Publisher = Annotated[Principal, Depends(require("preplans:publish"))]
Crew = Annotated[Principal, Depends(require("units:status"))]
IncidentReader = Annotated[Principal, Depends(require("incidents:read"))]
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Version = Annotated[int, Path(ge=1, le=1_000_000)]


def geo_or_none(request: Request) -> GeoContext | None:
    """The warm engine, or ``None`` when the city has no road network yet."""
    from firegrid.geo.service import geo_context

    try:
        return geo_context(request.app.state.db, request.app.state.settings)
    except DomainError:
        return None


def _plan_out(session: Any, plan: Any) -> dict[str, Any]:
    venue = session.get(Venue, plan.venue_id)
    versions = service.list_versions(session, plan)
    published = next((v for v in versions if v.version == plan.published_version), None)
    return {
        "plan": service.plan_dict(plan, venue),
        "versions": [service.version_dict(v, with_document=False) for v in versions],
        "latest": service.version_dict(versions[0]) if versions else None,
        "published": service.version_dict(published) if published else None,
        "attachments": [
            service.attachment_dict(a) for a in service.list_attachments(session, plan)
        ],
    }


@router.get("/preplans", summary="Pre-plans in your jurisdiction (due: review overdue)")
def list_plans(
    principal: Reader,
    session: SessionDep,
    due: Annotated[bool, Query(description="Only plans whose review is overdue.")] = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> schemas.PlanListOut:
    now = utcnow()
    rows = service.list_plans(session, principal, due=due, now=now, limit=limit)
    items = [service.plan_dict(p, v, now) for p, v in rows]
    return schemas.PlanListOut.model_validate({"items": items, "count": len(items)})


@router.get("/preplans/review-cycle", summary="Review interval by risk grade (data)")
def review_cycle(_principal: Reader) -> schemas.CycleOut:
    return schemas.CycleOut(review_interval_days=review_intervals())


@router.get("/venues/{venue_id}/preplan", summary="A venue's pre-plan: versions, attachments")
def venue_plan(venue_id: Id, principal: Reader, session: SessionDep) -> schemas.PlanOut:
    plan = service.plan_of_venue(session, principal, venue_id)
    return schemas.PlanOut.model_validate(_plan_out(session, plan))


@router.post(
    "/venues/{venue_id}/preplan/drafts",
    status_code=201,
    summary="Save a draft of a venue's pre-plan (a venue manager: its own venue only)",
)
def save_draft(
    venue_id: Id, body: schemas.DraftIn, principal: Proposer, session: SessionDep
) -> schemas.VersionOut:
    _plan, row = service.save_draft(
        session, principal, venue_id, body.document.model_dump(mode="json"), note=body.note
    )
    return schemas.VersionOut.model_validate(service.version_dict(row))


@router.get("/preplans/{plan_id}/versions/{version}", summary="One version with its document")
def get_version(
    plan_id: Id, version: Version, principal: Reader, session: SessionDep
) -> schemas.VersionOut:
    plan = service.get_plan(session, principal, plan_id)
    return schemas.VersionOut.model_validate(
        service.version_dict(service.get_version(session, plan, version))
    )


@router.post("/preplans/{plan_id}/versions/{version}/review", summary="Review a draft")
def review_version(
    plan_id: Id, version: Version, body: schemas.NoteIn, principal: Publisher, session: SessionDep
) -> schemas.VersionOut:
    _plan, row = service.review(session, principal, plan_id, version, note=body.note)
    return schemas.VersionOut.model_validate(service.version_dict(row))


@router.post("/preplans/{plan_id}/versions/{version}/publish", summary="Publish a reviewed version")
def publish_version(
    plan_id: Id, version: Version, principal: Publisher, session: SessionDep
) -> schemas.VersionOut:
    _plan, row = service.publish(session, principal, plan_id, version)
    return schemas.VersionOut.model_validate(service.version_dict(row))


@router.post(
    "/preplans/{plan_id}/confirm-review",
    summary="The published version was reviewed and still holds: the next review falls due",
)
def confirm_review(
    plan_id: Id, body: schemas.NoteIn, principal: Publisher, session: SessionDep
) -> schemas.PlanSummaryOut:
    plan = service.confirm_review(session, principal, plan_id, note=body.note)
    venue = session.get(Venue, plan.venue_id)
    assert venue is not None
    return schemas.PlanSummaryOut.model_validate(service.plan_dict(plan, venue))


@router.get("/preplans/{plan_id}/live", summary="The published plan with devices, alarms now")
def live_plan(
    plan_id: Id, request: Request, principal: Reader, session: SessionDep
) -> schemas.LiveOut:
    plan = service.get_plan(session, principal, plan_id)
    venue = session.get(Venue, plan.venue_id)
    assert venue is not None
    data = live.live_plan(session, plan, venue, geo_or_none(request), principal=principal)
    return schemas.LiveOut.model_validate(data)


def _sheet_data(request: Request, session: Any, principal: Principal, plan_id: int) -> Any:
    plan = service.get_plan(session, principal, plan_id)
    venue = session.get(Venue, plan.venue_id)
    assert venue is not None
    version = service.published_version(session, plan)
    if version is None:  # not published yet: print the latest, marked as such
        versions = service.list_versions(session, plan)
        version = versions[0] if versions else None
    return live.live_plan(
        session, plan, venue, geo_or_none(request), version=version, principal=principal
    )


@router.get(
    "/preplans/{plan_id}/sheet.html",
    summary="First-due sheet (HTML, one page)",
    response_class=HTMLResponse,
)
def sheet_html(plan_id: Id, request: Request, principal: Reader, session: SessionDep) -> Response:
    html = sheet.render_html(_sheet_data(request, session, principal, plan_id))
    return HTMLResponse(html, headers={"content-security-policy": sheet.SHEET_CSP})


@router.get(
    "/preplans/{plan_id}/sheet.pdf",
    summary="First-due sheet (PDF, CJK font embedded)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def sheet_pdf(
    plan_id: Id, request: Request, principal: Reader, session: SessionDep, settings: SettingsDep
) -> Response:
    font = sheet.cjk_font(settings.cjk_font)
    pdf = sheet.render_pdf(_sheet_data(request, session, principal, plan_id), font)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="preplan-{plan_id}.pdf"'},
    )


@router.post(
    "/preplans/{plan_id}/attachments",
    status_code=201,
    summary="Attach a floor plan (PNG, JPEG, WebP) or a PDF, at most 10 MB",
)
async def add_attachment(
    plan_id: Id,
    principal: Proposer,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The image or PDF.")],
    title: Annotated[str, Form(max_length=200)] = "",
) -> schemas.AttachmentOut:
    content = await file.read(attachments.MAX_ATTACHMENT_BYTES + 1)
    row = service.add_attachment(
        session,
        principal,
        plan_id,
        title=title or (file.filename or "")[-200:],
        content=content,
        data_dir=settings.data_dir,
    )
    return schemas.AttachmentOut.model_validate(service.attachment_dict(row))


def _file_response(settings: Any, row: Any) -> Response:
    content = attachments.read(settings.data_dir, row.storage_path)
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    suffix = attachments.TYPES.get(row.content_type, "")
    return Response(
        content,
        media_type=row.content_type,
        headers={
            "content-disposition": f'{disposition}; filename="attachment-{row.id}{suffix}"',
            "cache-control": "private, max-age=300",
        },
    )


@router.get(
    "/preplans/{plan_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": ATTACHMENT_CONTENT}},
)
def get_attachment(
    plan_id: Id, attachment_id: Id, principal: Reader, session: SessionDep, settings: SettingsDep
) -> Response:
    row = service.get_attachment(session, principal, plan_id, attachment_id)
    return _file_response(settings, row)


@router.delete(
    "/preplans/{plan_id}/attachments/{attachment_id}",
    status_code=204,
    summary="Withdraw an attachment (kept for the record)",
)
def remove_attachment(
    plan_id: Id, attachment_id: Id, principal: Proposer, session: SessionDep
) -> Response:
    service.remove_attachment(session, principal, plan_id, attachment_id)
    return Response(status_code=204)


@router.get(
    "/crew/vehicles/{vehicle_id}/preplan/attachments/{attachment_id}",
    summary="An attachment of the plan of the venue my unit is dispatched to",
    response_class=Response,
    responses={200: {"content": ATTACHMENT_CONTENT}},
)
def crew_attachment(
    vehicle_id: Id, attachment_id: Id, principal: Crew, session: SessionDep, settings: SettingsDep
) -> Response:
    from firegrid.preplans.public import dispatched_plan

    plan = dispatched_plan(session, principal, vehicle_id)
    if plan is None:
        raise NotFound(
            "your unit is not dispatched to a planned venue",
            {"vehicle_id": vehicle_id},
            text=TextCode.PREPLAN_UNIT_NOT_AT_VENUE,
            params={"vehicle_id": vehicle_id},
        )
    row = service.get_attachment(session, _plan_reader(plan), plan.id, attachment_id)
    return _file_response(settings, row)


def _plan_reader(plan: Any) -> Principal:
    """A reader scoped to exactly the plan's jurisdiction (the crew's dispatch grants it)."""
    from firegrid.accounts.public import system_principal

    base = system_principal("crew-preplan")
    return Principal(
        subject=base.subject,
        username=base.username,
        role=base.role,
        scope_path=plan.jurisdiction_path,
        scope_code="",
        auth_method="system",
    )


def _incident_sheet_data(
    request: Request, session: Any, principal: Principal, incident_id: int
) -> dict[str, Any]:
    """The sheet of the plan of an incident's venue (the dispatch order's attachment)."""
    from firegrid.dispatch.incidents import get_incident
    from firegrid.preplans.public import published_plan_of_venue

    incident = get_incident(session, principal, incident_id)
    plan = (
        None if incident.venue_id is None else published_plan_of_venue(session, incident.venue_id)
    )
    if plan is None:
        raise NotFound(
            f"incident {incident_id} is not at a venue with a published pre-plan",
            {"incident_id": incident_id},
            text=TextCode.PREPLAN_NONE_FOR_INCIDENT,
            params={"incident_id": incident_id},
        )
    venue = session.get(Venue, plan.venue_id)
    assert venue is not None
    return live.live_plan(session, plan, venue, geo_or_none(request), principal=principal)


@router.get(
    "/incidents/{incident_id}/preplan-sheet.html",
    summary="First-due sheet of the incident's venue, for the dispatch order (HTML)",
    response_class=HTMLResponse,
)
def incident_sheet_html(
    incident_id: Id, request: Request, principal: IncidentReader, session: SessionDep
) -> Response:
    html = sheet.render_html(_incident_sheet_data(request, session, principal, incident_id))
    return HTMLResponse(html, headers={"content-security-policy": sheet.SHEET_CSP})


@router.get(
    "/incidents/{incident_id}/preplan-sheet.pdf",
    summary="First-due sheet of the incident's venue, for the dispatch order (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def incident_sheet_pdf(
    incident_id: Id,
    request: Request,
    principal: IncidentReader,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    font = sheet.cjk_font(settings.cjk_font)
    data = _incident_sheet_data(request, session, principal, incident_id)
    return Response(
        sheet.render_pdf(data, font),
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="incident-{incident_id}-preplan.pdf"'
        },
    )
