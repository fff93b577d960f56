"""The rules of the preplans context: who may write which plan, the life cycle of a
version (draft → reviewed → published, every version kept), the review due date.

Scope: a plan is seen by callers whose jurisdiction contains its venue; a venue manager sees
and proposes only for its own venues. Anything outside is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device
from firegrid.dispatch.duplicates import haversine_m
from firegrid.places.public import Building, Venue
from firegrid.preplans.cycle import review_due
from firegrid.preplans.document import MAX_FEATURE_DISTANCE_M, PlanDocument
from firegrid.preplans.models import Preplan, PreplanAttachment, PreplanVersion, VersionStatus

VENUE_MANAGER = "venue_manager"
OPEN_STATUSES = (VersionStatus.DRAFT.value, VersionStatus.REVIEWED.value)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---- scope -------------------------------------------------------------------------------
def _own_only(principal: Principal) -> bool:
    return principal.role == VENUE_MANAGER


def scoped_plans(principal: Principal) -> Select[Preplan]:
    query = select(Preplan).where(principal.scope_filter(Preplan.jurisdiction_path))
    if _own_only(principal):
        query = query.where(Preplan.venue_id.in_(sorted(principal.venue_ids)))
    return query


def visible_venue(session: Session, principal: Principal, venue_id: int) -> Venue:
    venue = session.get(Venue, venue_id)
    if (
        venue is None
        or venue.deleted_at is not None
        or not principal.can_see_path(venue.jurisdiction_path)
        or (_own_only(principal) and venue_id not in principal.venue_ids)
    ):
        raise NotFound(
            f"venue {venue_id} not found",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    return venue


def get_plan(session: Session, principal: Principal, plan_id: int) -> Preplan:
    plan = session.scalars(scoped_plans(principal).where(Preplan.id == plan_id)).first()
    if plan is None:
        raise NotFound(
            f"pre-plan {plan_id} not found",
            {"plan_id": plan_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "preplan", "id": plan_id},
        )
    return plan


def plan_of_venue(session: Session, principal: Principal, venue_id: int) -> Preplan:
    visible_venue(session, principal, venue_id)
    plan = session.scalars(select(Preplan).where(Preplan.venue_id == venue_id)).first()
    if plan is None:
        raise NotFound(
            f"venue {venue_id} has no pre-plan",
            {"venue_id": venue_id},
            text=TextCode.PREPLAN_NONE_FOR_VENUE,
            params={"venue_id": venue_id},
        )
    return plan


def get_version(session: Session, plan: Preplan, version: int) -> PreplanVersion:
    row = session.scalars(
        select(PreplanVersion).where(
            PreplanVersion.preplan_id == plan.id, PreplanVersion.version == version
        )
    ).first()
    if row is None:
        raise NotFound(
            f"pre-plan {plan.id} has no version {version}",
            {"plan_id": plan.id, "version": version},
            text=TextCode.PREPLAN_NO_VERSION,
            params={"plan_id": plan.id, "version": version},
        )
    return row


def published_version(session: Session, plan: Preplan) -> PreplanVersion | None:
    if plan.published_version is None:
        return None
    return get_version(session, plan, plan.published_version)


# ---- documents ---------------------------------------------------------------------------
def parse_document(data: Any) -> PlanDocument:
    """A plan document from JSON data; a bad one is a 422 naming the fields."""
    try:
        return PlanDocument.model_validate(data)
    except ValidationError as err:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in err.errors()[:20]
        ]
        raise ValidationFailed(
            "the plan document is not valid",
            {"problems": problems},
            text=TextCode.PREPLAN_DOCUMENT_INVALID,
            params={"count": len(problems)},
        ) from None


def _not_at_venue(
    session: Session, model: type[Device] | type[Building], ids: set[int], venue: Venue
) -> list[int]:
    """Those of ``ids`` that are no live ``model`` row of ``venue``, in order."""
    if not ids:
        return []
    found = set(
        session.scalars(
            select(model.id).where(
                model.id.in_(sorted(ids)),
                model.venue_id == venue.id,
                model.deleted_at.is_(None),
            )
        )
    )
    return sorted(ids - found)


def check_links(session: Session, venue: Venue, document: PlanDocument) -> None:
    """Linked devices and buildings belong to the venue; drawings lie near it."""
    problems: list[dict[str, Any]] = []
    for device_id in _not_at_venue(session, Device, document.device_ids(), venue):
        problems.append(
            {
                "field": "fire_protection.alarm_panels",
                "message": f"device {device_id} is not registered at this venue",
            }
        )
    for building_id in _not_at_venue(session, Building, document.building_ids(), venue):
        problems.append(
            {"field": "buildings", "message": f"building {building_id} is not at this venue"}
        )
    for where, lon, lat in document.located_points():
        distance = haversine_m(venue.lon, venue.lat, lon, lat)
        if distance > MAX_FEATURE_DISTANCE_M:
            problems.append(
                {
                    "field": where,
                    "message": f"point ({lon:.6f}, {lat:.6f}) is {distance:.0f} m from the "
                    f"venue (at most {MAX_FEATURE_DISTANCE_M:.0f} m)",
                }
            )
    if problems:
        raise ValidationFailed(
            "the plan document does not fit the venue",
            {"problems": problems},
            text=TextCode.PREPLAN_DOCUMENT_INVALID,
            params={"count": len(problems)},
        )


# ---- life cycle --------------------------------------------------------------------------
def _may_write(principal: Principal, venue_id: int) -> None:
    if principal.has("preplans:write"):
        return
    if principal.has("preplans:propose") and venue_id in principal.venue_ids:
        return
    raise Forbidden(
        "you may propose changes only to your own venue's plan",
        {"permission": "preplans:write", "venue_id": venue_id},
        text=TextCode.ACCESS_OWN_VENUE,
        params={"venue_id": venue_id},
    )


def version_dict(row: PreplanVersion, *, with_document: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": row.version,
        "status": row.status,
        "note": row.note,
        "created_by": row.created_by,
        "created_role": row.created_role,
        "created_at": iso(row.created_at),
        "reviewed_by": row.reviewed_by or None,
        "reviewed_at": iso(row.reviewed_at),
        "published_by": row.published_by or None,
        "published_at": iso(row.published_at),
    }
    if with_document:
        out["document"] = row.document
    return out


def _audit_state(plan: Preplan, row: PreplanVersion) -> dict[str, Any]:
    return {
        "venue_id": plan.venue_id,
        "version": row.version,
        "status": row.status,
        "published_version": plan.published_version,
    }


def save_draft(
    session: Session,
    principal: Principal,
    venue_id: int,
    data: Any,
    *,
    note: str = "",
    now: datetime | None = None,
) -> tuple[Preplan, PreplanVersion]:
    """Save a new draft version of a venue's plan (the plan is created on first save).

    Earlier drafts or reviewed versions not yet published are superseded: one open proposal
    at a time, and every version is kept.
    """
    now = now or utcnow()
    venue = visible_venue(session, principal, venue_id)
    _may_write(principal, venue_id)
    document = parse_document(data)
    check_links(session, venue, document)
    plan = session.scalars(
        select(Preplan).where(Preplan.venue_id == venue_id).with_for_update()
    ).first()
    if plan is None:
        plan = Preplan(venue_id=venue_id, jurisdiction_path=venue.jurisdiction_path)
        plan.latest_version = 0
        session.add(plan)
        session.flush()
    plan.jurisdiction_path = venue.jurisdiction_path
    for old in session.scalars(
        select(PreplanVersion).where(
            PreplanVersion.preplan_id == plan.id, PreplanVersion.status.in_(OPEN_STATUSES)
        )
    ):
        old.status = VersionStatus.SUPERSEDED.value
    plan.latest_version += 1
    row = PreplanVersion(
        preplan_id=plan.id,
        version=plan.latest_version,
        status=VersionStatus.DRAFT.value,
        document=document.model_dump(mode="json"),
        note=note,
        created_by=principal.subject,
        created_role=principal.role,
        created_at=now,
    )
    session.add(row)
    plan.updated_at = now
    session.flush()
    record_change(
        session,
        principal,
        "preplan.draft",
        "preplan",
        plan.id,
        None,
        _audit_state(plan, row),
        note=note,
    )
    return plan, row


def _open_version(session: Session, plan: Preplan, version: int, expected: str) -> PreplanVersion:
    row = get_version(session, plan, version)
    if row.status != expected:
        raise Conflict(
            f"version {version} is {row.status}, not {expected}",
            {"plan_id": plan.id, "version": version, "status": row.status},
            text=TextCode.PREPLAN_VERSION_STATUS,
            params={"version": version, "status": row.status, "expected": expected},
        )
    return row


def review(
    session: Session,
    principal: Principal,
    plan_id: int,
    version: int,
    *,
    note: str = "",
    now: datetime | None = None,
) -> tuple[Preplan, PreplanVersion]:
    """A fire officer checks a draft: draft → reviewed."""
    principal.check("preplans:publish")
    now = now or utcnow()
    plan = get_plan(session, principal, plan_id)
    row = _open_version(session, plan, version, VersionStatus.DRAFT.value)
    before = _audit_state(plan, row)
    row.status = VersionStatus.REVIEWED.value
    row.reviewed_by = principal.subject
    row.reviewed_at = now
    record_change(
        session,
        principal,
        "preplan.review",
        "preplan",
        plan.id,
        before,
        _audit_state(plan, row),
        note=note,
    )
    return plan, row


def risk_grade(session: Session, venue_id: int) -> str:
    """The venue's latest risk grade (its latest re-score first), or ``unassessed``."""
    from firegrid.risk.service import venue_score

    try:
        score = venue_score(session, venue_id)
    except DomainError:
        return "unassessed"
    latest = score.get("latest_rescore")
    return str(latest["grade"] if latest else score["grade"])


