"""The rules of installation programmes: create a programme, record an installation (where,
what, when, by whom, the bound device), list them, count them by unit and period.

Every query is scoped with :meth:`Principal.scope_filter`; a programme, venue or device
outside the caller's jurisdiction is "not found" (no leak). A connected device is bound
only when it is registered, of a kind that fits the device type, in the installation's
grid and not bound already.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.api.crud import row_snapshot
from firegrid.core.clock import CHINA_TZ, ensure_aware, utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device
from firegrid.installations.models import (
    BINDABLE_KINDS,
    DeviceType,
    Installation,
    InstallationProgramme,
    UnitKind,
)
from firegrid.places.public import Jurisdiction, JurisdictionLevel, Venue

LEVELS = ("town", "village", "grid")
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
FUTURE_TOLERANCE = timedelta(minutes=10)


def actor_of(principal: Principal) -> str:
    return f"{principal.subject} ({principal.username})"[:120]


# ---- periods ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A month (``2026-11``) or a year (``2026``) in local (Asia/Shanghai) time."""

    text: str
    start: datetime
    end: datetime
    monthly: bool

    def key_of(self, moment: datetime) -> str:
        local = ensure_aware(moment).astimezone(CHINA_TZ)
        return f"{local.year:04d}-{local.month:02d}"


def parse_period(text: str) -> Period:
    match = PERIOD_PATTERN.match(text)
    month = int(match.group(2)) if match and match.group(2) else None
    year_ok = match is not None and 1900 <= int(match.group(1)) <= 2999
    if match is None or not year_ok or (month is not None and not 1 <= month <= 12):
        raise ValidationFailed(
            "the period must be a month YYYY-MM or a year YYYY (1900-2999)",
            {"period": text},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "period", "value": text, "expected": "YYYY-MM / YYYY"},
        )
    year = int(match.group(1))
    if month is None:
        start = datetime(year, 1, 1, tzinfo=CHINA_TZ)
        end = datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)
    else:
        start = datetime(year, month, 1, tzinfo=CHINA_TZ)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CHINA_TZ)
    return Period(text, start, end, month is not None)


# ---- programmes -------------------------------------------------------------------------
def _jurisdiction(session: Session, principal: Principal, code: str, what: str) -> Jurisdiction:
    row = session.scalars(
        select(Jurisdiction).where(
            Jurisdiction.code == code,
            Jurisdiction.deleted_at.is_(None),
            principal.scope_filter(Jurisdiction.path),
        )
    ).first()
    if row is None:
        raise NotFound(
            f"{what} {code!r} not found in your jurisdiction",
            {what: code},
            text=TextCode.ENTITY_NOT_IN_SCOPE,
            params={"kind": "grid" if what == "grid_code" else "jurisdiction", "id": code},
        )
    return row


