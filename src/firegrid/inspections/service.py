"""The rules of the inspections context: record an inspection with its hazards, rectify a
hazard with evidence, list what is overdue, summarise a venue.

Every query is scoped with :meth:`Principal.scope_filter` on ``jurisdiction_path`` (and to
the caller's own venues for a ``venue_manager``); an object outside the scope is reported
as not found. Every status change of a hazard is a :class:`HazardTransition` (time, actor,
cause) and an audit entry (:func:`firegrid.accounts.audit.record_change`), written in the
caller's transaction. ``overdue`` is derived — open and ``deadline < now`` — never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.api.crud import row_snapshot
from firegrid.core import uploads
from firegrid.core.changes import record_change as record_domain_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import Params, Text, TextCode
from firegrid.inspections.models import (
    CATEGORY_BY_CODE,
    HAZARD_CATEGORIES,
    OVERDUE,
    ChecklistAnswer,
    GpsStatus,
    Hazard,
    HazardCategory,
    HazardStatus,
    HazardTransition,
    Inspection,
    InspectionResult,
    Severity,
)
from firegrid.inspections.plan_rules import default_plan_rules
from firegrid.places.public import GridWorker, Venue

MAX_PHOTO_BYTES = uploads.MAX_PHOTO_BYTES
#: how far in the future an inspection time may lie (clock skew of a handset)
FUTURE_TOLERANCE = timedelta(minutes=10)
STATUS_FILTERS = (HazardStatus.OPEN.value, HazardStatus.RECTIFIED.value, OVERDUE)


#: Kinds this context records in the change stream (``core.changes``; the change feed
#: follows them; re-exported by ``inspections.public``)
HAZARD_CHANGED = "hazard.changed"
INSPECTION_RECORDED = "inspection.recorded"


def actor_of(principal: Principal) -> str:
    return f"{principal.subject} ({principal.username})"[:120]


def category(code: str) -> HazardCategory:
    """The declared category ``code`` (422 for an unknown one)."""
    try:
        return CATEGORY_BY_CODE[code]
    except KeyError:
        raise ValidationFailed(
            f"unknown hazard category {code!r}",
            {"category": code, "known": [c.code for c in HAZARD_CATEGORIES]},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={
                "field": "category",
                "value": code,
                "allowed": [c.code for c in HAZARD_CATEGORIES],
            },
        ) from None


def categories() -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "deadline_days": dict(c.deadline_days),
        }
        for c in HAZARD_CATEGORIES
    ]


# ---- scoping ----------------------------------------------------------------------------
def _owner_filter(principal: Principal, column: Any) -> ColumnElement[bool] | None:
    if principal.role == "venue_manager":
        condition: ColumnElement[bool] = column.in_(sorted(principal.venue_ids))
        return condition
    return None


def scoped_inspections(principal: Principal) -> Select[Inspection]:
    query = select(Inspection).where(
        Inspection.deleted_at.is_(None), principal.scope_filter(Inspection.jurisdiction_path)
    )
    owner = _owner_filter(principal, Inspection.venue_id)
    return query if owner is None else query.where(owner)


def scoped_hazards(principal: Principal) -> Select[Hazard]:
    query = select(Hazard).where(
        Hazard.deleted_at.is_(None), principal.scope_filter(Hazard.jurisdiction_path)
    )
    owner = _owner_filter(principal, Hazard.venue_id)
    return query if owner is None else query.where(owner)


def visible_venue(session: Session, principal: Principal, venue_id: int) -> Venue:
    """The venue if the caller may see it; otherwise not found (no leak)."""
    query = select(Venue).where(
        Venue.id == venue_id,
        Venue.deleted_at.is_(None),
        principal.scope_filter(Venue.jurisdiction_path),
    )
    owner = _owner_filter(principal, Venue.id)
    if owner is not None:
        query = query.where(owner)
    venue = session.scalars(query).first()
    if venue is None:
        raise NotFound(
            f"venue {venue_id} not found",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    return venue


def get_inspection(session: Session, principal: Principal, inspection_id: int) -> Inspection:
    row = session.scalars(
        scoped_inspections(principal).where(Inspection.id == inspection_id)
    ).first()
    if row is None:
        raise NotFound(
            f"inspection {inspection_id} not found",
            {"id": inspection_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "inspection", "id": inspection_id},
        )
    return row


def get_hazard(session: Session, principal: Principal, hazard_id: int) -> Hazard:
    row = session.scalars(scoped_hazards(principal).where(Hazard.id == hazard_id)).first()
    if row is None:
        raise NotFound(
            f"hazard {hazard_id} not found",
            {"id": hazard_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "hazard", "id": hazard_id},
        )
    return row


# ---- derived state and output -----------------------------------------------------------
def is_overdue(hazard: Hazard, now: datetime) -> bool:
    return hazard.status == HazardStatus.OPEN.value and hazard.deadline < now


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """SQL: open and past the deadline at ``now``."""
    return and_(Hazard.status == HazardStatus.OPEN.value, Hazard.deadline < now)


def hazard_dict(
    hazard: Hazard, now: datetime, transitions: Sequence[HazardTransition] | None = None
) -> dict[str, Any]:
    overdue = is_overdue(hazard, now)
    declared = CATEGORY_BY_CODE.get(hazard.category)
    out: dict[str, Any] = {
        "id": hazard.id,
        "venue_id": hazard.venue_id,
        "inspection_id": hazard.inspection_id,
        "category": hazard.category,
        "category_name_zh": declared.name_zh if declared else hazard.category,
        "category_name_en": declared.name_en if declared else hazard.category,
        "severity": hazard.severity,
        "description": hazard.description,
        "found_at": hazard.found_at,
        "deadline": hazard.deadline,
        "status": OVERDUE if overdue else hazard.status,
        "overdue": overdue,
        "rectified_at": hazard.rectified_at,
        "rectified_by": hazard.rectified_by,
        "evidence_note": hazard.evidence_note,
        "evidence_photo": hazard.evidence_photo,
        "jurisdiction_path": hazard.jurisdiction_path,
    }
    if transitions is not None:
        out["transitions"] = [
            {
                "from_status": t.from_status,
                "to_status": t.to_status,
                "at": t.at,
                "actor": t.actor,
                "cause": t.cause,
                **_cause_code(t.cause),
            }
            for t in transitions
        ]
    return out


_FOUND = "found at inspection "
_RECTIFIED = "rectified with evidence"
_LATE = " after the deadline"


def hazard_cause_text(cause: str) -> Text | None:
    """The code of a cause this module writes on a hazard transition (None: another text)."""
    if cause.startswith(_FOUND) and cause[len(_FOUND) :].isdigit():
        params: Params = {"inspection_id": int(cause[len(_FOUND) :])}
        return Text(TextCode.HAZARD_CAUSE_FOUND, cause, params)
    if cause == _RECTIFIED:
        return Text(TextCode.HAZARD_CAUSE_RECTIFIED, cause)
    if cause == _RECTIFIED + _LATE:
        return Text(TextCode.HAZARD_CAUSE_RECTIFIED_LATE, cause)
    return None


def _cause_code(cause: str) -> dict[str, Any]:
    text = hazard_cause_text(cause)
    if text is None:
        return {"cause_code": None, "cause_params": {}}
    return {"cause_code": text.code.value, "cause_params": dict(text.params)}


def inspection_dict(
    inspection: Inspection, hazard_count: int, hazards: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": inspection.id,
        "venue_id": inspection.venue_id,
        "grid_worker_id": inspection.grid_worker_id,
        "inspector_subject": inspection.inspector_subject,
        "inspector_name": inspection.inspector_name,
        "inspected_at": inspection.inspected_at,
        "result": inspection.result,
        "note": inspection.note,
        "jurisdiction_path": inspection.jurisdiction_path,
        "hazard_count": hazard_count,
        "checklist": inspection.checklist,
        "checklist_answers": dict(inspection.checklist_answers or {}),
        "evidence_photo": inspection.evidence_photo,
        "gps_status": inspection.gps_status,
        "gps_lon": inspection.gps_lon,
        "gps_lat": inspection.gps_lat,
        "gps_accuracy_m": inspection.gps_accuracy_m,
        "gps_at": inspection.gps_at,
    }
    if hazards is not None:
        out["hazards"] = hazards
    return out


def hazard_counts(session: Session, inspection_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(inspection_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Hazard.inspection_id, func.count(Hazard.id))
        .where(Hazard.inspection_id.in_(ids), Hazard.deleted_at.is_(None))
        .group_by(Hazard.inspection_id)
    ).all()
    return {int(i): int(n) for i, n in rows}


def transitions_of(session: Session, hazard_id: int) -> list[HazardTransition]:
    return list(
        session.scalars(
            select(HazardTransition)
            .where(HazardTransition.hazard_id == hazard_id)
            .order_by(HazardTransition.id)
        ).all()
    )


def _transition(
    session: Session,
    hazard: Hazard,
    from_status: str,
    to_status: str,
    *,
    at: datetime,
    actor: str,
    cause: str,
) -> HazardTransition:
    row = HazardTransition(
        hazard_id=hazard.id,
        from_status=from_status,
        to_status=to_status,
        at=at,
        actor=actor[:120],
        cause=cause[:300],
    )
    session.add(row)
    record_domain_change(  # the change feed: other departments follow hazards
        session,
        HAZARD_CHANGED,
        hazard.id,
        actor=actor,
        cause=cause,
        payload={"status": to_status, "from_status": from_status, "venue_id": hazard.venue_id},
        scope_path=hazard.jurisdiction_path,
    )
    return row


# ---- commands ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GpsFix:
    """The phone's position at the inspection, or why there is none."""

    status: str = GpsStatus.NONE.value
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    at: datetime | None = None


