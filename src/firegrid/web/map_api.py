"""Basemap data for the console: boundaries, roads, venues, stations and hydrants as GeoJSON.

The console draws its map from these layers alone (no tiles, no fonts from outside), so
they are shaped for drawing: boundaries simplified to about a pixel at the asked zoom,
roads clipped to the view and thinned by class at low zoom, points clipped to the view.
Every route is authenticated and scoped to the caller's jurisdiction.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.api.geojson import feature, feature_collection, point_feature
from firegrid.api.schemas import FeatureCollection
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.dispatch.public import Hydrant, Station
from firegrid.geo.public import RoadClass, RoadNetwork
from firegrid.places.public import Jurisdiction, Venue
from firegrid.web import map_schemas as ms

router = APIRouter(prefix="/map", tags=["map"])

PlacesReader = Annotated[Principal, Depends(require("places:read"))]
ResourcesReader = Annotated[Principal, Depends(require("resources:read"))]

LEVELS = ("city", "town", "village", "grid")
MAX_POINTS = 5000
MAX_ROAD_SEGMENTS = 60000

#: Road class groups the console styles, and the smallest zoom at which each is drawn.
ROAD_GROUPS: dict[str, tuple[tuple[RoadClass, ...], int]] = {
    "major": (
        (
            RoadClass.MOTORWAY,
            RoadClass.TRUNK,
            RoadClass.PRIMARY,
            RoadClass.MOTORWAY_LINK,
            RoadClass.TRUNK_LINK,
            RoadClass.PRIMARY_LINK,
        ),
        0,
    ),
    "secondary": (
        (
            RoadClass.SECONDARY,
            RoadClass.TERTIARY,
            RoadClass.SECONDARY_LINK,
            RoadClass.TERTIARY_LINK,
        ),
        12,
    ),
    "minor": (
        (
            RoadClass.UNCLASSIFIED,
            RoadClass.RESIDENTIAL,
            RoadClass.SERVICE,
            RoadClass.LIVING_STREET,
        ),
        14,
    ),
}

BBox = tuple[float, float, float, float]


def parse_bbox(text: str | None) -> BBox | None:
    """``"minlon,minlat,maxlon,maxlat"`` → a tuple (None when not given)."""
    if text is None or text == "":
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationFailed("bbox must be 'minlon,minlat,maxlon,maxlat'", {"bbox": text})
    west, south, east, north = parts
    if west > east or south > north:
        raise ValidationFailed("bbox must be west,south,east,north", {"bbox": text})
    return west, south, east, north


def tolerance_deg(zoom: float) -> float:
    """About one screen pixel at ``zoom`` (256-pixel Web Mercator tiles), in degrees."""
    exponent = max(0.0, min(float(zoom), 22.0))
    return float(360.0 / (256.0 * math.pow(2.0, exponent)))


def simplify_ring(points: list[list[float]], tolerance: float) -> list[list[float]]:
    """Douglas-Peucker on a closed ring (keeps the ring closed and at least 4 points)."""
    if len(points) <= 4 or tolerance <= 0:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    tol2 = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        ax, ay = points[first][0], points[first][1]
        bx, by = points[last][0], points[last][1]
        dx, dy = bx - ax, by - ay
        norm = dx * dx + dy * dy
        best, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i][0], points[i][1]
            if norm == 0:
                dist = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / norm))
                dist = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if dist > best:
                best, index = dist, i
        if index > 0 and best > tol2:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    out = [p for p, k in zip(points, keep, strict=True) if k]
    if len(out) < 4:  # a ring needs 4 positions; keep the original shape's extremes
        step = max(1, (len(points) - 1) // 3)
        out = [points[0], points[step], points[min(2 * step, len(points) - 2)], points[-1]]
    return out


def simplify_geometry(geometry: dict[str, Any] | None, tolerance: float) -> dict[str, Any] | None:
    if not geometry:
        return None
    kind = geometry.get("type")
    if kind == "Polygon":
        rings = [simplify_ring(r, tolerance) for r in geometry["coordinates"]]
        return {"type": "Polygon", "coordinates": rings}
    if kind == "MultiPolygon":
        polygons = [[simplify_ring(r, tolerance) for r in p] for p in geometry["coordinates"]]
        return {"type": "MultiPolygon", "coordinates": polygons}
    return geometry


def _ring_bounds(geometry: dict[str, Any]) -> BBox | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(value: Any) -> None:
        if value and isinstance(value[0], int | float):
            xs.append(float(value[0]))
            ys.append(float(value[1]))
        else:
            for item in value:
                walk(item)

    walk(geometry.get("coordinates", []))
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _bbox_list(geometry: dict[str, Any] | None) -> list[float] | None:
    box = _ring_bounds(geometry) if geometry else None
    return list(box) if box else None


def _intersects(a: BBox, b: BBox) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


# Boundaries --------------------------------------------------------------------------------

_boundary_cache: OrderedDict[tuple[str, str, int, str], list[dict[str, Any]]] = OrderedDict()
_boundary_lock = threading.Lock()


def _boundary_features(
    session: Session, principal: Principal, level: str, zoom: int
) -> list[dict[str, Any]]:
    newest = session.scalar(
        select(Jurisdiction.updated_at).order_by(Jurisdiction.updated_at.desc()).limit(1)
    )
    key = (level, principal.scope_path, zoom, str(newest))
    with _boundary_lock:
        if key in _boundary_cache:
            _boundary_cache.move_to_end(key)
            return _boundary_cache[key]
    query = select(Jurisdiction).where(Jurisdiction.level == level)
    if level != "city":
        query = query.where(principal.scope_filter(Jurisdiction.path))
    else:  # the city outline stays visible to a user scoped below the city
        query = query.where(Jurisdiction.path.in_(_ancestor_paths(principal.scope_path)))
    tolerance = tolerance_deg(zoom)
    features = []
    for row in session.scalars(query.order_by(Jurisdiction.path)).all():
        geometry = simplify_geometry(row.boundary, tolerance)
        properties = {
            "id": row.id,
            "code": row.code,
            "level": row.level,
            "path": row.path,
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "center": [row.center_lon, row.center_lat],
            "population": row.population,
        }
        features.append({**feature(properties, geometry), "bbox": _bbox_list(geometry)})
    with _boundary_lock:
        _boundary_cache[key] = features
        while len(_boundary_cache) > 64:
            _boundary_cache.popitem(last=False)
    return features


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))] or ["/"]


@router.get(
    "/boundaries",
    response_model=ms.BoundariesOut,
    summary="Jurisdiction boundaries of one level, simplified for a zoom",
)
def boundaries(
    principal: PlacesReader,
    session: SessionDep,
    level: Annotated[str, Query(pattern="^(city|town|village|grid)$")] = "town",
    zoom: Annotated[int, Query(ge=0, le=22)] = 10,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
) -> dict[str, Any]:
    box = parse_bbox(bbox)
    features = _boundary_features(session, principal, level, zoom)
    if box is not None:
        features = [f for f in features if f["bbox"] is None or _intersects(tuple(f["bbox"]), box)]
    return feature_collection(features, level=level, zoom=zoom)


# Roads -------------------------------------------------------------------------------------


_networks: dict[str, tuple[str, RoadNetwork]] = {}
_network_lock = threading.Lock()


def active_network(db: Database, settings: Settings) -> RoadNetwork:
    """The active road network, loaded once per database and reloaded when it changes."""
    from firegrid.geo.store import active_record, load_network

    with db.session() as session:
        checksum = active_record(session).checksum
    with _network_lock:
        cached = _networks.get(db.url)
        if cached is not None and cached[0] == checksum:
            return cached[1]
    network = load_network(db, settings.data_dir)
    with _network_lock:
        _networks[db.url] = (checksum, network)
    return network


def road_groups_for_zoom(zoom: float) -> list[str]:
    """Road groups drawn at ``zoom`` (low zoom: motorway, trunk and primary only)."""
    return [name for name, (_, min_zoom) in ROAD_GROUPS.items() if zoom >= min_zoom]


@router.get(
    "/roads",
    response_model=ms.Layer[ms.RoadProperties],
    summary="Roads of the active network in a bbox, by class group",
)
def roads(
    _principal: PlacesReader,
    db: DbDep,
    settings: SettingsDep,
    bbox: Annotated[str, Query(description="minlon,minlat,maxlon,maxlat")],
    zoom: Annotated[int, Query(ge=0, le=22)] = 12,
    groups: Annotated[str | None, Query(description="major,secondary,minor")] = None,
) -> dict[str, Any]:
    box = parse_bbox(bbox)
    if box is None:
        raise ValidationFailed("bbox is required: 'minlon,minlat,maxlon,maxlat'", {"bbox": bbox})
    wanted = road_groups_for_zoom(zoom)
    if groups:
        asked = {g.strip() for g in groups.split(",") if g.strip()}
        unknown = asked - set(ROAD_GROUPS)
        if unknown:
            raise ValidationFailed("unknown road group", {"groups": sorted(unknown)})
        wanted = [g for g in wanted if g in asked]
    try:
        network = active_network(db, settings)
    except NotFound:
        return feature_collection([], truncated=False)
    lon, lat = network.node_lon, network.node_lat
    src, dst = network.edge_src, network.edge_dst
    west, south, east, north = box
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    # An edge is drawn once (the two directions of a two-way road are one line).
    once = network.oneway | (src < dst)
    visible = once & (inside[src] | inside[dst])
    features = []
    truncated = False
    budget = MAX_ROAD_SEGMENTS
    for name in wanted:
        classes = np.asarray([int(c) for c in ROAD_GROUPS[name][0]], dtype=np.uint8)
        mask = visible & np.isin(network.road_class, classes)
        idx = np.nonzero(mask)[0]
        if len(idx) > budget:
            idx, truncated = idx[:budget], True
        budget -= len(idx)
        if not len(idx):
            continue
        a, b = src[idx], dst[idx]
        coords = np.stack(
            [np.stack([lon[a], lat[a]], axis=1), np.stack([lon[b], lat[b]], axis=1)], axis=1
        )
        geometry = {"type": "MultiLineString", "coordinates": np.round(coords, 6).tolist()}
        features.append(feature({"group": name, "segments": len(idx)}, geometry))
    return feature_collection(features, truncated=truncated)


# Points ------------------------------------------------------------------------------------


def _within(model: Any, box: BBox | None) -> list[Any]:
    if box is None:
        return []
    west, south, east, north = box
    return [model.lon.between(west, east), model.lat.between(south, north)]


def _venue_colours(session: Session, principal: Principal) -> dict[int, dict[str, Any]]:
    """Three-colour status per venue from the monitoring centre, when the caller may see it."""
    if not principal.has("alarms:read"):
        return {}
    try:
        from firegrid.alarms.colours import colours
        from firegrid.core.clock import utcnow
    except ImportError:  # pragma: no cover - the alarms context is optional
        return {}
    items = colours(session, principal, "venue", utcnow())
    return {int(item["venue_id"]): item for item in items}


@router.get(
    "/venues",
    response_model=ms.VenuesLayer,
    summary="Venues in a bbox with their three-colour status",
)
def venues(
    principal: PlacesReader,
    session: SessionDep,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> dict[str, Any]:
    box = parse_bbox(bbox)
    query = select(
        Venue.id,
        Venue.name,
        Venue.category,
        Venue.lon,
        Venue.lat,
        Venue.is_key_unit,
        Venue.is_high_risk,
    ).where(
        Venue.deleted_at.is_(None),
        principal.scope_filter(Venue.jurisdiction_path),
        *_within(Venue, box),
    )
    if principal.role == "venue_manager":
        query = query.where(Venue.id.in_(principal.venue_ids))
    if category:
        query = query.where(Venue.category == category)
    rows = session.execute(query.order_by(Venue.id).limit(limit + 1)).all()
    truncated = len(rows) > limit
    colour_of = _venue_colours(session, principal)
    features = []
    for row in rows[:limit]:
        status = colour_of.get(row.id)
        properties = {
            "id": row.id,
            "name": row.name,
            "category": row.category,
            "key_unit": bool(row.is_key_unit),
            "high_risk": bool(row.is_high_risk),
            "colour": status["colour"] if status else ("green" if colour_of else None),
            "reasons": status["reasons"] if status else [],
        }
        features.append(point_feature(properties, row.lon, row.lat))
    return feature_collection(features, truncated=truncated, colours=bool(colour_of))


@router.get(
    "/stations",
    response_model=FeatureCollection[ms.StationProperties],
    summary="Fire stations (all kinds of forces)",
)
def stations(
    principal: ResourcesReader,
    session: SessionDep,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
) -> dict[str, Any]:
    box = parse_bbox(bbox)
    rows = session.scalars(
        select(Station)
        .where(
            Station.deleted_at.is_(None),
            principal.scope_filter(Station.jurisdiction_path),
            *_within(Station, box),
        )
        .order_by(Station.id)
        .limit(MAX_POINTS)
    ).all()
    properties = ("id", "code", "name", "station_type", "force_kind")
    return feature_collection(
        point_feature({name: getattr(r, name) for name in properties}, r.lon, r.lat) for r in rows
    )


@router.get(
    "/hydrants", response_model=ms.Layer[ms.HydrantProperties], summary="Hydrants in a bbox"
)
def hydrants(
    principal: ResourcesReader,
    session: SessionDep,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> dict[str, Any]:
    box = parse_bbox(bbox)
    rows = session.scalars(
        select(Hydrant)
        .where(
            Hydrant.deleted_at.is_(None),
            principal.scope_filter(Hydrant.jurisdiction_path),
            *_within(Hydrant, box),
        )
        .order_by(Hydrant.id)
        .limit(limit + 1)
    ).all()
    properties = ("id", "code", "status", "hydrant_type", "flow_lps")
    return feature_collection(
        (
            point_feature({name: getattr(r, name) for name in properties}, r.lon, r.lat)
            for r in rows[:limit]
        ),
        truncated=len(rows) > limit,
    )


#: Optional routes the console probes before it offers a feature: name -> (method, path).
OPTIONAL_ROUTES: dict[str, tuple[str, str]] = {
    "isochrones": ("GET", "/api/v1/geo/isochrones"),
    "coverage": ("GET", "/api/v1/geo/coverage"),
    "hydrant_gaps": ("GET", "/api/v1/geo/hydrant-gaps"),
    "alarm_feed": ("GET", "/api/v1/alarms/feed"),
    "incidents": ("GET", "/api/v1/incidents"),
    "alarm_forwards": ("POST", "/api/v1/alarm-forwards/consume"),
    "crew": ("GET", "/api/v1/crew/vehicles/{vehicle_id}"),
    "exports": ("GET", "/api/v1/exports/{kind}"),
}


@router.get(
    "/capabilities",
    response_model=ms.CapabilitiesOut,
    summary="Which optional services this server offers",
)
def capabilities(_principal: PlacesReader, request: Request) -> dict[str, bool]:
    """The console asks once instead of probing (a probe's 404 is noise in the console)."""
    paths = request.app.openapi().get("paths", {})  # built once, then cached by FastAPI
    present = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    return {name: spec in present for name, spec in OPTIONAL_ROUTES.items()}


@router.get(
    "/extent",
    response_model=ms.ExtentOut,
    summary="The caller's area: bbox and centre of its scope",
)
def extent(principal: PlacesReader, session: SessionDep) -> dict[str, Any]:
    row = session.scalars(
        select(Jurisdiction).where(Jurisdiction.path == principal.scope_path).limit(1)
    ).first()
    if row is None:
        row = session.scalars(
            select(Jurisdiction).where(Jurisdiction.level == "city").order_by(Jurisdiction.id)
        ).first()
    if row is None:
        return {"bbox": None, "center": None, "name_zh": None, "name_en": None}
    box = _ring_bounds(row.boundary) if row.boundary else None
    return {
        "bbox": list(box) if box else None,
        "center": [row.center_lon, row.center_lat],
        "level": row.level,
        "code": row.code,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
    }