def create_programme(
    session: Session,
    principal: Principal,
    *,
    code: str,
    name: str,
    scope_code: str,
    starts_on: date,
    ends_on: date,
    target_count: int = 0,
    now: datetime | None = None,
) -> InstallationProgramme:
    now = now or utcnow()
    if ends_on < starts_on:
        raise ValidationFailed(
            "a programme must end on or after its start",
            {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
            text=TextCode.VALIDATION_NOT_AFTER,
            params={"field": "ends_on", "other": "starts_on"},
        )
    scope = _jurisdiction(session, principal, scope_code, "scope_code")
    if session.scalars(
        select(InstallationProgramme.id).where(InstallationProgramme.code == code)
    ).first():
        raise Conflict(
            f"programme code {code!r} is taken",
            {"code": code},
            text=TextCode.PROGRAMME_CODE_TAKEN,
            params={"code": code},
        )
    programme = InstallationProgramme(
        code=code,
        name=name,
        scope_path=scope.path,
        starts_on=starts_on,
        ends_on=ends_on,
        target_count=target_count,
        created_at=now,
        created_by=actor_of(principal),
    )
    session.add(programme)
    session.flush()
    record_change(
        session,
        principal,
        "create",
        "installation_programme",
        programme.id,
        None,
        row_snapshot(programme),
    )
    return programme


def scoped_programmes(principal: Principal) -> Select[InstallationProgramme]:
    """Programmes the caller may see: run in its scope, or run above it (the city's)."""
    return select(InstallationProgramme).where(
        or_(
            principal.scope_filter(InstallationProgramme.scope_path),
            InstallationProgramme.scope_path.in_(_ancestor_paths(principal.scope_path)),
        )
    )


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def get_programme(
    session: Session, principal: Principal, programme_id: int
) -> InstallationProgramme:
    row = session.scalars(
        scoped_programmes(principal).where(InstallationProgramme.id == programme_id)
    ).first()
    if row is None:
        raise NotFound(
            f"programme {programme_id} not found",
            {"id": programme_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "programme", "id": programme_id},
        )
    return row


def list_programmes(session: Session, principal: Principal) -> list[InstallationProgramme]:
    return list(session.scalars(scoped_programmes(principal).order_by(InstallationProgramme.id)))


# ---- installations ----------------------------------------------------------------------
@dataclass(frozen=True)
class InstallationSpec:
    device_type: str
    unit_kind: str
    installed_at: datetime
    installer: str
    venue_id: int | None = None
    grid_code: str | None = None
    address: str = ""
    household: str = ""
    device_id: int | None = None


def _place(
    session: Session, principal: Principal, spec: InstallationSpec
) -> tuple[str, Venue | None]:
    """The grid path of the installation (from its venue, or its grid) and the venue."""
    if spec.venue_id is not None:
        venue = session.scalars(
            select(Venue).where(
                Venue.id == spec.venue_id,
                Venue.deleted_at.is_(None),
                principal.scope_filter(Venue.jurisdiction_path),
            )
        ).first()
        if venue is None:
            raise NotFound(
                f"venue {spec.venue_id} not found",
                {"venue_id": spec.venue_id},
                text=TextCode.ENTITY_NOT_FOUND,
                params={"kind": "venue", "id": spec.venue_id},
            )
        if spec.grid_code is not None and f"/{spec.grid_code}/" not in venue.jurisdiction_path:
            raise ValidationFailed(
                f"venue {venue.id} is not in grid {spec.grid_code!r}",
                {"venue_id": venue.id, "grid_code": spec.grid_code},
                text=TextCode.INSTALLATION_VENUE_NOT_IN_GRID,
                params={"venue_id": venue.id, "grid_code": spec.grid_code},
            )
        return venue.jurisdiction_path, venue
    if spec.grid_code is None:
        raise ValidationFailed(
            "an installation needs a venue_id or a grid_code",
            {"place": None},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "venue_id / grid_code"},
        )
    grid = _jurisdiction(session, principal, spec.grid_code, "grid_code")
    if grid.level != JurisdictionLevel.GRID.value:
        raise ValidationFailed(
            f"{spec.grid_code!r} is a {grid.level}, not a grid",
            {"grid_code": spec.grid_code},
            text=TextCode.PLACE_NOT_A_GRID,
            params={"code": spec.grid_code, "kind": grid.level},
        )
    return grid.path, None


def _bind(
    session: Session, principal: Principal, spec: InstallationSpec, path: str, venue: Venue | None
) -> Device | None:
    """The device to bind: registered, visible, of a fitting kind, in the same grid, free."""
    if spec.device_id is None:
        return None
    device = session.scalars(
        select(Device).where(
            Device.id == spec.device_id,
            Device.deleted_at.is_(None),
            principal.scope_filter(Device.jurisdiction_path),
        )
    ).first()
    if device is None:  # unknown, or outside the caller's jurisdiction: the same answer
        raise ValidationFailed(
            f"device {spec.device_id} is not a registered device in your jurisdiction",
            {"device_id": spec.device_id, "reason": "unknown_device"},
            text=TextCode.ENTITY_NOT_IN_SCOPE,
            params={"kind": "device", "id": spec.device_id},
        )
    if device.jurisdiction_path != path or (venue is not None and device.venue_id != venue.id):
        raise ValidationFailed(
            f"device {device.id} belongs to another place; bind a device of the same grid"
            + (" and venue" if venue is not None else ""),
            {"device_id": device.id, "reason": "foreign_device"},
            text=TextCode.INSTALLATION_DEVICE_ELSEWHERE,
            params={"device_id": device.id},
        )
    kinds = BINDABLE_KINDS[spec.device_type]
    if device.kind not in kinds:
        raise ValidationFailed(
            f"device {device.id} is a {device.kind}; a {spec.device_type} binds to "
            + ", ".join(sorted(kinds)),
            {"device_id": device.id, "reason": "wrong_kind"},
            text=TextCode.INSTALLATION_DEVICE_KIND,
            params={"device_id": device.id, "device_kind": device.kind, "allowed": sorted(kinds)},
        )
    taken = session.scalars(
        select(Installation.id).where(Installation.device_id == device.id)
    ).first()
    if taken is not None:
        raise Conflict(
            f"device {device.id} is already bound to installation {taken}",
            {"device_id": device.id, "installation_id": taken},
            text=TextCode.DEVICE_ALREADY_BOUND,
            params={"device_id": device.id, "installation_id": taken},
        )
    return device


