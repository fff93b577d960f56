"""Quarantine: messages from devices that are not in the registry.

Every well-formed message from an unknown device is acknowledged to it (so it does not
retransmit forever) and kept in ``quarantined_messages``; the device is listed in
``quarantine_devices`` with first/last seen and a count. An administrator reviews the list
and *adopts* a device: a registry row bound to a venue is created, and from the next
registry refresh on (10 s by default; at once in the process that adopted it) its messages
are admitted to the event log, and the ingest process replays the messages it had
quarantined into the log (:mod:`firegrid.ingest.replay`; a fire alarm sent before the device
was registered is not left behind). Quarantined messages stay as they were (an audit trail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device, DeviceKind, DeviceProtocol, DeviceRef
from firegrid.ingest.models import QuarantineDevice, QuarantinedMessage
from firegrid.places.public import Venue


def device_dict(row: QuarantineDevice) -> dict[str, Any]:
    return {
        "id": row.id,
        "protocol": row.protocol,
        "external_id": row.external_id,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "message_count": row.message_count,
        "last_peer": row.last_peer,
        "adopted_device_id": row.adopted_device_id,
        "adopted_at": row.adopted_at,
        "replayed_at": row.replayed_at,
        "replayed_events": row.replayed_events,
    }


def list_unknown(
    session: Session, *, include_adopted: bool = False, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Unknown devices, most recently heard first."""
    query = select(QuarantineDevice).order_by(QuarantineDevice.last_seen.desc())
    if not include_adopted:
        query = query.where(QuarantineDevice.adopted_device_id.is_(None))
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    return [device_dict(r) for r in rows]


def list_messages(session: Session, quarantine_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The newest quarantined messages of one unknown device."""
    device = session.get(QuarantineDevice, quarantine_id)
    if device is None:
        raise NotFound(
            f"no quarantined device {quarantine_id}",
            {"id": quarantine_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "quarantined_device", "id": quarantine_id},
        )
    rows = session.scalars(
        select(QuarantinedMessage)
        .where(
            QuarantinedMessage.protocol == device.protocol,
            QuarantinedMessage.external_id == device.external_id,
        )
        .order_by(QuarantinedMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "received_at": r.received_at,
            "raw_hex": r.raw_hex,
            "summary": r.summary,
        }
        for r in rows
    ]


def adopt(
    session: Session,
    quarantine_id: int,
    *,
    venue_id: int,
    code: str,
    kind: str,
    install_location: str = "",
    can_see_path: Callable[[str], bool] | None = None,
) -> tuple[Device, DeviceRef]:
    """Register the quarantined device at ``venue_id``; future messages are admitted."""
    problems: dict[str, str] = {}
    if kind not in {k.value for k in DeviceKind}:
        problems["kind"] = f"must be one of {sorted(k.value for k in DeviceKind)}"
    if not code or len(code) > 40:
        problems["code"] = "must be 1-40 characters"
    if problems:
        raise ValidationFailed(
            "cannot adopt the device",
            problems,
            text=TextCode.VALIDATION_FIELDS,
            params={"fields": sorted(problems)},
        )
    entry = session.get(QuarantineDevice, quarantine_id)
    if entry is None:
        raise NotFound(
            f"no quarantined device {quarantine_id}",
            {"id": quarantine_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "quarantined_device", "id": quarantine_id},
        )
    if entry.adopted_device_id is not None:
        raise Conflict(
            "the device was already adopted",
            {"device_id": entry.adopted_device_id},
            text=TextCode.DEVICE_ALREADY_ADOPTED,
            params={"device_id": entry.adopted_device_id},
        )
    if entry.protocol not in {p.value for p in DeviceProtocol}:
        raise ValidationFailed(
            f"protocol {entry.protocol!r} cannot be registered",
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={
                "field": "protocol",
                "value": entry.protocol,
                "allowed": [p.value for p in DeviceProtocol],
            },
        )
    venue = session.get(Venue, venue_id)
    if (
        venue is None
        or venue.deleted_at is not None
        or (can_see_path is not None and not can_see_path(venue.jurisdiction_path))
    ):
        raise ValidationFailed(
            f"unknown venue {venue_id}",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    clash = session.scalars(
        select(Device.id).where(
            (Device.code == code)
            | ((Device.protocol == entry.protocol) & (Device.external_id == entry.external_id))
        )
    ).first()
    if clash is not None:
        raise Conflict(
            "a device with this code or external id exists",
            {"device_id": clash},
            text=TextCode.DEVICE_CODE_TAKEN,
            params={"device_id": clash},
        )
    device = Device(
        code=code,
        kind=kind,
        protocol=entry.protocol,
        external_id=entry.external_id,
        venue_id=venue.id,
        install_location=install_location,
        jurisdiction_path=venue.jurisdiction_path,
    )
    session.add(device)
    session.flush()
    entry.adopted_device_id = device.id
    entry.adopted_at = utcnow()
    ref = DeviceRef(
        device.id, device.external_id, device.protocol, venue.id, venue.jurisdiction_path
    )
    return device, ref
