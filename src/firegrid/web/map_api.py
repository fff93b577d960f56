"""Basemap data for the console: boundaries, roads, venues, stations and hydrants as GeoJSON.

The console draws its map from these layers alone (no tiles, no fonts from outside), so
they are shaped for drawing: boundaries simplified to about a pixel at the asked zoom,
roads clipped to the view and thinned by class at low zoom, points clipped to the view.
Every route is authenticated and scoped to the caller's jurisdiction.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.routing import Match

from firegrid.accounts.public import Principal
from firegrid.api.deps import DbDep, SessionDep, SettingsDep, require
from firegrid.api.geojson import feature, feature_collection, point_feature
from firegrid.api.schemas import FeatureCollection
from firegrid.core.db import Database
from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.devices.public import Device, DeviceStateRow
from firegrid.dispatch.public import Hydrant, Station
from firegrid.geo.public import RoadClass, RoadNetwork, road_labels
from firegrid.places.public import Jurisdiction, Venue
from firegrid.web import map_schemas as ms
from firegrid.web.clusters import Clusters, grid_clusters, should_cluster, world_px
from firegrid.web.layer_http import BodyCache, dumps, layer_response

router = APIRouter(prefix="/map", tags=["map"])

PlacesReader = Annotated[Principal, Depends(require("places:read"))]
ResourcesReader = Annotated[Principal, Depends(require("resources:read"))]
DevicesReader = Annotated[Principal, Depends(require("devices:read"))]

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
        raise ValidationFailed(
            "bbox must be 'minlon,minlat,maxlon,maxlat'",
            {"bbox": text},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "bbox", "value": text, "expected": "minlon,minlat,maxlon,maxlat"},
        )
    west, south, east, north = parts
    if west > east or south > north:
        raise ValidationFailed(
            "bbox must be west,south,east,north",
            {"bbox": text},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "bbox", "value": text, "expected": "west,south,east,north"},
        )
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


def round_geometry(geometry: dict[str, Any] | None, decimals: int) -> dict[str, Any] | None:
    """``geometry`` with its coordinates rounded (a tenth of a pixel is enough to draw)."""
    if not geometry:
        return geometry

    def walk(value: Any) -> Any:
        if value and isinstance(value[0], int | float):
            return [round(float(v), decimals) for v in value]
        return [walk(item) for item in value]

    return {**geometry, "coordinates": walk(geometry.get("coordinates", []))}


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
    decimals = coordinate_decimals(zoom)
    features = []
    for row in session.scalars(query.order_by(Jurisdiction.path)).all():
        geometry = round_geometry(simplify_geometry(row.boundary, tolerance), decimals)
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


_bodies = BodyCache(size=256)


@router.get(
    "/boundaries",
    response_model=ms.BoundariesOut,
    summary="Jurisdiction boundaries of one level, simplified for a zoom",
)
def boundaries(
    principal: PlacesReader,
    session: SessionDep,
    request: Request,
    level: Annotated[str, Query(pattern="^(city|town|village|grid)$")] = "town",
    zoom: Annotated[int, Query(ge=0, le=22)] = 10,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
) -> Response:
    box = parse_bbox(bbox)
    newest = session.scalar(
        select(Jurisdiction.updated_at).order_by(Jurisdiction.updated_at.desc()).limit(1)
    )
    key = f"boundaries|{level}|{principal.scope_path}|{zoom}|{box}|{newest}"

    def build() -> dict[str, Any]:
        features = _boundary_features(session, principal, level, zoom)
        if box is not None:
            features = [
                f for f in features if f["bbox"] is None or _intersects(tuple(f["bbox"]), box)
            ]
        return feature_collection(features, level=level, zoom=zoom)

    return _bodies.respond(request, key, build)


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


def coordinate_decimals(zoom: float) -> int:
    """Decimals of a degree that keep a coordinate within a tenth of a pixel at ``zoom``."""
    px_per_degree = 256.0 * math.pow(2.0, zoom) / 360.0
    return max(3, min(6, math.ceil(math.log10(px_per_degree * 10.0))))


def visible_segments(
    network: RoadNetwork, idx: npt.NDArray[np.int64], zoom: float
) -> npt.NDArray[np.int64]:
    """Of the edges ``idx``, those that are more than a point at ``zoom``, drawn once.

    Both ends are put on the screen's pixel grid: an edge whose ends fall in one pixel is
    invisible, and two edges between the same two pixels are one line on screen.
    """
    if not len(idx):
        return idx
    src, dst = network.edge_src[idx], network.edge_dst[idx]
    ax, ay = world_px(network.node_lon[src], network.node_lat[src], zoom)
    bx, by = world_px(network.node_lon[dst], network.node_lat[dst], zoom)
    a = np.floor(ax).astype(np.int64) * (1 << 32) + np.floor(ay).astype(np.int64)
    b = np.floor(bx).astype(np.int64) * (1 << 32) + np.floor(by).astype(np.int64)
    seen = a != b
    low, high = np.minimum(a, b), np.maximum(a, b)
    pairs = np.stack([low, high], axis=1)[seen]
    _, first = np.unique(pairs, axis=0, return_index=True)
    kept: npt.NDArray[np.int64] = idx[np.nonzero(seen)[0][np.sort(first)]]
    return kept


@router.get(
    "/roads",
    response_model=ms.Layer[ms.RoadProperties],
    summary="Roads of the active network in a bbox, by class group",
)
def roads(
    _principal: PlacesReader,
    db: DbDep,
    settings: SettingsDep,
    request: Request,
    bbox: Annotated[str, Query(description="minlon,minlat,maxlon,maxlat")],
    zoom: Annotated[int, Query(ge=0, le=22)] = 12,
    groups: Annotated[str | None, Query(description="major,secondary,minor")] = None,
) -> Response:
    box = parse_bbox(bbox)
    if box is None:
        raise ValidationFailed(
            "bbox is required: 'minlon,minlat,maxlon,maxlat'",
            {"bbox": bbox},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "bbox"},
        )
    wanted = road_groups_for_zoom(zoom)
    if groups:
        asked = {g.strip() for g in groups.split(",") if g.strip()}
        unknown = asked - set(ROAD_GROUPS)
        if unknown:
            raise ValidationFailed(
                "unknown road group",
                {"groups": sorted(unknown)},
                text=TextCode.VALIDATION_UNKNOWN_VALUE,
                params={"field": "groups", "value": sorted(unknown), "allowed": list(ROAD_GROUPS)},
            )
        wanted = [g for g in wanted if g in asked]
    from firegrid.geo.store import active_record

    try:
        with db.session() as session:
            checksum = active_record(session).checksum
    except NotFound:
        return layer_response(request, dumps(feature_collection([], truncated=False)))
    key = f"roads|{db.url}|{checksum}|{box}|{zoom}|{','.join(wanted)}"
    return _bodies.respond(
        request, key, lambda: _road_layer(active_network(db, settings), box, zoom, wanted)
    )


def _road_layer(network: RoadNetwork, box: BBox, zoom: int, wanted: list[str]) -> dict[str, Any]:
    lon, lat = network.node_lon, network.node_lat
    src, dst = network.edge_src, network.edge_dst
    west, south, east, north = box
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    # An edge is drawn once (the two directions of a two-way road are one line).
    once = network.oneway | (src < dst)
    visible = once & (inside[src] | inside[dst])
    decimals = coordinate_decimals(zoom)
    features = []
    truncated = False
    budget = MAX_ROAD_SEGMENTS
    for name in wanted:
        classes = np.asarray([int(c) for c in ROAD_GROUPS[name][0]], dtype=np.uint8)
        mask = visible & np.isin(network.road_class, classes)
        idx = visible_segments(network, np.nonzero(mask)[0].astype(np.int64), zoom)
        if len(idx) > budget:
            idx, truncated = idx[:budget], True
        budget -= len(idx)
        if not len(idx):
            continue
        a, b = src[idx], dst[idx]
        coords = np.stack(
            [np.stack([lon[a], lat[a]], axis=1), np.stack([lon[b], lat[b]], axis=1)], axis=1
        )
        geometry = {"type": "MultiLineString", "coordinates": np.round(coords, decimals).tolist()}
        features.append(feature({"group": name, "segments": len(idx)}, geometry))
    return feature_collection(features, truncated=truncated)


#: From this zoom the names of roads are written on the map.
ROAD_LABEL_MIN_ZOOM = 14
MAX_ROAD_LABELS = 400


@router.get(
    "/road-labels",
    response_model=FeatureCollection[ms.RoadLabelProperties],
    summary="Names of the roads in a bbox (from the OSM import), at street zoom",
)
def road_label_layer(
    _principal: PlacesReader,
    db: DbDep,
    request: Request,
    bbox: Annotated[str, Query(description="minlon,minlat,maxlon,maxlat")],
    zoom: Annotated[int, Query(ge=0, le=22)] = 15,
) -> Response:
    box = parse_bbox(bbox)
    if box is None:
        raise ValidationFailed(
            "bbox is required: 'minlon,minlat,maxlon,maxlat'",
            {"bbox": bbox},
            text=TextCode.VALIDATION_MISSING,
            params={"field": "bbox"},
        )
    from firegrid.geo.store import active_record

    try:
        with db.session() as session:
            record = active_record(session)
            version = f"{record.id}|{record.checksum}|{record.created_at}"  # each import anew
    except NotFound:
        return layer_response(request, dumps(feature_collection([])))
    key = f"road-labels|{db.url}|{version}|{box}|{zoom}"

    def build() -> dict[str, Any]:
        if zoom < ROAD_LABEL_MIN_ZOOM:
            return feature_collection([])
        with db.session() as session:
            rows = road_labels(session, box, MAX_ROAD_LABELS)
        return feature_collection(
            point_feature({"name": r["name"], "road_class": r["road_class"]}, r["lon"], r["lat"])
            for r in rows
        )

    return _bodies.respond(request, key, build)


# Points ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointSnapshot:
    """One layer's points in a caller's scope, as arrays (a cached copy of the table)."""

    ids: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    props: list[dict[str, Any]]

    @classmethod
    def of(cls, rows: list[Any], names: tuple[str, ...]) -> PointSnapshot:
        return cls(
            np.asarray([r.id for r in rows], dtype=np.int64),
            np.asarray([r.lon for r in rows], dtype=np.float64),
            np.asarray([r.lat for r in rows], dtype=np.float64),
            [{name: getattr(r, name) for name in names} for r in rows],
        )

    def in_box(self, box: BBox | None) -> npt.NDArray[np.int64]:
        if box is None:
            return np.arange(len(self.ids), dtype=np.int64)
        west, south, east, north = box
        mask = (self.lon >= west) & (self.lon <= east) & (self.lat >= south) & (self.lat <= north)
        return np.nonzero(mask)[0].astype(np.int64)


_snapshots: OrderedDict[tuple[Any, ...], PointSnapshot] = OrderedDict()
_snapshot_lock = threading.Lock()
SNAPSHOTS_KEPT = 24


def table_version(session: Session, model: Any) -> str:
    """Changes whenever a row of ``model`` is added, edited or soft-deleted."""
    row = session.execute(
        select(func.count(model.id), func.max(model.updated_at), func.max(model.id))
    ).one()
    return f"{row[0]}:{row[1]}:{row[2]}"


def _snapshot(key: tuple[Any, ...], load: Any) -> PointSnapshot:
    with _snapshot_lock:
        found = _snapshots.get(key)
        if found is not None:
            _snapshots.move_to_end(key)
            return found
    snapshot: PointSnapshot = load()
    with _snapshot_lock:
        _snapshots[key] = snapshot
        while len(_snapshots) > SNAPSHOTS_KEPT:
            _snapshots.popitem(last=False)
    return snapshot


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


VENUE_FIELDS = ("id", "name", "category", "key_unit", "high_risk")


def _venue_snapshot(session: Session, principal: Principal, category: str | None) -> PointSnapshot:
    managed = tuple(sorted(principal.venue_ids)) if principal.role == "venue_manager" else None
    key = ("venues", principal.scope_path, managed, category, table_version(session, Venue))

    def load() -> PointSnapshot:
        query = select(
            Venue.id,
            Venue.name,
            Venue.category,
            Venue.lon,
            Venue.lat,
            Venue.is_key_unit.label("key_unit"),
            Venue.is_high_risk.label("high_risk"),
        ).where(Venue.deleted_at.is_(None), principal.scope_filter(Venue.jurisdiction_path))
        if managed is not None:
            query = query.where(Venue.id.in_(managed))
        if category:
            query = query.where(Venue.category == category)
        rows = session.execute(query.order_by(Venue.id)).all()
        snap = PointSnapshot.of(list(rows), VENUE_FIELDS)
        for props in snap.props:
            props["key_unit"] = bool(props["key_unit"])
            props["high_risk"] = bool(props["high_risk"])
        return snap

    return _snapshot(key, load)


def _cluster_feature(clusters: Clusters, c: int, flags: tuple[str, ...]) -> dict[str, Any]:
    bounds = [
        round(float(clusters.west[c]), 6),
        round(float(clusters.south[c]), 6),
        round(float(clusters.east[c]), 6),
        round(float(clusters.north[c]), 6),
    ]
    properties = {
        "cluster": True,
        "count": int(clusters.count[c]),
        "bounds": bounds,
        "flags": {name: int(clusters.flags[name][c]) for name in flags},
    }
    return point_feature(
        properties, round(float(clusters.lon[c]), 6), round(float(clusters.lat[c]), 6)
    )


def point_layer(
    snap: PointSnapshot,
    idx: npt.NDArray[np.int64],
    zoom: int | None,
    limit: int,
    *,
    properties: Any,
    flags: dict[str, npt.NDArray[np.bool_]],
    first: npt.NDArray[np.bool_] | None = None,
) -> dict[str, Any]:
    """The points ``idx`` of ``snap`` as a layer: clusters when crowded at a low zoom.

    ``properties(i)`` gives point ``i``'s feature properties; ``flags`` (one boolean per
    point of ``idx``) are counted per cluster; ``first`` marks points a cut must keep
    first (a red venue is never the one left out).
    """
    total = len(idx)
    if should_cluster(zoom, total):
        assert zoom is not None
        clusters = grid_clusters(snap.lon[idx], snap.lat[idx], zoom, flags=flags)
        names = tuple(flags)
        features = [_cluster_feature(clusters, c, names) for c in range(clusters.n_clusters)]
        features += [
            point_feature(properties(int(idx[i])), float(snap.lon[idx[i]]), float(snap.lat[idx[i]]))
            for i in clusters.singles.tolist()
        ]
        return feature_collection(features, truncated=False, total=total, clustered=True)
    order = idx
    if total > limit and first is not None:
        order = np.concatenate([idx[first], idx[~first]])
    shown = order[:limit]
    features = [
        point_feature(properties(int(i)), float(snap.lon[i]), float(snap.lat[i]))
        for i in np.sort(shown).tolist()
    ]
    return feature_collection(features, truncated=total > limit, total=total, clustered=False)


ZoomQuery = Annotated[
    int | None,
    Query(
        ge=0,
        le=22,
        description="the map's zoom: crowded views below zoom 16 come as clusters",
    ),
]


@router.get(
    "/venues",
    response_model=ms.VenuesLayer,
    summary="Venues in a bbox with their three-colour status (clustered when crowded)",
)
def venues(
    principal: PlacesReader,
    session: SessionDep,
    request: Request,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    zoom: ZoomQuery = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> Response:
    box = parse_bbox(bbox)
    snap = _venue_snapshot(session, principal, category)
    idx = snap.in_box(box)
    colour_of = _venue_colours(session, principal)
    colour_in_view = [
        (colour_of[v]["colour"] if v in colour_of else None) for v in snap.ids[idx].tolist()
    ]
    red = np.asarray([c == "red" for c in colour_in_view], dtype=bool)
    yellow = np.asarray([c == "yellow" for c in colour_in_view], dtype=bool)
    default = "green" if colour_of else None

    def properties(i: int) -> dict[str, Any]:
        props = snap.props[i]
        status = colour_of.get(props["id"])
        return {
            **props,
            "colour": status["colour"] if status else default,
            "reasons": status["reasons"] if status else [],
        }

    layer = point_layer(
        snap,
        idx,
        zoom,
        limit,
        properties=properties,
        flags={"red": red, "yellow": yellow},
        first=red | yellow,
    )
    layer["colours"] = bool(colour_of)
    return layer_response(request, dumps(layer))


@router.get(
    "/stations",
    response_model=FeatureCollection[ms.StationProperties],
    summary="Fire stations (all kinds of forces)",
)
def stations(
    principal: ResourcesReader,
    session: SessionDep,
    request: Request,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
) -> Response:
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
    layer = feature_collection(
        point_feature({name: getattr(r, name) for name in properties}, r.lon, r.lat) for r in rows
    )
    return layer_response(request, dumps(layer))


def _within(model: Any, box: BBox | None) -> list[Any]:
    if box is None:
        return []
    west, south, east, north = box
    return [model.lon.between(west, east), model.lat.between(south, north)]


HYDRANT_FIELDS = ("id", "code", "status", "hydrant_type", "flow_lps")


@router.get(
    "/hydrants",
    response_model=ms.HydrantsLayer,
    summary="Hydrants in a bbox (clustered when crowded)",
)
def hydrants(
    principal: ResourcesReader,
    session: SessionDep,
    request: Request,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    zoom: ZoomQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> Response:
    box = parse_bbox(bbox)
    key = ("hydrants", principal.scope_path, table_version(session, Hydrant))

    def load() -> PointSnapshot:
        rows = session.execute(
            select(
                Hydrant.id,
                Hydrant.lon,
                Hydrant.lat,
                *[getattr(Hydrant, n) for n in HYDRANT_FIELDS[1:]],
            )
            .where(Hydrant.deleted_at.is_(None), principal.scope_filter(Hydrant.jurisdiction_path))
            .order_by(Hydrant.id)
        ).all()
        return PointSnapshot.of(list(rows), HYDRANT_FIELDS)

    snap = _snapshot(key, load)
    idx = snap.in_box(box)
    unavailable = np.asarray(
        [snap.props[i]["status"] != "in_service" for i in idx.tolist()], dtype=bool
    )
    layer = point_layer(
        snap,
        idx,
        zoom,
        limit,
        properties=lambda i: snap.props[i],
        flags={"unavailable": unavailable},
    )
    return layer_response(request, dumps(layer))


DEVICE_FIELDS = ("id", "code", "kind", "venue_id")


@router.get(
    "/devices",
    response_model=ms.DevicesLayer,
    summary="Devices at their venues in a bbox, online or not (clustered when crowded)",
)
def devices(
    principal: DevicesReader,
    session: SessionDep,
    request: Request,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    zoom: ZoomQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS)] = MAX_POINTS,
) -> Response:
    box = parse_bbox(bbox)
    managed = tuple(sorted(principal.venue_ids)) if principal.role == "venue_manager" else None
    key = (
        "devices",
        principal.scope_path,
        managed,
        table_version(session, Device),
        table_version(session, Venue),
    )

    def load() -> PointSnapshot:
        query = (
            select(Device.id, Device.code, Device.kind, Device.venue_id, Venue.lon, Venue.lat)
            .join(Venue, Venue.id == Device.venue_id)
            .where(Device.deleted_at.is_(None), principal.scope_filter(Device.jurisdiction_path))
        )
        if managed is not None:
            query = query.where(Device.venue_id.in_(managed))
        return PointSnapshot.of(
            list(session.execute(query.order_by(Device.id)).all()), DEVICE_FIELDS
        )

    snap = _snapshot(key, load)
    idx = snap.in_box(box)
    online_ids = set(
        session.scalars(
            select(DeviceStateRow.device_id).where(DeviceStateRow.online.is_(True))
        ).all()
    )
    online = np.asarray([int(i) in online_ids for i in snap.ids[idx].tolist()], dtype=bool)

    def properties(i: int) -> dict[str, Any]:
        return {**snap.props[i], "online": int(snap.ids[i]) in online_ids}

    layer = point_layer(
        snap,
        idx,
        zoom,
        limit,
        properties=properties,
        flags={"offline": ~online},
        first=~online,
    )
    return layer_response(request, dumps(layer))


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
    # Asked of the router, not of the OpenAPI document: building that document takes
    # seconds on a cold server, and this is the console's first question.
    found: dict[str, bool] | None = getattr(request.app.state, "map_capabilities", None)
    if found is None:
        found = {name: _offered(request.app, *spec) for name, spec in OPTIONAL_ROUTES.items()}
        request.app.state.map_capabilities = found
    return found


def _offered(app: Any, method: str, path: str) -> bool:
    """Whether a request ``method path`` (``{x}`` filled in) reaches one of ``app``'s routes."""
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    scope = {"type": "http", "path": concrete, "method": method, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


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