def record_installation(
    session: Session,
    principal: Principal,
    programme: InstallationProgramme,
    spec: InstallationSpec,
    *,
    now: datetime | None = None,
) -> Installation:
    now = now or utcnow()
    device_type = DeviceType(spec.device_type).value
    unit_kind = UnitKind(spec.unit_kind).value
    if spec.installed_at.tzinfo is None:
        raise ValidationFailed(
            "installed_at must carry a time zone",
            {"installed_at": None},
            text=TextCode.VALIDATION_TIMEZONE_NAIVE,
            params={"field": "installed_at"},
        )
    if spec.installed_at > now + FUTURE_TOLERANCE:
        raise ValidationFailed(
            "installed_at lies in the future",
            {"installed_at": spec.installed_at.isoformat()},
            text=TextCode.VALIDATION_IN_FUTURE,
            params={"field": "installed_at"},
        )
    local_day = spec.installed_at.astimezone(CHINA_TZ).date()
    if not programme.starts_on <= local_day <= programme.ends_on:
        raise ValidationFailed(
            f"installed on {local_day}, outside programme {programme.code!r} "
            f"({programme.starts_on} to {programme.ends_on})",
            {"installed_at": spec.installed_at.isoformat()},
            text=TextCode.INSTALLATION_OUTSIDE_PERIOD,
            params={
                "programme": programme.code,
                "day": local_day.isoformat(),
                "starts_on": programme.starts_on.isoformat(),
                "ends_on": programme.ends_on.isoformat(),
            },
        )
    path, venue = _place(session, principal, spec)
    if not path.startswith(programme.scope_path):
        raise ValidationFailed(
            f"the place lies outside programme {programme.code!r}'s jurisdiction",
            {"programme": programme.code},
            text=TextCode.INSTALLATION_OUTSIDE_PROGRAMME,
            params={"programme": programme.code},
        )
    if unit_kind == UnitKind.VENUE.value and venue is None:
        raise ValidationFailed(
            "an installation in a venue needs its venue_id",
            {"unit_kind": unit_kind},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "venue_id"},
        )
    if unit_kind != UnitKind.VENUE.value and not (spec.household or spec.address):
        raise ValidationFailed(
            f"an installation in a {unit_kind} needs its household/room or address",
            {"unit_kind": unit_kind},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "household / address"},
        )
    device = _bind(session, principal, spec, path, venue)
    row = Installation(
        programme_id=programme.id,
        device_type=device_type,
        unit_kind=unit_kind,
        address=spec.address or (venue.address if venue is not None else ""),
        household=spec.household,
        venue_id=venue.id if venue is not None else None,
        device_id=device.id if device is not None else None,
        installed_at=spec.installed_at,
        installer=spec.installer,
        jurisdiction_path=path,
        recorded_at=now,
        recorded_by=actor_of(principal),
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        principal,
        "create",
        "installation",
        row.id,
        None,
        row_snapshot(row),
        cause=f"installed in programme {programme.code}",
    )
    return row


def list_installations(
    session: Session,
    principal: Principal,
    *,
    programme_id: int | None = None,
    period: Period | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Installation]:
    query = select(Installation).where(principal.scope_filter(Installation.jurisdiction_path))
    if programme_id is not None:
        query = query.where(Installation.programme_id == programme_id)
    if period is not None:
        query = query.where(
            Installation.installed_at >= period.start, Installation.installed_at < period.end
        )
    if after_id is not None:
        query = query.where(Installation.id > after_id)
    return list(session.scalars(query.order_by(Installation.id).limit(limit)))


