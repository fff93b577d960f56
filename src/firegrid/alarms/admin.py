"""Stored correlation rules and maintenance windows (administration)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.alarms import policy_store
from firegrid.alarms.models import AlarmRuleRow, MaintenanceWindow
from firegrid.alarms.rules import merge_rules, parse_rule
from firegrid.alarms.service import load_stored_rules
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.places.public import Venue


def rules_view(session: Session) -> list[dict[str, Any]]:
    """The effective rules: those of the policy in force ("default") overridden by stored
    ones ("database"), with their source."""
    stored = load_stored_rules(session)
    stored_names = {rule.name for rule in stored}
    in_force = list(policy_store.current(session).document.rules)
    return [
        {
            **rule.model_dump(mode="json"),
            "source": "database" if rule.name in stored_names else "default",
        }
        for rule in merge_rules(in_force, stored)
    ]


def put_rule(
    session: Session, principal: Principal, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Create or replace a stored rule (validated; errors name the rule and field)."""
    rule = parse_rule(data)
    spec = rule.model_dump(mode="json", exclude={"name", "enabled"})
    row = session.scalars(select(AlarmRuleRow).where(AlarmRuleRow.name == rule.name)).first()
    before = None if row is None else {"spec": row.spec, "enabled": row.enabled}
    if row is None:
        row = AlarmRuleRow(name=rule.name, spec=spec, enabled=rule.enabled)
        session.add(row)
    else:
        row.spec = spec
        row.enabled = rule.enabled
    row.updated_at = now
    row.updated_by = principal.username[:80]
    session.flush()
    record_change(
        session,
        principal,
        "alarm_rule.put",
        "alarm_rule",
        rule.name,
        before,
        {"spec": spec, "enabled": rule.enabled},
    )
    return {**rule.model_dump(mode="json"), "source": "database"}


def delete_rule(session: Session, principal: Principal, name: str) -> None:
    row = session.scalars(select(AlarmRuleRow).where(AlarmRuleRow.name == name)).first()
    if row is None:
        raise NotFound(
            f"no stored rule named {name!r}",
            {"name": name},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "rule", "id": name},
        )
    record_change(
        session,
        principal,
        "alarm_rule.delete",
        "alarm_rule",
        name,
        {"spec": row.spec, "enabled": row.enabled},
        None,
    )
    session.delete(row)


def add_window(
    session: Session,
    principal: Principal,
    *,
    venue_id: int,
    device_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    note: str,
    now: datetime,
) -> MaintenanceWindow:
    if ends_at <= starts_at:
        raise ValidationFailed(
            "ends_at must be after starts_at",
            {"field": "ends_at"},
            text=TextCode.VALIDATION_NOT_AFTER,
            params={"field": "ends_at", "other": "starts_at"},
        )
    venue = session.get(Venue, venue_id)
    if (
        venue is None
        or venue.deleted_at is not None
        or not principal.can_see_path(venue.jurisdiction_path)
    ):
        raise ValidationFailed(
            f"unknown venue {venue_id}",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    window = MaintenanceWindow(
        venue_id=venue_id,
        device_id=device_id,
        jurisdiction_path=venue.jurisdiction_path,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        note=note,
        created_by=principal.username[:80],
        created_at=now,
    )
    session.add(window)
    session.flush()
    record_change(
        session,
        principal,
        "maintenance_window.create",
        "maintenance_window",
        window.id,
        None,
        {
            "venue_id": venue_id,
            "device_id": device_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": reason,
        },
    )
    return window


def list_windows(
    session: Session, principal: Principal, *, venue_id: int | None, limit: int
) -> list[MaintenanceWindow]:
    query = select(MaintenanceWindow).where(
        principal.scope_filter(MaintenanceWindow.jurisdiction_path)
    )
    if venue_id is not None:
        query = query.where(MaintenanceWindow.venue_id == venue_id)
    return list(session.scalars(query.order_by(MaintenanceWindow.id.desc()).limit(limit)).all())


def delete_window(session: Session, principal: Principal, window_id: int) -> None:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or not principal.can_see_path(window.jurisdiction_path):
        raise NotFound(
            f"maintenance window {window_id} not found",
            {"id": window_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "maintenance_window", "id": window_id},
        )
    record_change(
        session,
        principal,
        "maintenance_window.delete",
        "maintenance_window",
        window.id,
        {"venue_id": window.venue_id},
        None,
    )
    session.delete(window)
