"""The rules of the places context: locating points, validating and preparing rows."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.api.crud import WriteContext
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.places.crs import Crs, point_to_wgs84, to_wgs84, validate_lon_lat
from firegrid.places.locate import GridRef, jurisdiction_index
from firegrid.places.models import LEVEL_ORDER, GridWorker, Jurisdiction, JurisdictionLevel, Venue
from firegrid.places.taxonomy import load_taxonomy


def resolve_point(
    session: Session, lon: float, lat: float, crs: Crs, what: str = "point"
) -> tuple[float, float, GridRef]:
    """Convert a point to WGS-84, refuse it outside the city, and find its grid."""
    validate_lon_lat(lon, lat)
    wgs_lon, wgs_lat = point_to_wgs84(lon, lat, crs)
    grid = jurisdiction_index(session).locate(wgs_lon, wgs_lat, what)
    return wgs_lon, wgs_lat, grid


def jurisdiction_by_code(session: Session, code: str, field: str = "jurisdiction") -> Jurisdiction:
    row = session.scalars(
        select(Jurisdiction).where(Jurisdiction.code == code, Jurisdiction.deleted_at.is_(None))
    ).first()
    if row is None:
        raise ValidationFailed(f"unknown {field} code {code!r}", {field: code})
    return row


def ensure_unique_code(session: Session, model: Any, code: str, what: str) -> None:
    if session.scalars(select(model.id).where(model.code == code)).first() is not None:
        raise Conflict(f"{what} with code {code!r} already exists", {"code": code})


def _move_point(
    ctx: WriteContext, values: dict[str, Any], existing: Any, what: str
) -> GridRef | None:
    """Resolve lon/lat in ``values`` (partial updates keep the other coordinate)."""
    if "lon" not in values and "lat" not in values:
        return None
    lon = values.get("lon")
    lat = values.get("lat")
    if lon is None or lat is None:
        if existing is None:
            raise ValidationFailed(f"{what} needs both lon and lat")
        raise ValidationFailed("give both lon and lat to move a located object")
    values["lon"], values["lat"], grid = resolve_point(ctx.session, lon, lat, ctx.crs, what)
    return grid


def prepare_venue(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    """Validate the category, convert and locate the point, set the jurisdiction."""
    taxonomy = load_taxonomy()
    if "category" in values and values["category"] is not None:
        taxonomy.category(values["category"])
    if existing is None:
        ensure_unique_code(ctx.session, Venue, values["code"], "venue")
    grid = _move_point(ctx, values, existing, f"venue {values.get('code') or existing.code}")
    if grid is not None:
        values["jurisdiction_id"] = grid.id
        values["jurisdiction_path"] = grid.path
    return {k: v for k, v in values.items() if v is not None or k == "built_year"}


def child_path(parent: Jurisdiction, code: str) -> str:
    return f"{parent.path}{code}/"


def prepare_jurisdiction(
    ctx: WriteContext, values: dict[str, Any], existing: Any
) -> dict[str, Any]:
    """Check the level against the parent's, compute the path, convert the centre."""
    if existing is None:
        ensure_unique_code(ctx.session, Jurisdiction, values["code"], "jurisdiction")
        level = JurisdictionLevel(values["level"])
        parent_code = values.pop("parent_code", None)
        if level is JurisdictionLevel.CITY:
            _prepare_city(ctx, values, parent_code)
        else:
            if not parent_code:
                raise ValidationFailed(f"a {level} needs a parent_code", {"parent_code": None})
            parent = jurisdiction_by_code(ctx.session, parent_code, "parent")
            expected_parent = LEVEL_ORDER[LEVEL_ORDER.index(level) - 1]
            if parent.level != expected_parent:
                raise ValidationFailed(
                    f"a {level} must have a {expected_parent} as parent, not a {parent.level}",
                    {"parent_code": parent.code},
                )
            values["parent_id"] = parent.id
            values["path"] = child_path(parent, values["code"])
    if "boundary" in values and values["boundary"] is not None:
        values["boundary"] = boundary_to_wgs84(values["boundary"], ctx.crs)
    if "lon" in values or "lat" in values:
        lon, lat = values.pop("lon", None), values.pop("lat", None)
        if lon is None or lat is None:
            raise ValidationFailed("give both lon and lat for the centre")
        validate_lon_lat(lon, lat)
        values["center_lon"], values["center_lat"] = point_to_wgs84(lon, lat, ctx.crs)
        jurisdiction_index(ctx.session).check_inside_city(
            values["center_lon"], values["center_lat"], "centre"
        )
    return {k: v for k, v in values.items() if v is not None}


def _prepare_city(ctx: WriteContext, values: dict[str, Any], parent_code: str | None) -> None:
    if parent_code:
        raise ValidationFailed("a city has no parent", {"parent_code": parent_code})
    existing_city = ctx.session.scalars(
        select(Jurisdiction.code).where(
            Jurisdiction.level == JurisdictionLevel.CITY, Jurisdiction.deleted_at.is_(None)
        )
    ).first()
    if existing_city is not None:
        raise Conflict(f"the city {existing_city!r} already exists", {"code": values["code"]})
    if ctx.principal.scope_path != "/":
        raise ValidationFailed("only a platform-wide administrator may create the city")
    values["parent_id"] = None
    values["path"] = f"/{values['code']}/"


def boundary_to_wgs84(geometry: dict[str, Any], crs: Crs) -> dict[str, Any]:
    """Validate a boundary given in ``crs`` and return it as WGS-84 GeoJSON."""
    validate_boundary(geometry)
    if crs is Crs.WGS84:
        return geometry
    polygon = shapely.transform(
        shape(geometry), lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))
    )
    result: dict[str, Any] = json.loads(json.dumps(mapping(polygon)))  # tuples → lists
    return result


def validate_boundary(geometry: dict[str, Any]) -> None:
    """Refuse a boundary that is not a valid (Multi)Polygon in degrees."""
    try:
        polygon = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds on bad input
        raise ValidationFailed(f"boundary is not a GeoJSON geometry: {exc}") from None
    if polygon.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed(
            f"boundary must be a Polygon or MultiPolygon, not {polygon.geom_type}"
        )
    if not polygon.is_valid:
        raise ValidationFailed("boundary polygon is not valid (self-intersection?)")
    min_x, min_y, max_x, max_y = polygon.bounds
    validate_lon_lat(min_x, min_y)
    validate_lon_lat(max_x, max_y)


def prepare_grid_worker(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    if existing is None:
        ensure_unique_code(ctx.session, GridWorker, values["code"], "grid worker")
    code = values.pop("grid_code", None)
    if code is not None:
        grid = jurisdiction_by_code(ctx.session, code, "grid")
        if grid.level != JurisdictionLevel.GRID:
            raise ValidationFailed(f"{code!r} is a {grid.level}, not a grid", {"grid_code": code})
        values["grid_id"] = grid.id
        values["jurisdiction_path"] = grid.path
    return {k: v for k, v in values.items() if v is not None}
