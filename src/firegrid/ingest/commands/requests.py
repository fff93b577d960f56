"""Asking for commands and reading their results (the API's and the CLI's side).

Commands are written as ``queued`` rows; the ingest process holding the transmitter's
connection picks them up within a fraction of a second (see :mod:`.dispatcher`). Every
request is scoped to the caller's jurisdiction (out of scope is "not found") and leaves one
audit entry naming the actor and the cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal, record_change
from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device, DeviceProtocol
from firegrid.ingest.commands import catalogue
from firegrid.ingest.commands.models import CommandStatus, DeviceCommand
from firegrid.places.public import Venue

_TRANSMITTERS = (Device.protocol == DeviceProtocol.GB26875, Device.deleted_at.is_(None))


def _actor(principal: Principal) -> str:
    return principal.subject[:80]


def _insert(
    session: Session,
    devices: Sequence[tuple[int, int | None, str]],
    *,
    kind: str,
    parameters: dict[str, Any],
    principal: Principal,
    cause: str,
    round_id: str | None,
    now: datetime,
) -> list[int]:
    rows = [
        {
            "device_id": device_id,
            "venue_id": venue_id,
            "jurisdiction_path": path,
            "kind": kind,
            "parameters": parameters,
            "requested_by": _actor(principal),
            "cause": cause,
            "round_id": round_id,
            "requested_at": now,
            "status": CommandStatus.QUEUED,
        }
        for device_id, venue_id, path in devices
    ]
    if not rows:
        return []
    ids = session.scalars(insert(DeviceCommand).returning(DeviceCommand.id), rows).all()
    return [int(i) for i in ids]


def start_check_post(
    session: Session,
    principal: Principal,
    *,
    venue_code: str | None = None,
    all_venues: bool = False,
    reply_window_s: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Queue a check post (查岗) to the transmitters of one venue or of every venue in scope.

    Returns ``{"round_id", "commands", "devices", "venues"}``.
    """
    if (venue_code is None) == (not all_venues):
        raise ValidationFailed(
            "give a venue code or ask for all venues",
            {"venue": venue_code},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "venue"},
        )
    parameters = catalogue.validate(
        catalogue.CHECK_POST,
        {} if reply_window_s is None else {"reply_window_s": reply_window_s},
    )
    query = select(Device.id, Device.venue_id, Device.jurisdiction_path).where(
        *_TRANSMITTERS, principal.scope_filter(Device.jurisdiction_path)
    )
    if venue_code is not None:
        venue = session.scalars(
            select(Venue).where(Venue.code == venue_code, Venue.deleted_at.is_(None))
        ).first()
        if venue is None or not principal.can_see_path(venue.jurisdiction_path):
            raise NotFound(
                f"no venue with code {venue_code!r}",
                {"venue": venue_code},
                text=TextCode.ENTITY_NOT_FOUND,
                params={"kind": "venue", "id": venue_code},
            )
        query = query.where(Device.venue_id == venue.id)
    devices = [(int(i), v, p) for i, v, p in session.execute(query.order_by(Device.id)).all()]
    if not devices:
        raise NotFound(
            "no GB/T 26875.3 transmitter is registered at "
            + (f"venue {venue_code!r}" if venue_code else "any venue in your jurisdiction"),
            {"venue": venue_code},
            text=TextCode.COMMAND_NO_TRANSMITTER,
            params={"venue": venue_code},
        )
    round_id = uuid.uuid4().hex[:16]
    ids = _insert(
        session,
        devices,
        kind=catalogue.CHECK_POST,
        parameters=parameters,
        principal=principal,
        cause="check_post",
        round_id=round_id,
        now=now or utcnow(),
    )
    summary = {
        "round_id": round_id,
        "commands": len(ids),
        "devices": len(devices),
        "venues": len({v for _, v, _ in devices}),
        "venue": venue_code,
        "reply_window_s": parameters["reply_window_s"],
    }
    record_change(session, principal, "check_post", "device_command_round", round_id, None, summary)
    return {**summary, "command_ids": ids}


def request_command(
    session: Session,
    principal: Principal,
    device_id: int,
    *,
    kind: str = catalogue.POLL,
    parameters: dict[str, Any] | None = None,
    cause: str = "poll",
    now: datetime | None = None,
) -> DeviceCommand:
    """Queue one command (default: a poll, i.e. read the transmitter's status)."""
    device = session.get(Device, device_id)
    if (
        device is None
        or device.deleted_at is not None
        or not principal.can_see_path(device.jurisdiction_path)
    ):
        raise NotFound(
            f"no device {device_id}",
            {"device_id": device_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "device", "id": device_id},
        )
    if device.protocol != DeviceProtocol.GB26875:
        raise ValidationFailed(
            f"device {device.code} speaks {device.protocol}: commands go to GB/T 26875.3 "
            "transmitters only",
            {"device_id": device_id, "protocol": device.protocol},
            text=TextCode.COMMAND_NOT_TRANSMITTER,
            params={"device": device.code, "protocol": device.protocol},
        )
    normalised = catalogue.validate(kind, parameters)
    (command_id,) = _insert(
        session,
        [(device.id, device.venue_id, device.jurisdiction_path)],
        kind=kind,
        parameters=normalised,
        principal=principal,
        cause=cause,
        round_id=None,
        now=now or utcnow(),
    )
    row = session.get(DeviceCommand, command_id)
    assert row is not None
    record_change(session, principal, cause, "device_command", command_id, None, command_out(row))
    return row


def command_out(row: DeviceCommand) -> dict[str, Any]:
    return {
        "id": row.id,
        "device_id": row.device_id,
        "venue_id": row.venue_id,
        "kind": row.kind,
        "parameters": row.parameters,
        "requested_by": row.requested_by,
        "cause": row.cause,
        "round_id": row.round_id,
        "requested_at": row.requested_at,
        "sent_at": row.sent_at,
        "answered_at": row.answered_at,
        "finished_at": row.finished_at,
        "status": row.status,
        "result": row.result,
    }


def list_commands(
    session: Session,
    principal: Principal,
    *,
    round_id: str | None = None,
    device_id: int | None = None,
    venue_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    ids: Sequence[int] | None = None,
    venue_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Commands in the caller's scope, newest first, with the device code and venue name."""
    query = (
        select(DeviceCommand, Device.code, Venue.code, Venue.name)
        .join(Device, Device.id == DeviceCommand.device_id)
        .outerjoin(Venue, Venue.id == DeviceCommand.venue_id)
        .where(principal.scope_filter(DeviceCommand.jurisdiction_path))
    )
    if round_id is not None:
        query = query.where(DeviceCommand.round_id == round_id)
    if device_id is not None:
        query = query.where(DeviceCommand.device_id == device_id)
    if venue_id is not None:
        query = query.where(DeviceCommand.venue_id == venue_id)
    if status is not None:
        if status not in set(CommandStatus):
            raise ValidationFailed(
                f"unknown status {status!r}",
                {"status": status},
                text=TextCode.VALIDATION_UNKNOWN,
                params={"field": "status", "value": status},
            )
        query = query.where(DeviceCommand.status == status)
    if ids is not None:
        query = query.where(DeviceCommand.id.in_(list(ids)))
    if venue_ids is not None:  # a venue manager: its own venues only
        query = query.where(DeviceCommand.venue_id.in_(list(venue_ids)))
    rows = session.execute(query.order_by(DeviceCommand.id.desc()).limit(limit)).all()
    return [
        {**command_out(row), "device_code": code, "venue_code": vcode, "venue_name": vname}
        for row, code, vcode, vname in rows
    ]
