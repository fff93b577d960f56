"""Hydrants of a plan: those within 150 m of the venue by road, from geo's engine.

The same rule and numbers as geo's hydrant reach (GB 50974: a venue is covered by a
hydrant within 150 m along the streets): in-service and low-pressure hydrants, measured by
:func:`firegrid.geo.hydrant_reach.hydrant_road_distances_m`. Road distance is never shorter
than the straight line, so only hydrants within the radius in a straight line are searched.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.dispatch.public import Hydrant, HydrantStatus
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.hydrant_gaps import DEFAULT_VENUE_RADIUS_M
from firegrid.geo.hydrant_reach import hydrant_road_distances_m

_M_PER_DEG_LAT = 110_574.0  # the shortest degree of latitude: the box never clips


def hydrants_by_road(
    session: Session,
    engine: TravelTimeEngine,
    lon: float,
    lat: float,
    radius_m: float = DEFAULT_VENUE_RADIUS_M,
) -> list[dict[str, Any]]:
    """Hydrants within ``radius_m`` of the point by road, nearest first."""
    dlat = radius_m / _M_PER_DEG_LAT * 1.01
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    rows = session.scalars(
        select(Hydrant)
        .where(
            Hydrant.deleted_at.is_(None),
            Hydrant.status != HydrantStatus.OUT_OF_SERVICE.value,
            Hydrant.lat.between(lat - dlat, lat + dlat),
            Hydrant.lon.between(lon - dlon, lon + dlon),
        )
        .order_by(Hydrant.id)
    ).all()
    if not rows:
        return []
    points = np.asarray([(h.lon, h.lat) for h in rows], dtype=np.float64)
    distances = hydrant_road_distances_m(engine, lon, lat, points, radius_m)
    found = [
        {
            "id": h.id,
            "code": h.code,
            "hydrant_type": h.hydrant_type,
            "status": h.status,
            "flow_lps": h.flow_lps,
            "lon": h.lon,
            "lat": h.lat,
            "road_distance_m": round(float(d), 1),
        }
        for h, d in zip(rows, distances.tolist(), strict=True)
        if math.isfinite(d)
    ]
    return sorted(found, key=lambda h: (h["road_distance_m"], h["id"]))
