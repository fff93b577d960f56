"""The rules of fire records: coded values, location, the venue, and the review lock.

A locked record is immutable: every write path (API update and delete, the incident report
form, a review move) goes through :func:`ensure_editable` first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.api.crud import row_snapshot
from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext
from firegrid.places.public import Crs, Venue
from firegrid.places.service import ensure_unique_code, resolve_point
from firegrid.records.codes import CODED_FIELDS, load_codes
from firegrid.records.models import REVIEW_TRANSITIONS, FireRecord, ReviewState


class RecordLocked(Conflict):
    code = "record_locked"


#: review actions and the state each one moves to
REVIEW_ACTIONS: dict[str, ReviewState] = {
    "submit": ReviewState.SUBMITTED,
    "return": ReviewState.DRAFT,
    "lock": ReviewState.LOCKED,
}


def town_code_of(path: str) -> str:
    """The town's code in a jurisdiction path (``/city/town/village/grid/``)."""
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else ""


def check_codes(values: dict[str, Any]) -> None:
    """Every coded field and action in ``values`` is known; all problems listed at once."""
    codes = load_codes()
    problems: dict[str, str] = {}
    for field, list_name in CODED_FIELDS.items():
        value = values.get(field)
        if value is not None:
            message = codes.problem(list_name, value)
            if message is not None:
                problems[field] = message
    for action in values.get("actions") or []:
        message = codes.problem("action", action)
        if message is not None:
            problems["actions"] = message
    if problems:
        first = next(iter(problems.values()))
        raise ValidationFailed(
            first if len(problems) == 1 else "unknown codes",
            problems,
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )


def ensure_editable(record: FireRecord) -> None:
    if record.review_state == ReviewState.LOCKED:
        raise RecordLocked(
            f"fire record {record.code} is locked and cannot change",
            {
                "id": record.id,
                "locked_at": record.locked_at.isoformat() if record.locked_at else None,
            },
            text=TextCode.RECORD_LOCKED,
            params={"code": record.code},
        )


def _venue(session: Session, code: str) -> Venue:
    venue = session.scalars(
        select(Venue).where(Venue.code == code, Venue.deleted_at.is_(None))
    ).first()
    if venue is None:
        raise ValidationFailed(
            f"unknown venue code {code!r}",
            {"venue_code": code},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": code},
        )
    return venue


def locate_record(session: Session, values: dict[str, Any], crs: Crs, label: str) -> dict[str, Any]:
    """Set venue, WGS-84 point, jurisdiction and town from lon/lat or the venue."""
    venue_code = values.pop("venue_code", None)
    venue = _venue(session, venue_code) if venue_code else None
    if venue is not None:
        values["venue_id"] = venue.id
        if not values.get("venue_category"):
            values["venue_category"] = venue.category
        if not values.get("address"):
            values["address"] = venue.address
    given_lon, given_lat = values.get("lon"), values.get("lat")
    if (given_lon is None) != (given_lat is None):
        raise ValidationFailed(
            f"give both lon and lat for {label}",
            {"lon": given_lon, "lat": given_lat},
            text=TextCode.VALIDATION_LON_LAT_PAIR,
            params={"field": label},
        )
    if given_lon is not None and given_lat is not None:
        lon, lat = float(given_lon), float(given_lat)
    elif venue is not None:
        lon, lat, crs = venue.lon, venue.lat, Crs.WGS84
    else:
        raise ValidationFailed(
            f"{label} needs lon/lat or a venue_code",
            {"lon": None},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "lon/lat / venue_code"},
        )
    values["lon"], values["lat"], grid = resolve_point(session, lon, lat, crs, label)
    values["jurisdiction_id"] = grid.id
    values["jurisdiction_path"] = grid.path
    values["town_code"] = town_code_of(grid.path)
    return values


def prepare_fire_record(
    ctx: WriteContext, values: dict[str, Any], existing: FireRecord | None
) -> dict[str, Any]:
    """The rules of a record created (API, import) or corrected (API)."""
    if existing is not None:
        ensure_editable(existing)
        check_codes(values)
        return {k: v for k, v in values.items() if v is not None}
    check_codes(values)
    ensure_unique_code(ctx.session, FireRecord, values["code"], "fire record")
    values = locate_record(ctx.session, values, ctx.crs, f"fire record {values['code']}")
    values["source"] = "imported"
    values["filled_by"] = ctx.principal.username
    if values.get("review_state") == ReviewState.LOCKED:
        values["reviewed_by"] = ctx.principal.username
        values["locked_at"] = utcnow()
    return {k: v for k, v in values.items() if v is not None}


def check_delete(ctx: WriteContext, row: FireRecord) -> None:
    ensure_editable(row)


def review(
    session: Session, principal: Principal, record: FireRecord, action: str, note: str = ""
) -> FireRecord:
    """Move the record's review state (submit, return, lock), audited."""
    ensure_editable(record)
    target = REVIEW_ACTIONS.get(action)
    current = ReviewState(record.review_state)
    if target is None or target not in REVIEW_TRANSITIONS[current]:
        raise Conflict(
            f"cannot {action} a {current.value} fire record",
            {"review_state": current.value, "action": action},
            text=TextCode.RECORD_REVIEW_REFUSED,
            params={"action": action, "review_state": current.value},
        )
    before = row_snapshot(record)
    record.review_state = target.value
    record.review_note = note
    if target == ReviewState.LOCKED:
        record.reviewed_by = principal.username
        record.locked_at = utcnow()
    session.flush()
    record_change(
        session,
        principal,
        f"review:{action}",
        "fire-records",
        str(record.id),
        before,
        row_snapshot(record),
    )
    return record
