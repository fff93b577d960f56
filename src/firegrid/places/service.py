"""The rules of the places context: locating points, validating and preparing rows."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.errors import Conflict, OutsideCity, ValidationFailed
from firegrid.core.problems import Problem, detail
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext
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
        raise ValidationFailed(
            f"unknown {field} code {code!r}",
            {field: code},
            text=TextCode.PLACE_UNKNOWN_CODE,
            params={"what": field, "code": code},
        )
    return row


def ensure_unique_code(session: Session, model: Any, code: str, what: str) -> None:
    if session.scalars(select(model.id).where(model.code == code)).first() is not None:
        raise Conflict(
            f"{what} with code {code!r} already exists",
            {"code": code},
            text=TextCode.PLACE_CODE_TAKEN,
            params={"code": code},
        )


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
            raise ValidationFailed(
                f"{what} needs both lon and lat",
                text=TextCode.VALIDATION_LON_LAT_PAIR,
                params={"field": what},
            )
        raise ValidationFailed(
            "give both lon and lat to move a located object",
            text=TextCode.VALIDATION_LON_LAT_PAIR,
            params={"field": "lon, lat"},
        )
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
                raise ValidationFailed(
                    f"a {level} needs a parent_code",
                    {"parent_code": None},
                    text=TextCode.VALIDATION_MISSING,
                    params={"field": "parent_code"},
                )
            parent = jurisdiction_by_code(ctx.session, parent_code, "parent")
            expected_parent = LEVEL_ORDER[LEVEL_ORDER.index(level) - 1]
            if parent.level != expected_parent:
                raise ValidationFailed(
                    f"a {level} must have a {expected_parent} as parent, not a {parent.level}",
                    {"parent_code": parent.code},
                    text=TextCode.PLACE_WRONG_PARENT,
                    params={
                        "kind": level,
                        "expected_kind": expected_parent,
                        "parent_kind": parent.level,
                    },
                )
            values["parent_id"] = parent.id
            values["path"] = child_path(parent, values["code"])
    if "boundary" in values and values["boundary"] is not None:
        values["boundary"] = boundary_to_wgs84(values["boundary"], ctx.crs)
        level = existing.level if existing is not None else values["level"]
        code = existing.code if existing is not None else values["code"]
        if level == JurisdictionLevel.CITY:
            if existing is not None:
                check_city_outline_keeps_children(ctx.session, values["boundary"], code)
        else:
            check_within_city(ctx.session, values["boundary"], level, code)
    if "lon" in values or "lat" in values:
        lon, lat = values.pop("lon", None), values.pop("lat", None)
        if lon is None or lat is None:
            raise ValidationFailed(
                "give both lon and lat for the centre",
                text=TextCode.VALIDATION_LON_LAT_PAIR,
                params={"field": "centre"},
            )
        validate_lon_lat(lon, lat)
        values["center_lon"], values["center_lat"] = point_to_wgs84(lon, lat, ctx.crs)
        jurisdiction_index(ctx.session).check_inside_city(
            values["center_lon"], values["center_lat"], "centre"
        )
    return {k: v for k, v in values.items() if v is not None}


#: How far (metres) a town's or grid's outline may stray outside the city's: surveyed
#: boundaries of different sources never nest exactly.
OUTLINE_TOLERANCE_M = 100.0
_METRES_PER_DEGREE = 111_320.0


def _tolerant(city: Any) -> Any:
    return city.buffer(OUTLINE_TOLERANCE_M / _METRES_PER_DEGREE)


def check_within_city(session: Session, boundary: dict[str, Any], level: str, code: str) -> None:
    """Refuse a town/village/grid outline that lies (partly) outside the city's outline."""
    city = jurisdiction_index(session).city
    if city is None:
        return
    geometry = shape(boundary)
    if _tolerant(city).covers(geometry):
        return
    outside = geometry.difference(city)
    share = outside.area / geometry.area if geometry.area else 1.0
    centre = geometry.representative_point()
    raise OutsideCity(
        f"the boundary of {level} {code} lies {share:.0%} outside the city outline "
        f"(more than {OUTLINE_TOLERANCE_M:.0f} m beyond it, e.g. around "
        f"{centre.x:.6f}, {centre.y:.6f}): a {level} must lie within the city",
        {"boundary": None, "code": code, "outside_share": round(share, 4)},
        text=TextCode.PLACE_BOUNDARY_OUTSIDE_CITY,
        params={"kind": level, "code": code, "share_pct": round(share * 100)},
    )