def check_gps(gps: GpsFix) -> GpsFix:
    status = GpsStatus(gps.status)
    has_point = gps.lon is not None and gps.lat is not None
    if status is GpsStatus.RECORDED:
        if not has_point or gps.accuracy_m is None:
            raise ValidationFailed(
                "a recorded position needs gps_lon, gps_lat and gps_accuracy_m",
                {"gps": "partial"},
                text=TextCode.VALIDATION_MISSING,
                params={"field": "gps_lon, gps_lat, gps_accuracy_m"},
            )
        if gps.at is not None and gps.at.tzinfo is None:
            raise ValidationFailed(
                "gps_at must carry a time zone",
                {"gps_at": None},
                text=TextCode.VALIDATION_TIMEZONE_NAIVE,
                params={"field": "gps_at"},
            )
    elif has_point or gps.accuracy_m is not None:
        raise ValidationFailed(
            f"gps_status {status.value or 'none'!r} records no position; send gps_status recorded",
            {"gps_status": status.value},
            text=TextCode.INSPECTION_GPS_STATUS,
            params={"gps_status": status.value or "none"},
        )
    return gps


def check_checklist(checklist: str, answers: dict[str, str]) -> None:
    """The checklist must be declared and every answer one of its items (ok/fail/na)."""
    if not checklist:
        if answers:
            raise ValidationFailed(
                "checklist answers need the checklist's code",
                {"checklist": ""},
                text=TextCode.VALIDATION_MISSING,
                params={"field": "checklist"},
            )
        return
    declared = default_plan_rules().checklists.get(checklist)
    if declared is None:
        raise ValidationFailed(
            f"unknown checklist {checklist!r}",
            {"checklist": checklist, "known": sorted(default_plan_rules().checklists)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={
                "field": "checklist",
                "value": checklist,
                "allowed": sorted(default_plan_rules().checklists),
            },
        )
    items = {item.code for item in declared.items}
    unknown = sorted(set(answers) - items)
    if unknown:
        raise ValidationFailed(
            f"checklist {checklist!r} has no item {unknown[0]!r}",
            {"checklist": checklist, "unknown": unknown, "known": sorted(items)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "checklist", "value": unknown[0], "allowed": sorted(items)},
        )
    allowed = {a.value for a in ChecklistAnswer}
    bad = sorted(code for code, answer in answers.items() if answer not in allowed)
    if bad:
        raise ValidationFailed(
            f"checklist item {bad[0]!r}: the answer must be one of {sorted(allowed)}",
            {"items": bad},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": bad[0], "value": answers[bad[0]], "allowed": sorted(allowed)},
        )


@dataclass(frozen=True)
class HazardSpec:
    """A hazard to record (the API's :class:`~firegrid.inspections.schemas.HazardIn`)."""

    category: str
    severity: str = Severity.GENERAL.value
    description: str = ""
    deadline: datetime | None = None


def record_inspection(
    session: Session,
    principal: Principal,
    *,
    venue_id: int,
    hazards: Sequence[HazardSpec] = (),
    inspected_at: datetime | None = None,
    grid_worker_id: int | None = None,
    result: str | None = None,
    note: str = "",
    now: datetime | None = None,
    checklist: str = "",
    checklist_answers: dict[str, str] | None = None,
    gps: GpsFix | None = None,
) -> tuple[Inspection, list[Hazard]]:
    """Record an inspection of a venue in the caller's jurisdiction, with its hazards.

    Each hazard opens with a deadline (given, or the category's usual one for its
    severity), a transition ``'' → open`` and an audit entry.
    """
    now = now or utcnow()
    venue = visible_venue(session, principal, venue_id)
    at = inspected_at or now
    if at.tzinfo is None:
        raise ValidationFailed(
            "inspected_at must carry a time zone",
            {"inspected_at": None},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": "inspected_at"},
        )
    if at > now + FUTURE_TOLERANCE:
        raise ValidationFailed(
            "inspected_at lies in the future",
            {"inspected_at": at.isoformat()},
            text=TextCode.VALIDATION_IN_FUTURE,
            params={"field": "inspected_at"},
        )
    if result is None:
        result = (InspectionResult.HAZARDS_FOUND if hazards else InspectionResult.PASSED).value
    if result == InspectionResult.HAZARDS_FOUND.value and not hazards:
        raise ValidationFailed(
            "result hazards_found needs at least one hazard",
            {"result": result},
            text=TextCode.INSPECTION_NEEDS_HAZARD,
            params={},
        )
    if result != InspectionResult.HAZARDS_FOUND.value and hazards:
        raise ValidationFailed(
            f"an inspection with result {result} records no hazard",
            text=TextCode.INSPECTION_NO_HAZARD_EXPECTED,
            params={"result": result},
        )
    answers = dict(checklist_answers or {})
    check_checklist(checklist, answers)
    fix = check_gps(gps or GpsFix())
    worker_name = ""
    if grid_worker_id is not None:
        worker = session.get(GridWorker, grid_worker_id)
        if (
            worker is None
            or worker.deleted_at is not None
            or not worker.active
            or worker.jurisdiction_path != venue.jurisdiction_path
        ):
            raise ValidationFailed(
                f"grid worker {grid_worker_id} is not an active worker of the venue's grid",
                {"grid_worker_id": grid_worker_id},
                text=TextCode.INSPECTION_WORKER_NOT_IN_GRID,
                params={"grid_worker_id": grid_worker_id},
            )
        worker_name = worker.name
    prepared: list[tuple[HazardSpec, HazardCategory, datetime]] = []
    for spec in hazards:
        declared = category(spec.category)
        severity = Severity(spec.severity).value
        deadline = spec.deadline or at + timedelta(days=declared.deadline_days[severity])
        if deadline.tzinfo is None:
            raise ValidationFailed(
                "a deadline must carry a time zone",
                {"deadline": None},
                text=TextCode.VALIDATION_TIMEZONE_NAIVE,
                params={"field": "deadline"},
            )
        if deadline <= at:
            raise ValidationFailed(
                "a rectification deadline must lie after the inspection",
                {"deadline": deadline.isoformat(), "inspected_at": at.isoformat()},
                text=TextCode.VALIDATION_NOT_AFTER,
                params={"field": "deadline", "other": "inspected_at"},
            )
        prepared.append((spec, declared, deadline))
    actor = actor_of(principal)
    inspection = Inspection(
        venue_id=venue.id,
        grid_worker_id=grid_worker_id,
        inspector_subject=principal.subject[:80],
        inspector_name=(worker_name or principal.username)[:120],
        inspected_at=at,
        result=result,
        note=note,
        jurisdiction_path=venue.jurisdiction_path,
        checklist=checklist,
        checklist_answers=answers,
        gps_status=fix.status,
        gps_lon=fix.lon,
        gps_lat=fix.lat,
        gps_accuracy_m=fix.accuracy_m,
        gps_at=fix.at if fix.status == GpsStatus.RECORDED.value else None,
        created_at=now,
        updated_at=now,
    )
    session.add(inspection)
    session.flush()
    record_change(
        session, principal, "create", "inspection", inspection.id, None, row_snapshot(inspection)
    )
    record_domain_change(
        session,
        INSPECTION_RECORDED,
        inspection.id,
        actor=actor,
        cause=f"inspection of venue {venue.id}",
        payload={"venue_id": venue.id, "result": result, "hazards": len(prepared)},
        scope_path=inspection.jurisdiction_path,
    )
    rows: list[Hazard] = []
    for spec, declared, deadline in prepared:
        hazard = Hazard(
            venue_id=venue.id,
            inspection_id=inspection.id,
            category=declared.code,
            severity=Severity(spec.severity).value,
            description=spec.description,
            found_at=at,
            deadline=deadline,
            status=HazardStatus.OPEN.value,
            jurisdiction_path=venue.jurisdiction_path,
            created_at=now,
            updated_at=now,
        )
        session.add(hazard)
        session.flush()
        cause = f"{_FOUND}{inspection.id}"
        _transition(session, hazard, "", HazardStatus.OPEN.value, at=at, actor=actor, cause=cause)
        hazard_after = row_snapshot(hazard)
        record_change(
            session, principal, "create", "hazard", hazard.id, None, hazard_after, cause=cause
        )
        rows.append(hazard)
    session.flush()
    return inspection, rows


def rectify_hazard(
    session: Session,
    principal: Principal,
    hazard: Hazard,
    *,
    note: str,
    photo_path: str = "",
    now: datetime | None = None,
) -> Hazard:
    """Close an open (or overdue) hazard with its evidence: a note or a photo."""
    now = now or utcnow()
    if hazard.status != HazardStatus.OPEN.value:
        raise Conflict(
            f"hazard {hazard.id} is already {hazard.status}",
            {"id": hazard.id, "status": hazard.status},
            text=TextCode.HAZARD_NOT_OPEN,
            params={"hazard_id": hazard.id, "status": hazard.status},
        )
    if not note.strip() and not photo_path:
        raise ValidationFailed(
            "rectifying a hazard needs evidence: a note or a photo",
            text=TextCode.HAZARD_NEEDS_EVIDENCE,
        )
    before = row_snapshot(hazard)
    late = hazard.deadline < now
    actor = actor_of(principal)
    cause = _RECTIFIED + (_LATE if late else "")
    _transition(
        session,
        hazard,
        hazard.status,
        HazardStatus.RECTIFIED.value,
        at=now,
        actor=actor,
        cause=cause,
    )
    hazard.status = HazardStatus.RECTIFIED.value
    hazard.rectified_at = now
    hazard.rectified_by = actor
    hazard.evidence_note = note
    hazard.evidence_photo = photo_path
    hazard.updated_at = now
    session.flush()
    record_change(
        session,
        principal,
        "rectify",
        "hazard",
        hazard.id,
        before,
        row_snapshot(hazard),
        cause=cause,
        late=late,
    )
    return hazard


def attach_photo(
    session: Session,
    principal: Principal,
    inspection: Inspection,
    photo_path: str,
    *,
    now: datetime | None = None,
) -> Inspection:
    """Attach the evidence photo of an inspection (one per inspection)."""
    now = now or utcnow()
    if inspection.evidence_photo:
        raise Conflict(
            f"inspection {inspection.id} already has its photo",
            {"id": inspection.id, "evidence_photo": inspection.evidence_photo},
            text=TextCode.INSPECTION_PHOTO_PRESENT,
            params={"inspection_id": inspection.id},
        )
    before = row_snapshot(inspection)
    inspection.evidence_photo = photo_path
    inspection.updated_at = now
    session.flush()
    record_change(
        session,
        principal,
        "attach_photo",
        "inspection",
        inspection.id,
        before,
        row_snapshot(inspection),
        cause="evidence photo from the phone",
    )
    return inspection


def store_inspection_photo(
    data_dir: Path, inspection_id: int, content_type: str, content: bytes
) -> str:
    """Save an inspection's photo under ``data_dir/inspections/photos``; its relative path."""
    return uploads.store_photo(
        data_dir, "inspections", f"inspection-{inspection_id}", content_type, content
    )


def revise_hazard(
    session: Session,
    principal: Principal,
    hazard: Hazard,
    *,
    severity: str | None = None,
    description: str | None = None,
    deadline: datetime | None = None,
    cause: str,
) -> Hazard:
    """Change an open hazard's severity, description or deadline (e.g. a later report of
    another department's grid worker); recorded on the change stream and in the audit."""
    if hazard.status != HazardStatus.OPEN.value:
        raise Conflict(
            f"hazard {hazard.id} is already {hazard.status}",
            {"id": hazard.id, "status": hazard.status},
            text=TextCode.HAZARD_NOT_OPEN,
            params={"hazard_id": hazard.id, "status": hazard.status},
        )
    if deadline is not None and (deadline.tzinfo is None or deadline <= hazard.found_at):
        raise ValidationFailed(
            "a deadline must carry a time zone and lie after the hazard was found",
            {"deadline": deadline.isoformat()},
            text=TextCode.VALIDATION_NOT_AFTER,
            params={"field": "deadline", "other": "found_at"},
        )
    before = row_snapshot(hazard)
    if severity is not None:
        hazard.severity = Severity(severity).value
    if description is not None:
        hazard.description = description[:500]
    if deadline is not None:
        hazard.deadline = deadline
    hazard.updated_at = utcnow()
    session.flush()
    record_domain_change(
        session,
        HAZARD_CHANGED,
        hazard.id,
        actor=actor_of(principal),
        cause=cause,
        payload={
            "status": hazard.status,
            "from_status": hazard.status,
            "venue_id": hazard.venue_id,
        },
        scope_path=hazard.jurisdiction_path,
    )
    record_change(
        session, principal, "update", "hazard", hazard.id, before, row_snapshot(hazard), cause=cause
    )
    return hazard


def store_evidence(data_dir: Path, hazard_id: int, content_type: str, content: bytes) -> str:
    """Save an evidence photo under ``data_dir/inspections/photos``; its relative path."""
    return uploads.store_photo(
        data_dir, "inspections", f"hazard-{hazard_id}", content_type, content
    )


# ---- queries ----------------------------------------------------------------------------
def list_inspections(
    session: Session,
    principal: Principal,
    *,
    venue_id: int | None = None,
    result: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Inspection]:
    query = scoped_inspections(principal)
    if venue_id is not None:
        query = query.where(Inspection.venue_id == venue_id)
    if result is not None:
        query = query.where(Inspection.result == result)
    if since is not None:
        query = query.where(Inspection.inspected_at >= since)
    if until is not None:
        query = query.where(Inspection.inspected_at < until)
    if after_id is not None:
        query = query.where(Inspection.id > after_id)
    return list(session.scalars(query.order_by(Inspection.id).limit(limit)).all())


def list_hazards(
    session: Session,
    principal: Principal,
    *,
    now: datetime,
    venue_id: int | None = None,
    inspection_id: int | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    category: str | None = None,
    severity: str | None = None,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Hazard]:
    """Hazards in scope. ``status`` is open (not overdue included), rectified or overdue;
    ``overdue`` true/false keeps the overdue ones or the others; ``since`` bounds found_at."""
    query = scoped_hazards(principal)
    if venue_id is not None:
        query = query.where(Hazard.venue_id == venue_id)
    if inspection_id is not None:
        query = query.where(Hazard.inspection_id == inspection_id)
    if status == OVERDUE:
        query = query.where(overdue_condition(now))
    elif status is not None:
        query = query.where(Hazard.status == status)
    if overdue is True:
        query = query.where(overdue_condition(now))
    elif overdue is False:
        query = query.where(~overdue_condition(now))
    if category is not None:
        query = query.where(Hazard.category == category)
    if severity is not None:
        query = query.where(Hazard.severity == severity)
    if since is not None:
        query = query.where(Hazard.found_at >= since)
    if after_id is not None:
        query = query.where(Hazard.id > after_id)
    return list(session.scalars(query.order_by(Hazard.id).limit(limit)).all())


def list_overdue(
    session: Session, principal: Principal, *, now: datetime | None = None, limit: int = 1000
) -> list[Hazard]:
    """Open hazards past their deadline, the longest overdue first."""
    now = now or utcnow()
    query = scoped_hazards(principal).where(overdue_condition(now))
    return list(session.scalars(query.order_by(Hazard.deadline, Hazard.id).limit(limit)).all())


def _utc(value: datetime) -> datetime:
    """Aggregates come back through the column type; a naive value is UTC (stored so)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def venue_summary(
    session: Session, principal: Principal, venue_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Inspections and hazards of one venue: recency, open/overdue/rectified by category."""
    now = now or utcnow()
    venue = visible_venue(session, principal, venue_id)
    count, last_at = session.execute(
        select(func.count(Inspection.id), func.max(Inspection.inspected_at)).where(
            Inspection.venue_id == venue.id, Inspection.deleted_at.is_(None)
        )
    ).one()
    last_result = None
    if count:
        last_result = session.scalars(
            select(Inspection.result)
            .where(Inspection.venue_id == venue.id, Inspection.deleted_at.is_(None))
            .order_by(Inspection.inspected_at.desc(), Inspection.id.desc())
            .limit(1)
        ).first()
    is_open = Hazard.status == HazardStatus.OPEN.value
    rows = session.execute(
        select(
            Hazard.category,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((overdue_condition(now), 1), else_=0)),
            func.sum(case((Hazard.status == HazardStatus.RECTIFIED.value, 1), else_=0)),
            func.sum(case((and_(is_open, Hazard.severity == Severity.MAJOR.value), 1), else_=0)),
            func.min(case((is_open, Hazard.deadline), else_=None)),
        )
        .where(Hazard.venue_id == venue.id, Hazard.deleted_at.is_(None))
        .group_by(Hazard.category)
        .order_by(Hazard.category)
    ).all()
    by_category = [
        {"category": c, "open": int(o or 0), "overdue": int(d or 0), "rectified": int(r or 0)}
        for c, o, d, r, _m, _n in rows
    ]
    deadlines = [n for *_rest, n in rows if n is not None]
    next_deadline = min((_utc(d) for d in deadlines), default=None)
    last = _utc(last_at) if last_at is not None else None
    return {
        "venue_id": venue.id,
        "inspections": int(count),
        "last_inspected_at": last,
        "days_since_inspection": (
            round((now - last).total_seconds() / 86_400, 1) if last is not None else None
        ),
        "last_result": last_result,
        "open_hazards": sum(c["open"] for c in by_category),
        "overdue_rectifications": sum(c["overdue"] for c in by_category),
        "rectified_hazards": sum(c["rectified"] for c in by_category),
        "major_open": sum(int(m or 0) for *_x, m, _n in rows),
        "next_deadline": next_deadline,
        "by_category": by_category,
    }
