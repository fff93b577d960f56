"""Read API of the monitoring centre's fire alarms for other contexts (records): did the
connected system of a venue raise a fire alarm around a given time?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.alarms.models import Alarm


@dataclass(frozen=True)
class FireAlarmRef:
    id: int
    venue_id: int
    first_received_at: datetime  # when the first event of the alarm reached the centre
    status: str
    false_reason: str
    forwarded_at: datetime | None


def first_fire_alarm(
    session: Session, venue_id: int, not_before: datetime, not_after: datetime
) -> FireAlarmRef | None:
    """The venue's earliest fire alarm first received within ``[not_before, not_after]``."""
    row = session.scalars(
        select(Alarm)
        .where(
            Alarm.venue_id == venue_id,
            Alarm.kind == "fire",
            Alarm.first_received_at >= not_before,
            Alarm.first_received_at <= not_after,
        )
        .order_by(Alarm.first_received_at, Alarm.id)
        .limit(1)
    ).first()
    if row is None or row.venue_id is None:
        return None
    return FireAlarmRef(
        id=row.id,
        venue_id=row.venue_id,
        first_received_at=row.first_received_at,
        status=row.status,
        false_reason=row.false_reason,
        forwarded_at=row.forwarded_at,
    )
