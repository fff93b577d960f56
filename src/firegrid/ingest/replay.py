"""Replay the quarantined messages of an adopted device into the event log.

A message from an unknown device is acknowledged and kept in quarantine; when an
administrator adopts the device, those messages (a fire alarm among them, perhaps) must not
stay there. After each registry refresh the ingest process — the only writer of the event
log — decodes every quarantined message of an adopted device it now knows, exactly as the
adapter would have (same event ids, so a message that also reached the log is deduplicated),
appends the events and records how far it got (``replayed_through_id``). Messages that arrive
in quarantine in the instant before the refresh are picked up by the next pass.

Replayed events carry ``values["replayed_from_quarantine"] = <message id>``; their
``received_at`` is when the message was first received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, exists, func, select, update

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.public import DeviceRef
from firegrid.ingest.events import DeviceEvent
from firegrid.ingest.models import QuarantineDevice, QuarantinedMessage


@dataclass(frozen=True)
class PendingReplay:
    quarantine_id: int
    protocol: str
    external_id: str
    after_id: int  # replay messages with a greater id


@dataclass(frozen=True)
class StoredMessage:
    id: int
    received_at: datetime
    raw_hex: str
    summary: dict[str, Any]


def pending_replays(db: Database) -> list[PendingReplay]:
    """Adopted devices with quarantined messages not yet replayed."""
    device = QuarantineDevice
    message = QuarantinedMessage
    after = func.coalesce(device.replayed_through_id, 0)
    query = select(device.id, device.protocol, device.external_id, after).where(
        device.adopted_device_id.is_not(None),
        exists().where(
            and_(
                message.protocol == device.protocol,
                message.external_id == device.external_id,
                message.id > after,
            )
        ),
    )
    with db.session() as session:
        return [PendingReplay(*row) for row in session.execute(query).all()]


def load_messages(db: Database, pending: PendingReplay, limit: int) -> list[StoredMessage]:
    query = (
        select(
            QuarantinedMessage.id,
            QuarantinedMessage.received_at,
            QuarantinedMessage.raw_hex,
            QuarantinedMessage.summary,
        )
        .where(
            QuarantinedMessage.protocol == pending.protocol,
            QuarantinedMessage.external_id == pending.external_id,
            QuarantinedMessage.id > pending.after_id,
        )
        .order_by(QuarantinedMessage.id)
        .limit(limit)
    )
    with db.session() as session:
        return [StoredMessage(*row) for row in session.execute(query).all()]


def mark_replayed(db: Database, pending: PendingReplay, through_id: int, events: int) -> None:
    with db.session() as session:
        session.execute(
            update(QuarantineDevice)
            .where(QuarantineDevice.id == pending.quarantine_id)
            .values(
                replayed_through_id=through_id,
                replayed_at=utcnow(),
                replayed_events=QuarantineDevice.replayed_events + events,
            )
        )


def message_events(message: StoredMessage, protocol: str, ref: DeviceRef) -> list[DeviceEvent]:
    """The events the adapter of ``protocol`` would have made of ``message`` for ``ref``.

    Raises ``ValueError`` when the stored message cannot be decoded any more.
    """
    from firegrid.ingest.adapters.registry import replayer

    replay = replayer(protocol)
    if replay is None:
        raise ValueError(f"no replay for protocol {protocol!r}")
    events = replay(message, protocol, ref)
    mark = {"replayed_from_quarantine": message.id}
    return [msgspec.structs.replace(e, values={**e.values, **mark}) for e in events]
