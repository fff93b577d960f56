"""Automatic vehicle location: the last GPS fix of each vehicle.

Fixes come from integration keys (the AVL platform) and from crews' phones, in any accepted
CRS; a fix older than the one held is ignored (out-of-order delivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.core.clock import utcnow
from firegrid.dispatch.incidents import vehicle_in_scope
from firegrid.dispatch.timeline import check_aware
from firegrid.geo.facilities import check_all_on_network
from firegrid.places.public import parse_crs, point_to_wgs84, validate_lon_lat


@dataclass(frozen=True)
class Fix:
    vehicle_id: int
    lon: float
    lat: float
    at: datetime | None = None
    crs: str = "wgs84"


def record_fixes(session: Session, principal: Principal, fixes: Sequence[Fix]) -> dict[str, int]:
    """Store the newest fix of each vehicle; returns counts of accepted and stale fixes.

    A fix farther from every road node than ``FIREGRID_FACILITY_MAX_SNAP_M`` refuses the
    whole batch (``OffRoadNetwork`` naming the vehicle and the distance), so nothing is
    half-applied.
    """
    accepted = stale = 0
    checked = []
    for fix in fixes:
        vehicle = vehicle_in_scope(session, principal, fix.vehicle_id)
        validate_lon_lat(fix.lon, fix.lat)
        at = check_aware(fix.at or utcnow(), "at")
        lon, lat = point_to_wgs84(fix.lon, fix.lat, parse_crs(fix.crs))
        checked.append((vehicle, at, lon, lat))
    check_all_on_network(
        session,
        "vehicle",
        [c[0].code for c in checked],
        [c[2] for c in checked],
        [c[3] for c in checked],
    )
    for vehicle, at, lon, lat in checked:
        if vehicle.position_at is not None and at <= vehicle.position_at:
            stale += 1
            continue
        vehicle.last_lon, vehicle.last_lat = lon, lat
        vehicle.position_at = at
        accepted += 1
    return {"accepted": accepted, "stale": stale}
