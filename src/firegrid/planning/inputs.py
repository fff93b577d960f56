"""What planning reads from the other contexts, in one place (read-only).

=============================  ==========================================================
what                           source
=============================  ==========================================================
risk-weighted venues           the latest finished risk run (risk's ``get_run`` /
                               ``load_scores``): score 0-100, occupancy, point
venues (no risk run yet)       ``venues`` (places): occupancy, point; no score
siting venues                  ``venues`` of the categories the siting rules name
incident points                ``incidents`` (dispatch): points of the last ``years``
unit service history           ``assigned units`` (dispatch): dispatched → released
stations, vehicles,            dispatch's resources (``stations``, ``vehicles``,
hydrants, logistics points     ``hydrants``, ``logistics points``)
=============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound
from firegrid.dispatch.incident_models import Assignment, Incident
from firegrid.dispatch.models import Hydrant, HydrantStatus, LogisticsPoint, Station, Vehicle
from firegrid.places.public import Venue
from firegrid.planning.siting import Venues

if TYPE_CHECKING:
    from firegrid.dispatch.recommend import Unit

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VenueRows:
    """Venues with what demand weighting needs (``score`` is NaN without a risk run)."""

    venue_id: npt.NDArray[np.int64]
    lon: FloatArray
    lat: FloatArray
    occupancy: FloatArray
    score: FloatArray
    risk_run_id: int | None

    def __len__(self) -> int:
        return len(self.venue_id)


def weighted_venues(session: Session) -> VenueRows:
    """Venues of the latest risk run, or of places when there is none (scores NaN)."""
    from firegrid.risk.runs import get_run, load_scores

    try:
        run = get_run(session)
    except NotFound:
        run = None
    if run is not None:
        frame = load_scores(session, run.id)
        if frame.height:
            return VenueRows(
                frame["venue_id"].to_numpy().astype(np.int64),
                frame["lon"].to_numpy().astype(np.float64),
                frame["lat"].to_numpy().astype(np.float64),
                frame["occupancy"].fill_null(0).to_numpy().astype(np.float64),
                frame["score"].fill_null(np.nan).to_numpy().astype(np.float64),
                int(run.id),
            )
    rows = session.execute(
        select(Venue.id, Venue.lon, Venue.lat, Venue.occupancy)
        .where(Venue.deleted_at.is_(None))
        .order_by(Venue.id)
    ).all()
    return VenueRows(
        np.asarray([r.id for r in rows], dtype=np.int64),
        np.asarray([r.lon for r in rows], dtype=np.float64),
        np.asarray([r.lat for r in rows], dtype=np.float64),
        np.asarray([r.occupancy or 0 for r in rows], dtype=np.float64),
        np.full(len(rows), np.nan),
        None,
    )


def siting_venues(session: Session, categories: Iterable[str]) -> Venues:
    """Venues of ``categories`` (the ones the siting rules keep stations away from)."""
    rows = session.execute(
        select(Venue.code, Venue.category, Venue.lon, Venue.lat)
        .where(Venue.deleted_at.is_(None), Venue.category.in_(sorted(set(categories))))
        .order_by(Venue.id)
    ).all()
    return Venues(
        [r.code for r in rows],
        [r.category for r in rows],
        np.asarray([r.lon for r in rows], dtype=np.float64),
        np.asarray([r.lat for r in rows], dtype=np.float64),
    )


def incident_points(session: Session, years: float = 3.0) -> tuple[FloatArray, FloatArray]:
    """Points of the incidents created in the last ``years``."""
    since = utcnow() - timedelta(days=365.25 * years)
    rows = session.execute(
        select(Incident.lon, Incident.lat).where(Incident.created_at >= since)
    ).all()
    return (
        np.asarray([r.lon for r in rows], dtype=np.float64),
        np.asarray([r.lat for r in rows], dtype=np.float64),
    )


@dataclass(frozen=True)
class ServiceHistory:
    """Unit assignments with a known service time, and the span they cover."""

    assignments: int
    busy_s: float
    first: datetime | None
    last: datetime | None
    units: int


def service_history(session: Session) -> ServiceHistory:
    """Released assignments: their count, total time busy (dispatch → release), span."""
    row = session.execute(
        select(
            func.count(Assignment.id),
            func.min(Assignment.dispatched_at),
            func.max(Assignment.released_at),
        ).where(Assignment.released_at.is_not(None))
    ).one()
    busy = 0.0
    if row[0]:
        pairs = session.execute(
            select(Assignment.dispatched_at, Assignment.released_at).where(
                Assignment.released_at.is_not(None)
            )
        ).all()
        busy = float(sum((r.released_at - r.dispatched_at).total_seconds() for r in pairs))
    units = session.scalar(select(func.count(Vehicle.id)).where(Vehicle.deleted_at.is_(None)))
    return ServiceHistory(int(row[0] or 0), busy, row[1], row[2], int(units or 0))


@dataclass(frozen=True)
class Site:
    """A facility point: station, hydrant or logistics point."""

    id: int
    code: str
    lon: float
    lat: float
    jurisdiction_path: str


def stations(session: Session) -> list[Site]:
    rows = session.scalars(
        select(Station).where(Station.deleted_at.is_(None)).order_by(Station.id)
    ).all()
    return [Site(r.id, r.code, r.lon, r.lat, r.jurisdiction_path) for r in rows]


def hydrants(session: Session) -> list[Site]:
    rows = session.scalars(
        select(Hydrant)
        .where(Hydrant.deleted_at.is_(None), Hydrant.status != HydrantStatus.OUT_OF_SERVICE.value)
        .order_by(Hydrant.id)
    ).all()
    return [Site(r.id, r.code, r.lon, r.lat, r.jurisdiction_path) for r in rows]


def logistics_points(session: Session) -> list[Site]:
    rows = session.scalars(
        select(LogisticsPoint)
        .where(LogisticsPoint.deleted_at.is_(None))
        .order_by(LogisticsPoint.id)
    ).all()
    return [Site(r.id, r.code, r.lon, r.lat, r.jurisdiction_path) for r in rows]


@dataclass(frozen=True)
class Fleet:
    """Vehicles by station: ``(vehicle_type, capabilities)`` of each."""

    by_station: dict[int, list[tuple[str, list[str]]]]


def fleet(session: Session) -> Fleet:
    rows = session.execute(
        select(Vehicle.station_id, Vehicle.vehicle_type, Vehicle.capabilities)
        .where(Vehicle.deleted_at.is_(None))
        .order_by(Vehicle.id)
    ).all()
    out: dict[int, list[tuple[str, list[str]]]] = {}
    for r in rows:
        out.setdefault(int(r.station_id), []).append((r.vehicle_type, list(r.capabilities or [])))
    return Fleet(out)


def replay_units(session: Session) -> list[Unit]:
    """The units a replay starts with: every vehicle available now, in its station (as
    :class:`firegrid.dispatch.replay.Replay` takes them)."""
    from firegrid.dispatch.recommend import Unit
    from firegrid.dispatch.states import AVAILABLE, VehicleStatus

    rows = session.scalars(
        select(Vehicle).where(Vehicle.deleted_at.is_(None)).order_by(Vehicle.id)
    ).all()
    return [
        Unit(
            v.id,
            v.code,
            v.call_sign,
            v.station_id,
            v.vehicle_type,
            frozenset(v.capabilities or ()),
            VehicleStatus.AVAILABLE_IN_STATION.value,
            v.jurisdiction_path,
        )
        for v in rows
        if v.status in AVAILABLE
    ]


def next_ids(session: Session) -> tuple[int, int]:
    """Ids above every station and vehicle (for the stations of a plan, never stored)."""
    station = session.scalar(select(func.max(Station.id))) or 0
    vehicle = session.scalar(select(func.max(Vehicle.id))) or 0
    return int(station) + 1_000_000, int(vehicle) + 1_000_000
