"""The area method's context read from the platform: what each city, town, village and grid
is as land (area from its boundary in the metric CRS; population from the population
register where it has rows inside, else from the jurisdiction tree —
:mod:`firegrid.risk.area_population`) and the fire stations and engines registered in it
(dispatch resources, by jurisdiction path).

A level without boundaries or population leaves those measures null; the indicators that
need them are then left out of that area's score (and listed under ``missing``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.risk.area import CITY_KEY, SPATIAL_LEVELS, AreaContext
from firegrid.risk.area_population import (
    TreeNode,
    population_by_level,
    population_report,
    read_register,
    roll_up,
)

#: The context's measures of a level's frame (after ``code``).
CONTEXT_COLUMNS = ("area_km2", "population", "stations", "units")


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


def _as_city_key(frame: pl.DataFrame) -> pl.DataFrame:
    """The city level keyed as the area basis keys it (:data:`CITY_KEY`, every venue): the
    tree has one city (places refuses a second); several would be added up."""
    if frame.height == 0:
        return frame
    return frame.select(
        pl.lit(CITY_KEY).alias("code"),
        *[
            pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
            for c in CONTEXT_COLUMNS
        ],
    )


def read_area_context(
    session: Session, epsg: int, sources: dict[str, str], warnings: list[str]
) -> AreaContext:
    """Land area, population, stations and engines per city, town, village and grid; the
    population's sources per level in ``AreaContext.population_report``."""
    from firegrid.dispatch.public import Station, Vehicle
    from firegrid.places.public import Jurisdiction

    rows = session.execute(
        select(
            Jurisdiction.code,
            Jurisdiction.level,
            Jurisdiction.path,
            Jurisdiction.population,
            Jurisdiction.boundary,
        ).where(Jurisdiction.deleted_at.is_(None))
    ).all()
    stations = roll_up(
        (p, 1)
        for p in session.scalars(
            select(Station.jurisdiction_path).where(Station.deleted_at.is_(None))
        )
    )
    units = roll_up(
        (p, 1)
        for p in session.scalars(
            select(Vehicle.jurisdiction_path).where(Vehicle.deleted_at.is_(None))
        )
    )
    n_stations = session.scalar(select(func.count(Station.id)).where(Station.deleted_at.is_(None)))
    register = read_register(session)
    nodes = [TreeNode(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]
    population = population_by_level(nodes, register)
    boundaries = {(str(r[1]), str(r[0])): r[4] for r in rows}
    levels: dict[str, pl.DataFrame] = {}
    no_boundary = 0
    for level in SPATIAL_LEVELS:
        codes = population[level].codes
        areas = [boundary_area_km2(boundaries[(level, c)], epsg) for c in codes]
        no_boundary += sum(a is None for a in areas)
        frame = pl.DataFrame(
            {
                "code": pl.Series(codes, dtype=pl.String),
                "area_km2": pl.Series(areas, dtype=pl.Float64),
                "population": pl.Series(population[level].population, dtype=pl.Float64),
                "stations": pl.Series([stations[level].get(c, 0) for c in codes], dtype=pl.Float64),
                "units": pl.Series([units[level].get(c, 0) for c in codes], dtype=pl.Float64),
            }
        )
        levels[level] = _as_city_key(frame) if level == "city" else frame
    if no_boundary:
        warnings.append(
            f"area context: {no_boundary} jurisdictions have no boundary — their density and "
            "GB 51080 station indicators are left out"
        )
    if not n_stations:
        warnings.append("area context: no fire stations registered — stations count as 0")
    report = population_report(population, register)
    _population_warnings(report, warnings)
    sources["area_context"] = (
        f"jurisdictions (boundary area in EPSG:{epsg}), population (population register "
        "where it has rows inside the jurisdiction, else the jurisdiction tree), stations and "
        "vehicles (dispatch) by jurisdiction path"
    )
    return AreaContext(levels=levels, population_report=report)


def _levels_with(levels: dict[str, Any], key: str) -> str:
    """ "3 town, 5 grid": the levels whose report counts ``key``, with the counts."""
    return ", ".join(f"{b[key]} {lv}" for lv, b in levels.items() if b[key])


def _population_warnings(report: dict[str, Any], warnings: list[str]) -> None:
    levels = report["levels"]
    if partial := _levels_with(levels, "register_partial"):
        warnings.append(
            f"area context: the population register covers only some grids of {partial} — "
            "their population (the register's sum) is under-counted"
        )
    if nested := report["register_nested"]:
        listed = report["register_nested_paths"]
        shown = ", ".join(listed) + (", …" if nested > len(listed) else "")
        warnings.append(
            f"area context: {nested} jurisdictions have population register rows of their own "
            f"and rows inside them ({shown})"
            " — both are summed; if the own row is a total of the rows inside, residents are "
            "counted twice"
        )
    if unknown := _levels_with(levels, "no_population"):
        warnings.append(
            f"area context: no population for {unknown} (neither register rows nor a figure "
            "in the jurisdiction tree) — their population indicators are left out"
        )


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
