"""The area method's context read from the platform: what each town, village and grid is as
land (area from its boundary in the metric CRS, population from the jurisdiction tree) and
the fire stations and engines registered in it (dispatch resources, by jurisdiction path).

A level without boundaries or population leaves those measures null; the indicators that
need them are then left out of that area's score (and listed under ``missing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.risk.area import SPATIAL_LEVELS, AreaContext

#: Position of a level's code in a materialised jurisdiction path (``/city/town/…/``).
PATH_DEPTH = {"city": 0, "town": 1, "village": 2, "grid": 3}


def boundary_area_km2(boundary: dict[str, Any] | None, epsg: int) -> float | None:
    """Area of a GeoJSON (Multi)Polygon in WGS-84, computed in the metric CRS ``epsg``."""
    if not boundary:
        return None
    from shapely.geometry import shape as to_shape

    from firegrid.places.crs import metric_transformer

    shape = to_shape(boundary)
    if shape.is_empty:
        return None
    transformer = metric_transformer(epsg)

    def project(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return float(shapely.transform(shape, project).area) / 1e6


def _count_by_path(paths: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {lvl: {} for lvl in SPATIAL_LEVELS}
    for path in paths:
        parts = [p for p in (path or "").split("/") if p]
        for level, depth in PATH_DEPTH.items():
            if depth < len(parts):
                code = parts[depth]
                out[level][code] = out[level].get(code, 0) + 1
    return out


def read_area_context(
    session: Session, epsg: int, sources: dict[str, str], warnings: list[str]
) -> AreaContext:
    """Land area, population, stations and engines per city, town, village and grid."""
    from firegrid.dispatch.public import Station, Vehicle
    from firegrid.places.public import Jurisdiction

    rows = session.execute(
        select(
            Jurisdiction.code, Jurisdiction.level, Jurisdiction.population, Jurisdiction.boundary
        ).where(Jurisdiction.deleted_at.is_(None))
    ).all()
    stations = _count_by_path(
        session.scalars(select(Station.jurisdiction_path).where(Station.deleted_at.is_(None))).all()
    )
    units = _count_by_path(
        session.scalars(select(Vehicle.jurisdiction_path).where(Vehicle.deleted_at.is_(None))).all()
    )
    n_stations = session.scalar(select(func.count(Station.id)).where(Station.deleted_at.is_(None)))
    levels: dict[str, pl.DataFrame] = {}
    no_boundary = 0
    for level in SPATIAL_LEVELS:
        chosen = [r for r in rows if r[1] == level]
        areas = [boundary_area_km2(r[3], epsg) for r in chosen]
        no_boundary += sum(a is None for a in areas)
        codes = [str(r[0]) for r in chosen]
        levels[level] = pl.DataFrame(
            {
                "code": codes,
                "area_km2": pl.Series(areas, dtype=pl.Float64),
                "population": pl.Series([r[2] for r in chosen], dtype=pl.Float64),
                "stations": pl.Series([stations[level].get(c, 0) for c in codes], dtype=pl.Float64),
                "units": pl.Series([units[level].get(c, 0) for c in codes], dtype=pl.Float64),
            }
        )
    if no_boundary:
        warnings.append(
            f"area context: {no_boundary} jurisdictions have no boundary — their density and "
            "GB 51080 station indicators are left out"
        )
    if not n_stations:
        warnings.append("area context: no fire stations registered — stations count as 0")
    sources["area_context"] = (
        f"jurisdictions (boundary area in EPSG:{epsg}, population), stations and vehicles "
        "(dispatch) by jurisdiction path"
    )
    return AreaContext(levels=levels)


def full_assignment_times_s(
    times_s: np.ndarray[Any, Any], nodes: np.ndarray[Any, Any], leg_s: np.ndarray[Any, Any], k: int
) -> np.ndarray[Any, Any]:
    """Travel time of the ``k``-th fastest station (the full first assignment), per node."""
    if times_s.shape[0] < k:
        return np.full(nodes.size, np.nan)
    part = np.partition(times_s[:, nodes], k - 1, axis=0)[k - 1].astype(np.float64)
    out: np.ndarray[Any, Any] = np.asarray(part + leg_s, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out
