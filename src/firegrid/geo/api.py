"""HTTP routes of the geo context: route, nearest stations, coverage, isochrones, gaps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SettingsDep, require
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.problems import Problem
from firegrid.core.texts import Params, TextCode
from firegrid.geo import schemas
from firegrid.geo.errors import GeoError, NoReachableFacility
from firegrid.geo.facilities import SkippedFacility
from firegrid.geo.service import STATIONS, geo_context, network_summary
from firegrid.places.public import parse_crs, point_from_wgs84, point_to_wgs84

router = APIRouter(prefix="/geo", tags=["geo"])

GeoReader = Annotated[Principal, Depends(require("geo:read"))]
CrsQuery = Annotated[str, Query(description="CRS of given and returned points.")]


@contextmanager
def geo_errors() -> Iterator[None]:
    """Translate engine errors into the API's error envelope (422)."""
    try:
        yield
    except GeoError as exc:
        raise ValidationFailed(
            str(exc),
            {"kind": type(exc).__name__},
            text=TextCode.GEO_REFUSED,
            params=engine_error(exc),
        ) from exc


def engine_error(exc: GeoError) -> Params:
    """The ``error`` of ``geo.refused``: the engine's token when it is a known code, else
    ``geo_error`` with the token as ``detail``."""
    token = str(getattr(exc, "code", type(exc).__name__))
    try:
        return {"error": Problem(token)}
    except ValueError:
        return {"error": Problem.GEO_ERROR, "detail": token}


def parse_point(text: str, crs: str, name: str) -> tuple[float, float]:
    """``"lon,lat"`` in ``crs`` → WGS-84, naming the parameter when it is malformed."""
    try:
        lon_text, lat_text = text.split(",")
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be 'lon,lat', got {text!r}",
            {name: text},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": name, "value": text, "expected": "lon,lat"},
        ) from None
    from firegrid.places.public import validate_lon_lat

    validate_lon_lat(lon, lat)
    return point_to_wgs84(lon, lat, parse_crs(crs))


@router.get("/network", response_model=schemas.NetworkOut, summary="The active road network")
def network(_principal: GeoReader, db: DbDep) -> dict[str, Any]:
    return network_summary(db)


@router.get(
    "/route",
    response_model=schemas.RouteOut,
    summary="Fastest or shortest route between two points",
)
def route(
    _principal: GeoReader,
    db: DbDep,
    settings: SettingsDep,
    from_: Annotated[str, Query(alias="from", description="lon,lat")],
    to: Annotated[str, Query(description="lon,lat")],
    by: Annotated[str, Query(pattern="^(time|distance)$")] = "time",
    crs: CrsQuery = "wgs84",
) -> dict[str, Any]:
    origin = parse_point(from_, crs, "from")
    destination = parse_point(to, crs, "to")
    out_crs = parse_crs(crs)
    with geo_errors():
        context = geo_context(db, settings)
        result = context.engine.route(
            origin, destination, by="time" if by == "time" else "distance"
        )
    return {
        "travel_time_s": result.travel_time_s,
        "distance_m": result.distance_m,
        "node_ids": result.node_ids.tolist(),
        "coordinates": [list(point_from_wgs84(x, y, out_crs)) for x, y in result.coordinates],
    }


