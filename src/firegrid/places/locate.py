"""Find the jurisdiction of a point: the city outline check and the grid that contains it.

The index is built once from the database (grids' polygons in an STRtree, their centres in
a KD-tree for grids without a boundary) and rebuilt when the jurisdictions change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.errors import OutsideCity, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.places.models import Jurisdiction, JurisdictionLevel


@dataclass(frozen=True)
class GridRef:
    """The grid a point falls in."""

    id: int
    code: str
    path: str


class JurisdictionIndex:
    """Point-in-polygon lookups over the grids, and the city outline."""

    def __init__(
        self,
        city: BaseGeometry | None,
        grids: list[GridRef],
        polygons: list[BaseGeometry | None],
        centres: np.ndarray[Any, np.dtype[np.float64]],
    ) -> None:
        self.city = city
        if city is not None:
            shapely.prepare(city)
        self.grids = grids
        with_polygon = [i for i, p in enumerate(polygons) if p is not None]
        self._polygon_owner = np.asarray(with_polygon, dtype=np.int64)
        self._tree = shapely.STRtree([polygons[i] for i in with_polygon])
        self._centres = cKDTree(centres) if len(centres) else None

    @classmethod
    def load(cls, session: Session) -> JurisdictionIndex:
        rows = session.execute(
            select(
                Jurisdiction.id,
                Jurisdiction.code,
                Jurisdiction.path,
                Jurisdiction.level,
                Jurisdiction.boundary,
                Jurisdiction.center_lon,
                Jurisdiction.center_lat,
            ).where(
                Jurisdiction.deleted_at.is_(None),
                Jurisdiction.level.in_([JurisdictionLevel.CITY, JurisdictionLevel.GRID]),
            )
        ).all()
        city: BaseGeometry | None = None
        grids: list[GridRef] = []
        polygons: list[BaseGeometry | None] = []
        centres: list[tuple[float, float]] = []
        for row in rows:
            if row.level == JurisdictionLevel.CITY:
                city = shape(row.boundary) if row.boundary else None
                continue
            grids.append(GridRef(row.id, row.code, row.path))
            polygons.append(shape(row.boundary) if row.boundary else None)
            centres.append((row.center_lon, row.center_lat))
        return cls(city, grids, polygons, np.asarray(centres, dtype=np.float64).reshape(-1, 2))

    def check_inside_city(self, lon: float, lat: float, what: str = "point") -> None:
        if self.city is not None and not shapely.contains_xy(self.city, lon, lat):
            raise OutsideCity(
                f"{what} ({lon:.6f}, {lat:.6f}) lies outside the city boundary",
                {"lon": lon, "lat": lat},
                text=TextCode.PLACE_OUTSIDE_CITY,
                params={"lon": round(lon, 6), "lat": round(lat, 6)},
            )

    def locate(self, lon: float, lat: float, what: str = "point") -> GridRef:
        """The grid containing the WGS-84 point; refuses points outside the city."""
        self.check_inside_city(lon, lat, what)
        return self.locate_many(np.asarray([lon]), np.asarray([lat]), what)[0]

    def locate_many(
        self,
        lon: np.ndarray[Any, np.dtype[np.float64]],
        lat: np.ndarray[Any, np.dtype[np.float64]],
        what: str = "point",
    ) -> list[GridRef]:
        """Vectorised :meth:`locate` without the city check (callers check first)."""
        if not self.grids:
            raise ValidationFailed(
                "the city has no grids yet: import jurisdictions first",
                text=TextCode.ENTITY_NONE_YET,
                params={"kind": "grid"},
            )
        owner = np.full(len(lon), -1, dtype=np.int64)
        if len(self._polygon_owner):
            points = shapely.points(lon, lat)
            point_idx, tree_idx = self._tree.query(points, predicate="within")
            owner[point_idx] = self._polygon_owner[tree_idx]
        missing = np.flatnonzero(owner < 0)
        if len(missing):
            if self._centres is None:
                raise OutsideCity(
                    f"{what} lies in no grid",
                    {"count": len(missing)},
                    text=TextCode.PLACE_IN_NO_GRID,
                    params={"count": len(missing)},
                )
            _, nearest = self._centres.query(np.column_stack([lon[missing], lat[missing]]))
            owner[missing] = nearest
        return [self.grids[i] for i in owner]


_cache: dict[str, tuple[tuple[int, Any], JurisdictionIndex]] = {}
_lock = threading.Lock()


def jurisdiction_index(session: Session) -> JurisdictionIndex:
    """The index for the session's database, rebuilt when jurisdictions changed."""
    bind = session.get_bind()
    key = str(bind.engine.url)
    stamp_row = session.execute(
        select(func.count(Jurisdiction.id), func.max(Jurisdiction.updated_at))
    ).one()
    stamp = (int(stamp_row[0]), stamp_row[1])
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    index = JurisdictionIndex.load(session)
    with _lock:
        _cache[key] = (stamp, index)
    return index