def installation_dict(row: Installation) -> dict[str, Any]:
    return {
        "id": row.id,
        "programme_id": row.programme_id,
        "device_type": row.device_type,
        "unit_kind": row.unit_kind,
        "address": row.address,
        "household": row.household,
        "venue_id": row.venue_id,
        "device_id": row.device_id,
        "installed_at": row.installed_at,
        "installer": row.installer,
        "jurisdiction_path": row.jurisdiction_path,
        "recorded_at": row.recorded_at,
        "recorded_by": row.recorded_by,
    }


def programme_dict(row: InstallationProgramme, installed: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "scope_path": row.scope_path,
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "target_count": row.target_count,
        "installed": installed,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


def programme_counts(session: Session, principal: Principal) -> dict[int, int]:
    rows = session.execute(
        select(Installation.programme_id, func.count(Installation.id))
        .where(principal.scope_filter(Installation.jurisdiction_path))
        .group_by(Installation.programme_id)
    ).all()
    return {int(p): int(n) for p, n in rows}


# ---- figures ----------------------------------------------------------------------------
def _unit_code(path: str, level: str) -> str:
    parts = [p for p in path.split("/") if p]  # city, town, village, grid
    index = {"town": 1, "village": 2, "grid": 3}[level]
    return parts[index] if len(parts) > index else ""


def report(
    session: Session,
    principal: Principal,
    period: Period,
    level: str = "town",
    *,
    programme_id: int | None = None,
) -> list[dict[str, Any]]:
    """Installations per unit (town, village or grid) and month of ``period``.

    One row per unit and month with installations: smoke alarms, simple sprinklers, the
    connected (bound) ones, households/rooms and venues reached. Units sorted by code.
    """
    if level not in LEVELS:
        raise ValidationFailed(
            f"level must be one of {', '.join(LEVELS)}",
            {"level": level},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": LEVELS},
        )
    query = select(
        Installation.jurisdiction_path,
        Installation.installed_at,
        Installation.device_type,
        Installation.unit_kind,
        Installation.device_id,
    ).where(
        principal.scope_filter(Installation.jurisdiction_path),
        Installation.installed_at >= period.start,
        Installation.installed_at < period.end,
    )
    if programme_id is not None:
        query = query.where(Installation.programme_id == programme_id)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, at, device_type, unit_kind, device_id in session.execute(query):
        bucket = counts[(_unit_code(path, level), period.key_of(at))]
        bucket[device_type] += 1
        bucket["connected"] += device_id is not None
        bucket["venues" if unit_kind == UnitKind.VENUE.value else "households"] += 1
    names = _unit_names(session, {unit for unit, _month in counts})
    return [
        {
            "period": month,
            "level": level,
            "unit": unit,
            "unit_name_zh": names.get(unit, ("", ""))[0],
            "unit_name_en": names.get(unit, ("", ""))[1],
            "smoke_alarms": counts[(unit, month)][DeviceType.SMOKE_ALARM.value],
            "simple_sprinklers": counts[(unit, month)][DeviceType.SIMPLE_SPRINKLER.value],
            "connected": counts[(unit, month)]["connected"],
            "households": counts[(unit, month)]["households"],
            "venues": counts[(unit, month)]["venues"],
            "total": counts[(unit, month)][DeviceType.SMOKE_ALARM.value]
            + counts[(unit, month)][DeviceType.SIMPLE_SPRINKLER.value],
        }
        for unit, month in sorted(counts)
    ]


def totals(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    keys = ("smoke_alarms", "simple_sprinklers", "connected", "households", "venues", "total")
    out = dict.fromkeys(keys, 0)
    for row in rows:
        for key in keys:
            out[key] += int(row[key])
    return out


def _unit_names(session: Session, codes: set[str]) -> dict[str, tuple[str, str]]:
    if not codes:
        return {}
    rows = session.execute(
        select(Jurisdiction.code, Jurisdiction.name_zh, Jurisdiction.name_en).where(
            Jurisdiction.code.in_(sorted(codes))
        )
    ).all()
    return {str(c): (str(zh), str(en)) for c, zh, en in rows}
