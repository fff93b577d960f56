"""Fire stations, their vehicles, hydrants and logistics points of the demo city.

Stations are sited one at a time on candidate points drawn where venues are dense: each
takes the candidate of its town that is farthest from the stations already placed, with a
pull towards the town centre for state stations. Hydrants stand along the road network's
streets in the built-up areas, about every 150 m.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from firegrid.demo.geometry import (
    M_PER_DEG_LAT,
    FloatArray,
    IntArray,
    apportion,
    m_per_deg_lon,
    sample_in_polygons,
)
from firegrid.demo.jurisdictions import Tree, urban_intensity
from firegrid.demo.names import COMPANY_WORDS
from firegrid.demo.venues import CITY_PREFIX, RowFn
from firegrid.dispatch.models import ForceKind, HydrantStatus, StationType, VehicleType
from firegrid.geo.network import RoadClass, RoadNetwork

STATION_ORDER = (
    StationType.SPECIAL,
    StationType.STANDARD,
    StationType.SECONDARY,
    StationType.SMALL,
    StationType.MICRO,
)
_V = VehicleType
#: vehicles every station of a type has, and optional extras (0..len drawn at random)
FLEET: dict[StationType, tuple[tuple[VehicleType, ...], tuple[VehicleType, ...]]] = {
    # (always, some of): sized after GB 51054 (special 8-11, standard 5-7, secondary 2-4
    # appliances), a little above for a well-equipped city: ~470 vehicles for 100 stations.
    StationType.SPECIAL: (
        (
            _V.PUMPER,
            _V.PUMPER,
            _V.PUMPER,
            _V.TANKER,
            _V.LADDER,
            _V.RESCUE,
            _V.HAZMAT,
            _V.COMMAND,
            _V.FOAM,
            _V.LOGISTICS,
        ),
        (_V.LADDER, _V.AMBULANCE),
    ),
    StationType.STANDARD: (
        (_V.PUMPER, _V.PUMPER, _V.TANKER, _V.LADDER, _V.RESCUE, _V.FOAM, _V.COMMAND),
        (_V.PUMPER,),
    ),
    StationType.SECONDARY: ((_V.PUMPER, _V.PUMPER, _V.TANKER, _V.RESCUE), (_V.LADDER,)),
    StationType.SMALL: ((_V.PUMPER, _V.TANKER), (_V.RESCUE,)),
    StationType.MICRO: ((_V.PUMPER,), (_V.PUMPER,)),
}
CAPABILITIES: dict[VehicleType, list[str]] = {
    _V.PUMPER: ["water", "pump"],
    _V.TANKER: ["water", "pump", "water_supply"],
    _V.LADDER: ["aerial", "water"],
    _V.RESCUE: ["rescue"],
    _V.HAZMAT: ["hazmat", "rescue"],
    _V.COMMAND: ["command"],
    _V.FOAM: ["foam", "water", "pump"],
    _V.AMBULANCE: ["medical"],
    _V.LOGISTICS: ["logistics"],
}
VEHICLE_ZH: dict[VehicleType, str] = {
    _V.PUMPER: "水罐",
    _V.TANKER: "供水",
    _V.LADDER: "云梯",
    _V.RESCUE: "抢险救援",
    _V.HAZMAT: "防化洗消",
    _V.COMMAND: "指挥",
    _V.FOAM: "泡沫",
    _V.AMBULANCE: "救护",
    _V.LOGISTICS: "保障",
}
CREW: dict[VehicleType, int] = {
    _V.PUMPER: 6,
    _V.TANKER: 3,
    _V.LADDER: 3,
    _V.RESCUE: 6,
    _V.HAZMAT: 5,
    _V.COMMAND: 3,
    _V.FOAM: 4,
    _V.AMBULANCE: 3,
    _V.LOGISTICS: 2,
}
LOGISTICS_SUPPLIES = ["foam", "breathing_air", "fuel", "hoses", "food_water", "spare_equipment"]
#: roads that get no hydrants: motorways, trunk roads and their ramps
_NO_HYDRANT = {RoadClass.MOTORWAY, RoadClass.TRUNK, RoadClass.MOTORWAY_LINK, RoadClass.TRUNK_LINK}
HYDRANT_SPACING_M = 150.0


@dataclass
class StationSet:
    ids: IntArray
    types: list[StationType]
    force: list[ForceKind]
    names: list[str]
    call_prefix: list[str]
    lon: FloatArray
    lat: FloatArray
    grid: IntArray
    address: list[str]
    phone: list[str]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Sites:
    """Candidate points for stations and logistics points, where venues are dense."""

    lon: FloatArray
    lat: FloatArray
    grid: IntArray
    town: IntArray


def candidate_sites(tree: Tree, rng: np.random.Generator, per_town: int = 80) -> Sites:
    counts = apportion(tree.grid_weight, per_town * len(tree.towns))
    lon, lat, grid = sample_in_polygons(tree.grids.polygons, counts, rng, within=tree.outline)
    return Sites(lon, lat, grid, tree.grid_town[grid])


#: kilometres per degree of longitude and latitude in Dongguan
KM_X, KM_Y = m_per_deg_lon(23.0) / 1000.0, M_PER_DEG_LAT / 1000.0


def _station_towns(
    spec_stations: dict[str, int], weight: FloatArray
) -> list[tuple[StationType, int]]:
    """Which town each station goes to, in siting order."""
    by_weight = np.argsort(-weight, kind="stable")
    plan: list[tuple[StationType, int]] = []
    for station_type in STATION_ORDER:
        n = spec_stations.get(station_type.value, 0)
        if station_type in (StationType.SPECIAL, StationType.STANDARD):
            towns = [int(by_weight[k % len(by_weight)]) for k in range(n)]
        else:
            shares = apportion(weight, n)
            towns = [t for t, k in enumerate(shares.tolist()) for _ in range(k)]
        plan.extend((station_type, t) for t in towns)
    return plan


def generate_stations(
    tree: Tree, spec_stations: dict[str, int], sites: Sites, rng: np.random.Generator
) -> StationSet:
    kx, ky = KM_X, KM_Y
    town_weight = np.bincount(
        tree.grid_town, weights=tree.grid_weight, minlength=len(tree.towns)
    ).astype(np.float64)
    plan = _station_towns(spec_stations, town_weight)
    sx, sy = sites.lon * kx, sites.lat * ky
    cx, cy = tree.town_centre_lon * kx, tree.town_centre_lat * ky
    placed_x: list[float] = []
    placed_y: list[float] = []
    chosen: list[int] = []
    types: list[StationType] = []
    force: list[ForceKind] = []
    names: list[str] = []
    prefixes: list[str] = []
    seen: dict[tuple[StationType, int], int] = {}
    used: set[str] = set()
    for station_type, town in plan:
        idx = np.flatnonzero(sites.town == town)
        state = station_type in (StationType.SPECIAL, StationType.STANDARD, StationType.SECONDARY)
        reach_km = 4.0 if state else 1.5
        pull = 0.6 if station_type in (StationType.SPECIAL, StationType.STANDARD) else 0.1
        if placed_x:
            d = np.hypot(
                sx[idx, None] - np.array(placed_x)[None, :],
                sy[idx, None] - np.array(placed_y)[None, :],
            ).min(axis=1)
        else:
            d = np.full(len(idx), reach_km)
        score = np.minimum(d, reach_km) - pull * np.hypot(sx[idx] - cx[town], sy[idx] - cy[town])
        best = int(idx[int(np.argmax(score))])
        chosen.append(best)
        placed_x.append(float(sx[best]))
        placed_y.append(float(sy[best]))
        kind = _force_kind(station_type, rng)
        key = (station_type, town)
        nth = seen.get(key, 0)
        seen[key] = nth + 1
        prefix, suffix = _station_name(
            tree, station_type, kind, town, int(sites.grid[best]), nth, rng
        )
        if prefix + suffix in used:  # two stations of a kind in one village
            prefix += str(sum(name.startswith(prefix) for name in used) + 1)
        used.add(prefix + suffix)
        types.append(station_type)
        force.append(kind)
        names.append(prefix + suffix)
        prefixes.append(prefix)
    pick = np.array(chosen, dtype=np.int64)
    grid = sites.grid[pick]
    village = tree.grid_village[grid]
    road_pick = rng.integers(0, 1 << 30, len(pick)).tolist()
    house = rng.integers(1, 300, len(pick)).tolist()
    address = []
    for v, t, r, h in zip(
        village.tolist(), tree.grid_town[grid].tolist(), road_pick, house, strict=True
    ):
        roads = tree.village_roads[v]
        address.append(
            f"{CITY_PREFIX}{tree.towns.name_zh[t]}{tree.villages.name_zh[v]}"
            f"{roads[r % len(roads)]}{h}号"
        )
    phones = [f"0769-{n:08d}" for n in rng.integers(22_000_000, 89_999_999, len(pick)).tolist()]
    return StationSet(
        ids=np.arange(1, len(pick) + 1, dtype=np.int64),
        types=types,
        force=force,
        names=names,
        call_prefix=prefixes,
        lon=sites.lon[pick],
        lat=sites.lat[pick],
        grid=grid,
        address=address,
        phone=phones,
    )


def _force_kind(station_type: StationType, rng: np.random.Generator) -> ForceKind:
    draw = float(rng.random())
    if station_type == StationType.SMALL:
        return ForceKind.ENTERPRISE if draw < 0.3 else ForceKind.PROFESSIONAL
    if station_type == StationType.MICRO:
        return ForceKind.ENTERPRISE if draw < 0.3 else ForceKind.VOLUNTEER
    return ForceKind.STATE


def _station_name(
    tree: Tree,
    station_type: StationType,
    kind: ForceKind,
    town: int,
    grid: int,
    nth: int,
    rng: np.random.Generator,
) -> tuple[str, str]:
    """``(call-sign prefix, rest of the name)``, e.g. ``("东城特勤", "消防救援站")``."""
    short = tree.town_short[town]
    village = tree.villages.name_zh[int(tree.grid_village[grid])]
    stem = village.removesuffix("社区").removesuffix("村")
    company = COMPANY_WORDS[int(rng.integers(0, len(COMPANY_WORDS)))]
    if station_type == StationType.SPECIAL:
        return (f"{short}特勤" if nth == 0 else f"{short}{stem}特勤"), "消防救援站"
    if station_type in (StationType.STANDARD, StationType.SECONDARY):
        first = station_type == StationType.STANDARD and nth == 0
        return (short if first else f"{short}{stem}"), "消防救援站"
    if kind == ForceKind.ENTERPRISE:
        suffix = "企业专职消防队" if station_type == StationType.SMALL else "企业微型消防站"
        return f"{short}{company}", suffix
    if station_type == StationType.SMALL:
        return f"{short}{stem}", "专职消防队"
    return village, "微型消防站"


def vehicle_rows(
    tree: Tree, stations: StationSet, rng: np.random.Generator, common: dict[str, Any]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s in range(len(stations)):
        base, extra = FLEET[stations.types[s]]
        n_extra = int(rng.integers(0, len(extra) + 1))
        fleet = [*base, *extra[:n_extra]]
        counter: dict[VehicleType, int] = {}
        for vehicle_type in fleet:
            counter[vehicle_type] = counter.get(vehicle_type, 0) + 1
            k = len(rows) + 1
            crew = CREW[vehicle_type] if stations.types[s] != StationType.MICRO else 3
            rows.append(
                {
                    "id": k,
                    "code": f"VH{k:05d}",
                    "station_id": int(stations.ids[s]),
                    "vehicle_type": vehicle_type.value,
                    "call_sign": f"{stations.call_prefix[s]}{VEHICLE_ZH[vehicle_type]}"
                    f"{counter[vehicle_type]}",
                    "plate": f"粤S{k:04d}应急",
                    "crew": crew,
                    "capabilities": list(CAPABILITIES[vehicle_type]),
                    "status": "available_in_station",
                    "jurisdiction_path": tree.grids.paths[int(stations.grid[s])],
                    "last_lon": float(stations.lon[s]),
                    "last_lat": float(stations.lat[s]),
                    "status_changed_at": common["created_at"],
                    "position_at": common["created_at"],
                    **common,
                }
            )
    return rows


def station_rows(
    tree: Tree,
    stations: StationSet,
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    return [
        {
            "id": int(stations.ids[s]),
            "code": f"ST{int(stations.ids[s]):03d}",
            "name": stations.names[s],
            "station_type": stations.types[s].value,
            "force_kind": stations.force[s].value,
            "address": stations.address[s],
            "jurisdiction_id": int(tree.grids.ids[int(stations.grid[s])]),
            "phone": stations.phone[s],
            "lon": float(stations.lon[s]),
            "lat": float(stations.lat[s]),
            "jurisdiction_path": tree.grids.paths[int(stations.grid[s])],
            **common,
        }
        for s in range(len(stations))
    ]


def logistics_rows(
    tree: Tree, sites: Sites, rng: np.random.Generator, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """One logistics support point per town, at a dense site near its centre."""
    kx, ky = KM_X, KM_Y
    rows: list[dict[str, Any]] = []
    for town in range(len(tree.towns)):
        idx = np.flatnonzero(sites.town == town)
        d = np.hypot(
            (sites.lon[idx] - tree.town_centre_lon[town]) * kx,
            (sites.lat[idx] - tree.town_centre_lat[town]) * ky,
        )
        best = int(idx[int(np.argsort(d, kind="stable")[min(len(d) - 1, 3)])])
        grid = int(sites.grid[best])
        n_supplies = int(rng.integers(3, len(LOGISTICS_SUPPLIES) + 1))
        rows.append(
            {
                "id": town + 1,
                "code": f"LP{town + 1:03d}",
                "name": f"{tree.town_short[town]}战勤保障点",
                "supplies": LOGISTICS_SUPPLIES[:n_supplies],
                "jurisdiction_id": int(tree.grids.ids[grid]),
                "lon": float(sites.lon[best]),
                "lat": float(sites.lat[best]),
                "jurisdiction_path": tree.grids.paths[grid],
                **common,
            }
        )
    return rows


@dataclass
class HydrantSet:
    lon: FloatArray
    lat: FloatArray
    grid: IntArray

    def __len__(self) -> int:
        return len(self.lon)


def generate_hydrants(
    tree: Tree, network: RoadNetwork, target: int, rng: np.random.Generator
) -> HydrantSet:
    """About ``target`` hydrants along the streets, every ~150 m where it is built up.

    Candidate spots every 150 m along every street (not motorways or trunk roads) are kept
    with a probability that grows with how built-up the place is, calibrated so that about
    ``target`` remain: town centres get the full 150 m spacing, the outskirts fewer.
    Hydrants stand 3-8 m off the centreline.
    """
    empty = HydrantSet(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
    if target == 0 or len(network.edge_src) == 0:
        return empty
    src, dst = network.edge_src, network.edge_dst
    street = ~np.isin(network.road_class, np.array(sorted(_NO_HYDRANT), dtype=np.uint8))
    once = network.oneway | (src < dst)  # a two-way road once, not per direction
    edges = np.flatnonzero(street & once)
    x1, y1 = network.node_lon[src[edges]], network.node_lat[src[edges]]
    x2, y2 = network.node_lon[dst[edges]], network.node_lat[dst[edges]]
    length = network.length_m[edges]
    ends = np.cumsum(length)
    starts = ends - length
    spacing = min(HYDRANT_SPACING_M, float(ends[-1]) / target)
    pos = rng.uniform(0.0, spacing) + np.arange(int(ends[-1] // spacing)) * spacing
    pos = pos[pos < ends[-1]]
    e = np.searchsorted(ends, pos, side="right")
    t = (pos - starts[e]) / length[e]
    lon = x1[e] + t * (x2[e] - x1[e])
    lat = y1[e] + t * (y2[e] - y1[e])
    built_up = urban_intensity(lon, lat, tree.town_centre_lon, tree.town_centre_lat) ** 2
    # a few more than asked for: some fall outside every grid and are trimmed below
    wanted = min(len(lon), int(np.ceil(target * 1.05)) + 5)
    keep_p = _calibrate(built_up, wanted)
    key = np.log(rng.random(len(lon))) / np.maximum(keep_p, 1e-12)  # weighted, no repeats
    kept = np.sort(np.argpartition(-key, wanted - 1)[:wanted])
    lon, lat, e = lon[kept], lat[kept], e[kept]
    kx, ky = m_per_deg_lon(23.0), M_PER_DEG_LAT
    dx, dy = (x2[e] - x1[e]) * kx, (y2[e] - y1[e]) * ky
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    side = np.where(rng.random(len(e)) < 0.5, -1.0, 1.0) * rng.uniform(3.0, 8.0, len(e))
    lon = lon + (-dy / norm) * side / kx
    lat = lat + (dx / norm) * side / ky
    grid = _locate(tree, lon, lat)
    ok = grid >= 0
    lon, lat, grid = lon[ok], lat[ok], grid[ok]
    if len(lon) > target:
        keep = np.sort(rng.choice(len(lon), size=target, replace=False))
        lon, lat, grid = lon[keep], lat[keep], grid[keep]
    return HydrantSet(lon, lat, grid)


def _calibrate(weight: FloatArray, expected: float) -> FloatArray:
    """Probabilities ``min(1, c * weight)`` summing to ``expected`` (bisection on ``c``)."""
    if expected >= len(weight):
        return np.ones(len(weight))
    lo, hi = 0.0, 1.0
    while np.minimum(1.0, hi * weight).sum() < expected:
        hi *= 2.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if np.minimum(1.0, mid * weight).sum() < expected:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * weight)


def _locate(tree: Tree, lon: FloatArray, lat: FloatArray) -> IntArray:
    """Index of the grid containing each point, -1 outside every grid."""
    owner = np.full(len(lon), -1, dtype=np.int64)
    points = shapely.points(lon, lat)
    point_idx, grid_idx = shapely.STRtree(tree.grids.polygons).query(points, predicate="within")
    owner[point_idx] = grid_idx
    return owner


def hydrant_rows(
    tree: Tree, hydrants: HydrantSet, rng: np.random.Generator, common: dict[str, Any]
) -> RowFn:
    n = len(hydrants)
    draw = rng.random(n)
    status = np.where(draw < 0.03, 1, np.where(draw < 0.05, 2, 0))
    status_names = [
        HydrantStatus.IN_SERVICE.value,
        HydrantStatus.LOW_PRESSURE.value,
        HydrantStatus.OUT_OF_SERVICE.value,
    ]
    underground = rng.random(n) < 0.3
    flow = rng.choice(np.array([10.0, 15.0, 15.0, 20.0, 30.0]), size=n)
    flow = np.where(status == 1, np.round(rng.uniform(3.0, 8.0, n), 1), flow)
    flow = np.where(status == 2, 0.0, flow)
    grids = tree.grids

    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i + 1,
                "code": f"H{i + 1:07d}",
                "hydrant_type": "underground" if underground[i] else "above_ground",
                "flow_lps": float(flow[i]),
                "status": status_names[int(status[i])],
                "jurisdiction_id": int(grids.ids[int(hydrants.grid[i])]),
                "lon": float(hydrants.lon[i]),
                "lat": float(hydrants.lat[i]),
                "jurisdiction_path": grids.paths[int(hydrants.grid[i])],
                **common,
            }
            for i in range(start, stop)
        ]

    return rows
