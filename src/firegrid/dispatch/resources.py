"""Rules for fire-service resources: stations, vehicles, hydrants, logistics points."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.core.writes import WriteContext
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle
from firegrid.geo.facilities import check_on_network
from firegrid.places.service import ensure_unique_code, resolve_point


def _locate(
    ctx: WriteContext, values: dict[str, Any], existing: Any, model: Any, kind: str
) -> dict[str, Any]:
    """Check the code, convert and locate the point (inside the city, on the road network)."""
    what = kind.replace("_", " ")
    if existing is None:
        ensure_unique_code(ctx.session, model, values["code"], what)
    if "lon" in values or "lat" in values:
        lon, lat = values.get("lon"), values.get("lat")
        if lon is None or lat is None:
            raise ValidationFailed(
                f"give both lon and lat for the {what}",
                text=TextCode.VALIDATION_LON_LAT_PAIR,
                params={"field": what},
            )
        code = values.get("code") or existing.code
        label = f"{what} {code}"
        values["lon"], values["lat"], grid = resolve_point(ctx.session, lon, lat, ctx.crs, label)
        check_on_network(ctx.session, kind, code, values["lon"], values["lat"])
        values["jurisdiction_id"] = grid.id
        values["jurisdiction_path"] = grid.path
    return {k: v for k, v in values.items() if v is not None}


def prepare_station(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    return _locate(ctx, values, existing, Station, "station")


def prepare_hydrant(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    return _locate(ctx, values, existing, Hydrant, "hydrant")


def prepare_logistics_point(
    ctx: WriteContext, values: dict[str, Any], existing: Any
) -> dict[str, Any]:
    return _locate(ctx, values, existing, LogisticsPoint, "logistics_point")


def prepare_vehicle(ctx: WriteContext, values: dict[str, Any], existing: Any) -> dict[str, Any]:
    if existing is None:
        ensure_unique_code(ctx.session, Vehicle, values["code"], "vehicle")
    code = values.pop("station_code", None)
    if code is not None:
        station = ctx.session.scalars(
            select(Station).where(Station.code == code, Station.deleted_at.is_(None))
        ).first()
        if station is None or not ctx.principal.can_see_path(station.jurisdiction_path):
            raise ValidationFailed(
                f"unknown station code {code!r}",
                {"station_code": code},
                text=TextCode.PLACE_UNKNOWN_CODE,
                params={"what": "station", "code": code},
            )
        values["station_id"] = station.id
        values["jurisdiction_path"] = station.jurisdiction_path
    return {k: v for k, v in values.items() if v is not None}