def check_city_outline_keeps_children(
    session: Session, boundary: dict[str, Any], code: str
) -> None:
    """Refuse a new city outline that would leave live towns, villages or grids outside."""
    outline = _tolerant(shape(boundary))
    rows = session.execute(
        select(
            Jurisdiction.code,
            Jurisdiction.boundary,
            Jurisdiction.center_lon,
            Jurisdiction.center_lat,
        )
        .where(Jurisdiction.deleted_at.is_(None), Jurisdiction.level != JurisdictionLevel.CITY)
        .order_by(Jurisdiction.id)
    ).all()
    if not rows:
        return
    geometries = [
        shape(r.boundary) if r.boundary else shapely.Point(r.center_lon, r.center_lat) for r in rows
    ]
    inside = shapely.covers(outline, np.asarray(geometries, dtype=object))
    left_out = [rows[i].code for i in np.flatnonzero(~inside).tolist()]
    if left_out:
        raise OutsideCity(
            f"the new outline of city {code} would leave {len(left_out)} jurisdiction(s) "
            f"outside it: {', '.join(left_out[:5])}{' …' if len(left_out) > 5 else ''}",
            {"boundary": None, "outside": left_out[:20]},
            text=TextCode.PLACE_CITY_OUTLINE_LEAVES_OUT,
            params={"code": code, "count": len(left_out), "examples": left_out[:5]},
        )


def check_jurisdiction_delete(ctx: WriteContext, row: Any) -> None:
    """The city, and a jurisdiction with live children, cannot be deleted: everything
    located in them would lose its outline (and the city check with it)."""
    if row.level == JurisdictionLevel.CITY:
        raise Conflict(
            f"the city {row.code} cannot be deleted: it is the outline every place, "
            "station and hydrant is checked against",
            {"code": row.code},
            text=TextCode.PLACE_CITY_UNDELETABLE,
            params={"code": row.code},
        )
    child = ctx.session.scalars(
        select(Jurisdiction.code).where(
            Jurisdiction.parent_id == row.id, Jurisdiction.deleted_at.is_(None)
        )
    ).first()
    if child is not None:
        raise Conflict(
            f"{row.level} {row.code} still has live children (e.g. {child}): delete them first",
            {"code": row.code, "child": child},
            text=TextCode.PLACE_HAS_CHILDREN,
            params={"code": row.code, "child": child},
        )


def _prepare_city(ctx: WriteContext, values: dict[str, Any], parent_code: str | None) -> None:
    if parent_code:
        raise ValidationFailed(
            "a city has no parent",
            {"parent_code": parent_code},
            text=TextCode.PLACE_CITY_HAS_NO_PARENT,
            params={},
        )
    existing_city = ctx.session.scalars(
        select(Jurisdiction.code).where(
            Jurisdiction.level == JurisdictionLevel.CITY, Jurisdiction.deleted_at.is_(None)
        )
    ).first()
    if existing_city is not None:
        raise Conflict(
            f"the city {existing_city!r} already exists",
            {"code": values["code"]},
            text=TextCode.PLACE_CITY_EXISTS,
            params={"code": existing_city},
        )
    if ctx.principal.scope_path != "/":
        raise ValidationFailed(
            "only a platform-wide administrator may create the city",
            text=TextCode.ACCESS_PLATFORM_ADMIN,
            params={},
        )
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
        raise ValidationFailed(
            f"boundary is not a GeoJSON geometry: {exc}",
            text=TextCode.GEO_BAD_BOUNDARY,
            params={"problem": Problem.NOT_GEOMETRY, "detail": detail(exc)},
        ) from None
    if polygon.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed(
            f"boundary must be a Polygon or MultiPolygon, not {polygon.geom_type}",
            text=TextCode.GEO_BAD_BOUNDARY,
            params={"problem": Problem.NOT_POLYGON, "geometry_type": polygon.geom_type},
        )
    if not polygon.is_valid:
        raise ValidationFailed(
            "boundary polygon is not valid (self-intersection?)",
            text=TextCode.GEO_BAD_BOUNDARY,
            params={"problem": Problem.SELF_INTERSECTION},
        )
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
            raise ValidationFailed(
                f"{code!r} is a {grid.level}, not a grid",
                {"grid_code": code},
                text=TextCode.PLACE_NOT_A_GRID,
                params={"code": code, "kind": grid.level},
            )
        values["grid_id"] = grid.id
        values["jurisdiction_path"] = grid.path
    return {k: v for k, v in values.items() if v is not None}