@router.get(
    "/nearest-stations",
    response_model=schemas.NearestStationsOut,
    summary="The k stations that reach a point first",
)
def nearest_stations(
    principal: GeoReader,
    db: DbDep,
    settings: SettingsDep,
    at: Annotated[str, Query(description="lon,lat")],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    crs: CrsQuery = "wgs84",
) -> dict[str, Any]:
    lon, lat = parse_point(at, crs, "at")
    with geo_errors():
        context = geo_context(db, settings)
        if not context.stations:
            raise NotFound(
                "no stations registered", text=TextCode.ENTITY_NONE_YET, params={"kind": "station"}
            )
        if not context.registered:
            visible = context.skipped_visible(principal.can_see_path)
            raise NoReachableFacility(
                "no station is on the road network: " + "; ".join(s.describe() for s in visible[:5])
            )
        nearest = context.engine.k_nearest(STATIONS, lon, lat, k=len(context.registered))
    out_crs = parse_crs(crs)
    items = []
    for answer in nearest:
        station = context.station(int(answer.facility_id))
        if not principal.can_see_path(station.jurisdiction_path):
            continue
        s_lon, s_lat = point_from_wgs84(station.lon, station.lat, out_crs)
        items.append(
            {
                "station_id": station.id,
                "code": station.code,
                "name": station.name,
                "station_type": station.station_type,
                "travel_time_s": answer.travel_time_s,
                "lon": s_lon,
                "lat": s_lat,
            }
        )
        if len(items) == k:
            break
    skipped = context.skipped_visible(principal.can_see_path)
    return {"at": [lon, lat], "items": items, "skipped": [s.as_dict() for s in skipped]}


@router.get(
    "/isochrones",
    response_model=schemas.IsochronesOut,
    summary="Isochrone polygons (GeoJSON) for stations or points",
)
def isochrones_route(
    principal: GeoReader,
    db: DbDep,
    settings: SettingsDep,
    station_id: Annotated[list[int] | None, Query(description="Station ids.")] = None,
    at: Annotated[list[str] | None, Query(description="Origins as lon,lat.")] = None,
    bands_s: Annotated[list[float] | None, Query(description="Time bands in seconds.")] = None,
    combine: bool = True,
    crs: CrsQuery = "wgs84",
) -> dict[str, Any]:
    from firegrid.geo.isochrones import isochrones

    with geo_errors():
        context = geo_context(db, settings)
        origins: list[tuple[float, float]] = []
        labels: list[str] = []
        skipped: list[SkippedFacility] = []
        for sid in station_id or []:
            station = context.station(sid)
            if not principal.can_see_path(station.jurisdiction_path):
                raise NotFound(
                    f"station {sid} not found",
                    {"station_id": sid},
                    text=TextCode.ENTITY_NOT_FOUND,
                    params={"kind": "station", "id": sid},
                )
            left_out = context.skipped_station(sid)
            if left_out is not None:
                skipped.append(left_out)
                continue
            origins.append((station.lon, station.lat))
            labels.append(f"station {station.code}")
        for text in at or []:
            origins.append(parse_point(text, crs, "at"))
            labels.append(f"at={text}")
        if not origins and skipped:
            raise NoReachableFacility(
                "no origin is on the road network: " + "; ".join(s.describe() for s in skipped)
            )
        if not origins:
            raise ValidationFailed(
                "give at least one station_id or at=lon,lat",
                text=TextCode.VALIDATION_MISSING,
                params={"field": "station_id"},
            )
        collection = isochrones(
            context.engine, origins, bands_s or [300.0, 600.0], combine=combine, labels=labels
        )
        collection["properties"] = {"skipped": [s.as_dict() for s in skipped]}
        return collection


@router.get(
    "/coverage",
    response_model=schemas.CoverageOut,
    summary="Coverage of your stations within travel-time bands",
)
def coverage_route(
    principal: GeoReader,
    db: DbDep,
    settings: SettingsDep,
    minutes: Annotated[list[float] | None, Query(description="Bands in minutes.")] = None,
    per_grid: bool = False,
) -> dict[str, Any]:
    from firegrid.geo.reports import coverage_report

    with geo_errors():
        return coverage_report(db, settings, minutes or [5.0], principal, per_grid=per_grid)


@router.get(
    "/hydrant-gaps",
    response_model=schemas.HydrantGapsOut,
    summary="Hydrant gaps after GB 50974 (GeoJSON)",
)
def hydrant_gaps_route(principal: GeoReader, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    from firegrid.geo.reports import hydrant_gap_report

    with geo_errors():
        return hydrant_gap_report(db, settings, principal)
