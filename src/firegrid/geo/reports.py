"""Coverage, first-due areas and hydrant gaps of a city's database, scoped to a caller.

These join the geo engine with the city model: stations and venues come from the database
(venue occupancy weighs population), zones are the grids and towns of each venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select

from firegrid.accounts.public import Principal, system_principal
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.public import Hydrant, HydrantStatus
from firegrid.geo.coverage import PointSet, coverage_bands, first_due_points
from firegrid.geo.errors import NoReachableFacility
from firegrid.geo.facilities import FacilityPoint, split_reachable
from firegrid.geo.hydrant_gaps import hydrant_gaps
from firegrid.geo.service import STATIONS, geo_context
from firegrid.places.public import Venue


def _path_level(paths: np.ndarray[Any, Any], depth: int) -> np.ndarray[Any, Any]:
    """The code at ``depth`` of each materialised path (1 = city, 2 = town, 4 = grid)."""
    return np.asarray(["/".join(p.split("/")[: depth + 1]) + "/" for p in paths.tolist()])


def _venues(database: Database, principal: Principal) -> dict[str, np.ndarray[Any, Any]]:
    with database.session() as session:
        rows = session.execute(
            select(Venue.id, Venue.lon, Venue.lat, Venue.occupancy, Venue.jurisdiction_path)
            .where(Venue.deleted_at.is_(None), principal.scope_filter(Venue.jurisdiction_path))
            .order_by(Venue.id)
        ).all()
    if not rows:
        empty = np.empty(0)
        return {"id": empty, "lon": empty, "lat": empty, "occupancy": empty, "path": empty}
    ids, lon, lat, occupancy, path = zip(*rows, strict=True)
    return {
        "id": np.asarray(ids, dtype=np.int64),
        "lon": np.asarray(lon, dtype=np.float64),
        "lat": np.asarray(lat, dtype=np.float64),
        "occupancy": np.asarray(occupancy, dtype=np.float64),
        "path": np.asarray(path, dtype=str),
    }


def coverage_report(
    database: Database,
    settings: Settings,
    minutes: Sequence[float] = (5.0,),
    principal: Principal | None = None,
    *,
    per_grid: bool = True,
) -> dict[str, Any]:
    """Coverage of the caller's stations within each band: area, roads, venues, population.

    Includes per-station figures, per-town and per-grid shares of population covered, and
    the first-due station of every venue.
    """
    principal = principal or system_principal("coverage")
    context = geo_context(database, settings)
    visible = [s for s in context.registered if principal.can_see_path(s.jurisdiction_path)]
    skipped = context.skipped_visible(principal.can_see_path)
    if not visible and skipped:
        raise NoReachableFacility(
            "no station in your area is on the road network: "
            + "; ".join(s.describe() for s in skipped[:5])
        )
    if not visible:
        raise NoReachableFacility("there is no station in your area: import stations first")
    engine = context.engine
    name = STATIONS
    if len(visible) != len(context.registered):
        name = f"{STATIONS}:{principal.scope_path}"
        if name not in engine.facility_names():
            full = engine.facilities(STATIONS)
            rows = [full.index(s.id) for s in visible]
            engine.register_facilities(name, nodes=full.nodes[rows], ids=[s.id for s in visible])
    venues = _venues(database, principal)
    point_sets = []
    if len(venues["id"]):
        point_sets = [
            PointSet(
                "population",
                venues["lon"],
                venues["lat"],
                venues["occupancy"],
                _path_level(venues["path"], 2),
            ),
        ]
        if per_grid:
            point_sets.append(
                PointSet(
                    "grid_population",
                    venues["lon"],
                    venues["lat"],
                    venues["occupancy"],
                    venues["path"],
                )
            )
    reports = coverage_bands(engine, name, [m * 60.0 for m in minutes], point_sets)
    by_id = {s.id: s for s in visible}
    bands = []
    for report in reports:
        combined = report.combined
        population = combined.points.get("population")
        bands.append(
            {
                "minutes": report.time_s / 60.0,
                "time_s": report.time_s,
                "stations": len(report.stations),
                "area_km2": round(combined.area_km2, 3),
                "road_length_km": round(combined.road_length_km, 3),
                "road_length_total_km": round(report.road_length_total_km, 3),
                "nodes_reached": combined.nodes_reached,
                "venues": population.points if population else 0,
                "venues_reached": population.points_reached if population else 0,
                "population": population.weight if population else 0.0,
                "population_reached": population.weight_reached if population else 0.0,
                "per_station": [
                    {
                        "station_id": c.facility_id,
                        "code": by_id[int(c.facility_id)].code,  # type: ignore[arg-type]
                        "name": by_id[int(c.facility_id)].name,  # type: ignore[arg-type]
                        "area_km2": round(c.area_km2, 3),
                        "road_length_km": round(c.road_length_km, 3),
                        "venues_reached": c.points["population"].points_reached
                        if "population" in c.points
                        else 0,
                        "population_reached": c.points["population"].weight_reached
                        if "population" in c.points
                        else 0.0,
                    }
                    for c in report.stations
                ],
                "per_town": _shares(report.zones.get("population", [])),
                "per_grid": _shares(report.zones.get("grid_population", [])),
            }
        )
    first_due: dict[str, Any] = {}
    if len(venues["id"]) and visible:
        index, time_s = first_due_points(engine, name, venues["lon"], venues["lat"])
        facility_ids = engine.facilities(name).ids
        counts: dict[int, int] = {}
        for i in index[index >= 0].tolist():
            counts[int(facility_ids[i])] = counts.get(int(facility_ids[i]), 0) + 1
        finite = time_s[np.isfinite(time_s)]
        first_due = {
            "venues_per_station": [
                {"station_id": sid, "code": by_id[sid].code, "venues": n}
                for sid, n in sorted(counts.items())
            ],
            "travel_time_s_p50": float(np.percentile(finite, 50)) if len(finite) else None,
            "travel_time_s_p90": float(np.percentile(finite, 90)) if len(finite) else None,
            "venues_unreached": int((index < 0).sum()),
        }
    return {
        "scope": principal.scope_path,
        "bands": bands,
        "first_due": first_due,
        "skipped": [s.as_dict() for s in skipped],
    }


def _shares(zones: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "path": str(z.zone),
            "code": str(z.zone).rstrip("/").rsplit("/", 1)[-1],
            "venues": z.points,
            "venues_reached": z.points_reached,
            "population": z.weight,
            "population_reached": z.weight_reached,
            "share": round(z.share, 4),
        }
        for z in zones
    ]


def hydrant_gap_report(
    database: Database, settings: Settings, principal: Principal | None = None
) -> dict[str, Any]:
    """GB 50974 check in the caller's area: uncovered venues, street gaps, proposals."""
    principal = principal or system_principal("hydrants")
    context = geo_context(database, settings)
    with database.session() as session:
        rows = session.execute(
            select(Hydrant.id, Hydrant.code, Hydrant.lon, Hydrant.lat)
            .where(
                Hydrant.deleted_at.is_(None),
                Hydrant.status != HydrantStatus.OUT_OF_SERVICE.value,
                principal.scope_filter(Hydrant.jurisdiction_path),
            )
            .order_by(Hydrant.id)
        ).all()
    points = [FacilityPoint("hydrant", r.id, r.code, r.lon, r.lat) for r in rows]
    keep, skipped = split_reachable(context.engine, points)
    hydrants = [(points[i].lon, points[i].lat) for i in keep]
    venues = _venues(database, principal)
    report = hydrant_gaps(
        context.engine,
        np.asarray(hydrants, dtype=np.float64).reshape(-1, 2),
        np.column_stack([venues["lon"], venues["lat"]]),
        venue_ids=venues["id"].tolist(),
    )
    collection = report.to_geojson()
    collection["properties"]["hydrants_in_service"] = len(rows)
    collection["properties"]["scope"] = principal.scope_path
    collection["properties"]["skipped"] = [s.as_dict() for s in skipped]
    return collection
