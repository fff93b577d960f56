"""The records context's read API for other contexts (risk validates its model on these).

Only this module is imported from outside ``firegrid.records``; its types stay stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.records.models import FireRecord as FireRecordRow


@dataclass(frozen=True)
class Casualties:
    civilian_injured: int
    civilian_killed: int
    firefighter_injured: int
    firefighter_killed: int

    @property
    def total(self) -> int:
        return (
            self.civilian_injured
            + self.civilian_killed
            + self.firefighter_injured
            + self.firefighter_killed
        )


@dataclass(frozen=True)
class FireRecord:
    """One fire as the statistics record it (WGS-84 point, timezone-aware time)."""

    id: int
    code: str
    occurred_at: datetime
    lon: float
    lat: float
    jurisdiction_path: str
    town_code: str
    venue_id: int | None
    venue_category: str
    incident_type: str
    cause_code: str
    origin_code: str
    heat_source_code: str
    item_first_ignited_code: str
    casualties: Casualties
    direct_loss_yuan: float
    area_burned_m2: float
    source: str  # imported | incident
    incident_id: int | None
    review_state: str  # draft | submitted | locked


def _to_public(row: FireRecordRow) -> FireRecord:
    return FireRecord(
        id=row.id,
        code=row.code,
        occurred_at=row.occurred_at,
        lon=row.lon,
        lat=row.lat,
        jurisdiction_path=row.jurisdiction_path,
        town_code=row.town_code,
        venue_id=row.venue_id,
        venue_category=row.venue_category,
        incident_type=row.incident_type,
        cause_code=row.cause_code,
        origin_code=row.origin_code,
        heat_source_code=row.heat_source_code,
        item_first_ignited_code=row.item_first_ignited_code,
        casualties=Casualties(
            row.civilian_injured,
            row.civilian_killed,
            row.firefighter_injured,
            row.firefighter_killed,
        ),
        direct_loss_yuan=row.direct_loss_yuan,
        area_burned_m2=row.area_burned_m2,
        source=row.source,
        incident_id=row.incident_id,
        review_state=row.review_state,
    )


def fire_records(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    path_prefix: str = "",
    locked_only: bool = False,
) -> list[FireRecord]:
    """Live (not deleted) records with ``since <= occurred_at < until``, oldest first.

    ``path_prefix`` keeps one jurisdiction's records; ``locked_only`` keeps reviewed ones.
    """
    query = select(FireRecordRow).where(FireRecordRow.deleted_at.is_(None))
    if since is not None:
        query = query.where(FireRecordRow.occurred_at >= since)
    if until is not None:
        query = query.where(FireRecordRow.occurred_at < until)
    if path_prefix:
        query = query.where(
            FireRecordRow.jurisdiction_path.startswith(path_prefix, autoescape=True)
        )
    if locked_only:
        query = query.where(FireRecordRow.review_state == "locked")
    rows = session.scalars(query.order_by(FireRecordRow.occurred_at, FireRecordRow.id))
    return [_to_public(row) for row in rows]


__all__ = ["Casualties", "FireRecord", "fire_records"]