def publish(
    session: Session,
    principal: Principal,
    plan_id: int,
    version: int,
    *,
    now: datetime | None = None,
) -> tuple[Preplan, PreplanVersion]:
    """A fire officer publishes a reviewed version: crews see it from now on; the one
    published before is superseded; the next review falls due by the venue's risk grade."""
    principal.check("preplans:publish")
    now = now or utcnow()
    plan = get_plan(session, principal, plan_id)
    row = _open_version(session, plan, version, VersionStatus.REVIEWED.value)
    before = _audit_state(plan, row)
    previous = published_version(session, plan)
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED.value
    row.status = VersionStatus.PUBLISHED.value
    row.published_by = principal.subject
    row.published_at = now
    plan.published_version = row.version
    plan.published_at = now
    plan.risk_grade = risk_grade(session, plan.venue_id)
    plan.review_due_at = review_due(now, plan.risk_grade)
    plan.updated_at = now
    record_change(
        session,
        principal,
        "preplan.publish",
        "preplan",
        plan.id,
        before,
        {**_audit_state(plan, row), "review_due_at": iso(plan.review_due_at)},
    )
    return plan, row


def confirm_review(
    session: Session,
    principal: Principal,
    plan_id: int,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Preplan:
    """A fire officer reviewed the published version and found it still right: the next
    review falls due one interval from now (by the venue's grade now), no new version."""
    principal.check("preplans:publish")
    now = now or utcnow()
    plan = get_plan(session, principal, plan_id)
    if plan.published_version is None:
        raise Conflict(
            f"pre-plan {plan_id} has no published version to confirm",
            {"plan_id": plan_id},
            text=TextCode.PREPLAN_NOT_PUBLISHED,
        )
    before = {"review_due_at": iso(plan.review_due_at), "risk_grade": plan.risk_grade}
    plan.risk_grade = risk_grade(session, plan.venue_id)
    plan.review_due_at = review_due(now, plan.risk_grade)
    plan.updated_at = now
    record_change(
        session,
        principal,
        "preplan.review_confirmed",
        "preplan",
        plan.id,
        before,
        {
            "review_due_at": iso(plan.review_due_at),
            "risk_grade": plan.risk_grade,
            "version": plan.published_version,
        },
        note=note,
    )
    return plan


def remove_attachment(
    session: Session, principal: Principal, plan_id: int, attachment_id: int
) -> PreplanAttachment:
    """Withdraw an attachment (kept on disk and in the table for the record, marked deleted)."""
    row = get_attachment(session, principal, plan_id, attachment_id)
    plan = get_plan(session, principal, plan_id)
    _may_write(principal, plan.venue_id)
    row.deleted_at = utcnow()
    record_change(
        session, principal, "preplan.detach", "preplan", plan.id, attachment_dict(row), None
    )
    return row


# ---- lists -------------------------------------------------------------------------------
def list_plans(
    session: Session,
    principal: Principal,
    *,
    due: bool = False,
    now: datetime | None = None,
    venue_id: int | None = None,
    limit: int = 500,
) -> list[tuple[Preplan, Venue]]:
    """Plans in scope with their venue; ``due``: published plans whose review is overdue,
    and plans never published (most overdue first)."""
    now = now or utcnow()
    query = scoped_plans(principal).add_columns(Venue).join(Venue, Venue.id == Preplan.venue_id)
    if venue_id is not None:
        query = query.where(Preplan.venue_id == venue_id)
    if due:
        query = query.where(
            or_(Preplan.review_due_at.is_(None), Preplan.review_due_at <= now)
        ).order_by(Preplan.review_due_at.is_(None), Preplan.review_due_at, Preplan.id)
    else:
        query = query.order_by(Preplan.id)
    return [(row[0], row[1]) for row in session.execute(query.limit(limit))]


def plan_dict(plan: Preplan, venue: Venue, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    overdue = plan.review_due_at is None or plan.review_due_at <= now
    return {
        "plan_id": plan.id,
        "venue_id": plan.venue_id,
        "venue_code": venue.code,
        "venue_name": venue.name,
        "is_key_unit": venue.is_key_unit,
        "latest_version": plan.latest_version,
        "published_version": plan.published_version,
        "published_at": iso(plan.published_at),
        "risk_grade": plan.risk_grade or None,
        "review_due_at": iso(plan.review_due_at),
        "review_overdue": overdue,
        "days_overdue": (
            None if plan.review_due_at is None or not overdue else (now - plan.review_due_at).days
        ),
    }


def list_versions(session: Session, plan: Preplan) -> list[PreplanVersion]:
    return list(
        session.scalars(
            select(PreplanVersion)
            .where(PreplanVersion.preplan_id == plan.id)
            .order_by(PreplanVersion.version.desc())
        )
    )


def list_attachments(session: Session, plan: Preplan) -> list[PreplanAttachment]:
    return list(
        session.scalars(
            select(PreplanAttachment)
            .where(PreplanAttachment.preplan_id == plan.id, PreplanAttachment.deleted_at.is_(None))
            .order_by(PreplanAttachment.id)
        )
    )


def attachment_dict(row: PreplanAttachment) -> dict[str, Any]:
    return {
        "attachment_id": row.id,
        "title": row.title,
        "content_type": row.content_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": iso(row.uploaded_at),
    }


def add_attachment(
    session: Session,
    principal: Principal,
    plan_id: int,
    *,
    title: str,
    content: bytes,
    data_dir: Any,
    now: datetime | None = None,
) -> PreplanAttachment:
    """Attach a floor plan or PDF to a plan (the writer of its venue's plan may)."""
    from firegrid.preplans import attachments

    plan = get_plan(session, principal, plan_id)
    _may_write(principal, plan.venue_id)
    stored = attachments.store(data_dir, plan.id, content)
    row = PreplanAttachment(
        preplan_id=plan.id,
        title=title.strip()[:200],
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_path=stored.storage_path,
        uploaded_by=principal.subject,
        uploaded_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    record_change(
        session, principal, "preplan.attach", "preplan", plan.id, None, attachment_dict(row)
    )
    return row


def get_attachment(
    session: Session, principal: Principal, plan_id: int, attachment_id: int
) -> PreplanAttachment:
    plan = get_plan(session, principal, plan_id)
    row = session.get(PreplanAttachment, attachment_id)
    if row is None or row.preplan_id != plan.id or row.deleted_at is not None:
        raise NotFound(
            f"attachment {attachment_id} not found",
            {"attachment_id": attachment_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "attachment", "id": attachment_id},
        )
    return row
