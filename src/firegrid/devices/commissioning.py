"""Commissioning: a device counts as offline only once it has been commissioned.

A registered device that has never reported is not offline, it is **not commissioned**
(installed on paper, not yet connected) — unless its install date plus the grace period
(``FIREGRID_COMMISSIONING_GRACE_S``) has passed, when it should have reported by now and
counts offline. A device is commissioned by its first report: the state tracker
(:mod:`firegrid.devices.state`) keeps a ``device_state`` row only for devices it has heard
from (a message, or an event of theirs), and from then on the device is online or offline
as the tracker says.

:func:`classify` is the rule on one device; :func:`health_case` is the same rule as a SQL
expression (for counts per venue or area without loading every device).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.devices.models import Device
from firegrid.devices.state_models import DeviceStateRow


class Health(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    NOT_COMMISSIONED = "not_commissioned"


HEALTHS: tuple[str, ...] = tuple(h.value for h in Health)


def default_grace() -> timedelta:
    from firegrid.core.settings import get_settings

    return timedelta(seconds=get_settings().commissioning_grace_s)


def classify(
    *,
    reported: bool,
    online: bool,
    installed_at: datetime | None,
    now: datetime,
    grace: timedelta,
) -> Health:
    """The health of one device (``reported``: it has a ``device_state`` row)."""
    if reported and online:
        return Health.ONLINE
    if reported:
        return Health.OFFLINE
    if installed_at is not None and installed_at + grace <= now:
        return Health.OFFLINE
    return Health.NOT_COMMISSIONED


def health_case(now: datetime, grace: timedelta) -> ColumnElement[str]:
    """:func:`classify` in SQL over ``devices`` outer-joined to ``device_state``."""
    reported = DeviceStateRow.device_id.is_not(None)  # outer join: a row exists
    overdue = and_(Device.installed_at.is_not(None), Device.installed_at <= now - grace)
    return case(
        (DeviceStateRow.online.is_(True), Health.ONLINE.value),
        (reported, Health.OFFLINE.value),
        (overdue, Health.OFFLINE.value),
        else_=Health.NOT_COMMISSIONED.value,
    )


def health_counts(
    session: Session,
    *where: ColumnElement[bool],
    now: datetime | None = None,
    grace: timedelta | None = None,
) -> dict[str, int]:
    """``{"registered", "online", "offline", "not_commissioned"}`` of the devices matching
    ``where`` (registered = the three together)."""
    expr = health_case(now or utcnow(), grace if grace is not None else default_grace())
    rows = session.execute(
        select(expr, func.count(Device.id))
        .select_from(Device)
        .outerjoin(DeviceStateRow, DeviceStateRow.device_id == Device.id)
        .where(Device.deleted_at.is_(None), *where)
        .group_by(expr)
    ).all()
    counts: Counter[str] = Counter(dict.fromkeys(HEALTHS, 0))
    for health, count in rows:
        counts[str(health)] += int(count)
    return {"registered": sum(counts.values()), **{h: counts[h] for h in HEALTHS}}


def device_health(
    session: Session,
    *where: ColumnElement[bool],
    now: datetime | None = None,
    grace: timedelta | None = None,
    health: str | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[dict[str, Any]]:
    """Devices matching ``where`` with their health, by id (``after_id`` pages on)."""
    now = now or utcnow()
    grace = grace if grace is not None else default_grace()
    expr = health_case(now, grace)
    query = (
        select(
            Device.id,
            Device.code,
            Device.kind,
            Device.venue_id,
            Device.installed_at,
            DeviceStateRow.online,
            DeviceStateRow.last_seen,
            expr.label("health"),
        )
        .select_from(Device)
        .outerjoin(DeviceStateRow, DeviceStateRow.device_id == Device.id)
        .where(Device.deleted_at.is_(None), *where)
    )
    if health is not None:
        query = query.where(expr == health)
    if after_id is not None:
        query = query.where(Device.id > after_id)
    return [
        {
            "device_id": row.id,
            "code": row.code,
            "kind": row.kind,
            "venue_id": row.venue_id,
            "health": row.health,
            "commissioned": row.health != Health.NOT_COMMISSIONED.value,
            "online": bool(row.online),
            "last_seen": row.last_seen.isoformat() if row.last_seen else None,
            "installed_at": row.installed_at.isoformat() if row.installed_at else None,
        }
        for row in session.execute(query.order_by(Device.id).limit(limit)).all()
    ]
