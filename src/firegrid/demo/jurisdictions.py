"""The jurisdiction tree of the demo city: city → towns → villages → grids.

Towns are the Voronoi cells of the town centres clipped to Dongguan's outline; each town
is split into villages (its share of the total by area) and each village into grids, with
Lloyd-relaxed Voronoi cells of seeded random points, so every level tiles its parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from firegrid.demo.geometry import (
    M_PER_DEG_LAT,
    Areal,
    FloatArray,
    GeomArray,
    IntArray,
    TownSeed,
    apportion,
    load_outline,
    load_town_seeds,
    m_per_deg_lon,
    merge_fragments,
    partition,
    polygon_to_geojson,
    representative_points,
    voronoi_cells,
)
from firegrid.demo.names import mobile_phones, person_names, town_roads, village_names
from firegrid.demo.spec import DemoSpec
from firegrid.places.models import JurisdictionLevel

CITY_CODE = "441900"
CITY_NAME_ZH = "东莞市"
CITY_NAME_EN = "Dongguan"
_CITY_CORE = (113.752, 23.030)  # Guancheng/Nancheng/Dongcheng, WGS-84 (approximate)


@dataclass
class Level:
    """One level of the tree, as parallel arrays (row ``i`` is one jurisdiction)."""

    level: JurisdictionLevel
    ids: IntArray
    codes: list[str]
    paths: list[str]
    parent: IntArray  # index into the parent level; -1 for the city
    name_zh: list[str]
    name_en: list[str]
    polygons: GeomArray
    lon: FloatArray
    lat: FloatArray
    population: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Tree:
    """The four levels plus what later phases need to know about towns and villages."""

    city: Level
    towns: Level
    villages: Level
    grids: Level
    town_short: list[str]
    town_centre_lon: FloatArray
    town_centre_lat: FloatArray
    village_roads: list[list[str]]
    grid_village: IntArray
    grid_town: IntArray
    grid_weight: FloatArray  # relative venue density x area of each grid

    @property
    def outline(self) -> Polygon:
        polygon: Polygon = self.city.polygons[0]
        return polygon

    def levels(self) -> list[Level]:
        return [self.city, self.towns, self.villages, self.grids]


def short_town_name(name_zh: str) -> str:
    """``东城街道`` → ``东城``, ``石龙镇`` → ``石龙``; parks keep their name."""
    for suffix in ("街道", "镇"):
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix):
            return name_zh[: -len(suffix)]
    return name_zh


def pick_towns(seeds: list[TownSeed], n: int) -> list[TownSeed]:
    """All towns, or ``n`` well-spread ones (farthest-point order from the first)."""
    if n >= len(seeds):
        return list(seeds)
    xy = np.array([[s.lon, s.lat] for s in seeds])
    chosen = [0]
    dist = np.hypot(*(xy - xy[0]).T)
    while len(chosen) < n:
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(xy - xy[nxt]).T))
    return [seeds[i] for i in sorted(chosen)]


def urban_intensity(
    lon: FloatArray, lat: FloatArray, centre_lon: FloatArray, centre_lat: FloatArray
) -> FloatArray:
    """How built-up a place is (0..~1.5): high near town centres and the city core."""
    kx = m_per_deg_lon(23.0) / 1000.0
    ky = M_PER_DEG_LAT / 1000.0
    tree = cKDTree(np.column_stack([centre_lon * kx, centre_lat * ky]))
    d_town_km, _ = tree.query(np.column_stack([lon * kx, lat * ky]))
    d_core_km = np.hypot((lon - _CITY_CORE[0]) * kx, (lat - _CITY_CORE[1]) * ky)
    value = np.exp(-np.asarray(d_town_km) / 2.5) + 0.5 * np.exp(-d_core_km / 6.0)
    return np.asarray(value, dtype=np.float64)


def build_tree(spec: DemoSpec, rng: np.random.Generator) -> Tree:
    """Lay out the jurisdiction tree for ``spec``."""
    outline = load_outline()
    seeds = pick_towns(load_town_seeds(), spec.towns)
    seed_xy = np.array([[s.lon, s.lat] for s in seeds])

    city = Level(
        level=JurisdictionLevel.CITY,
        ids=np.array([1], dtype=np.int64),
        codes=[CITY_CODE],
        paths=[f"/{CITY_CODE}/"],
        parent=np.array([-1], dtype=np.int64),
        name_zh=[CITY_NAME_ZH],
        name_en=[CITY_NAME_EN],
        polygons=np.array([outline], dtype=object),
        lon=np.array([0.0]),
        lat=np.array([0.0]),
    )
    city.lon, city.lat = representative_points(city.polygons)

    town_polys = merge_fragments(voronoi_cells(outline, seed_xy)) if len(seeds) > 1 else [outline]
    town_codes = [f"{CITY_CODE}{int(s.code):03d}" for s in seeds]
    towns = Level(
        level=JurisdictionLevel.TOWN,
        ids=np.arange(2, 2 + len(seeds), dtype=np.int64),
        codes=town_codes,
        paths=[f"/{CITY_CODE}/{c}/" for c in town_codes],
        parent=np.zeros(len(seeds), dtype=np.int64),
        name_zh=[s.name_zh for s in seeds],
        name_en=[s.name_en for s in seeds],
        polygons=np.array(town_polys, dtype=object),
        lon=np.zeros(len(seeds)),
        lat=np.zeros(len(seeds)),
    )
    # a town's centre is its seat when the seat lies in its cell
    rep_lon, rep_lat = representative_points(towns.polygons)
    seat_inside = shapely.contains_xy(towns.polygons, seed_xy[:, 0], seed_xy[:, 1])
    towns.lon = np.where(seat_inside, seed_xy[:, 0], rep_lon)
    towns.lat = np.where(seat_inside, seed_xy[:, 1], rep_lat)
    town_short = [short_town_name(s.name_zh) for s in seeds]

    villages, village_roads = _split_villages(spec, rng, towns, seeds, town_short)
    grids = _split_grids(spec, rng, villages)
    grid_village = grids.parent
    grid_town = villages.parent[grid_village]

    intensity = urban_intensity(grids.lon, grids.lat, towns.lon, towns.lat)
    area = shapely.area(grids.polygons)
    grid_weight = area / area.mean() * (0.08 + intensity**2)

    _assign_population(spec, city, towns, villages, grids, grid_weight)
    return Tree(
        city=city,
        towns=towns,
        villages=villages,
        grids=grids,
        town_short=town_short,
        town_centre_lon=towns.lon,
        town_centre_lat=towns.lat,
        village_roads=village_roads,
        grid_village=grid_village,
        grid_town=grid_town,
        grid_weight=grid_weight,
    )


def _order_by_distance(polys: list[Areal], lon: float, lat: float) -> list[Areal]:
    arr = np.array(polys, dtype=object)
    x, y = representative_points(arr)
    order = np.argsort(np.hypot(x - lon, y - lat), kind="stable")
    return [polys[i] for i in order]


def _split_villages(
    spec: DemoSpec,
    rng: np.random.Generator,
    towns: Level,
    seeds: list[TownSeed],
    town_short: list[str],
) -> tuple[Level, list[list[str]]]:
    counts = apportion(shapely.area(towns.polygons), spec.villages, minimum=1)
    if counts.max() > 999:
        raise ValueError("more than 999 villages in one town")
    polys: list[Areal] = []
    parent: list[int] = []
    codes: list[str] = []
    name_zh: list[str] = []
    name_en: list[str] = []
    roads: list[list[str]] = []
    for t, n in enumerate(counts.tolist()):
        cells = partition(towns.polygons[t], n, rng, spec.relax_iterations)
        cells = _order_by_distance(cells, float(towns.lon[t]), float(towns.lat[t]))
        stems = village_names(rng, n)
        all_communities = seeds[t].kind in ("street", "park")
        pool = town_roads(rng, town_short[t])
        for k, (cell, (stem_zh, stem_en)) in enumerate(zip(cells, stems, strict=True)):
            community = all_communities or k < max(1, n // 4)
            polys.append(cell)
            parent.append(t)
            codes.append(f"{towns.codes[t]}{k + 1:03d}")
            name_zh.append(stem_zh + ("社区" if community else "村"))
            name_en.append(f"{stem_en} {'Community' if community else 'Village'}")
            picks = rng.choice(len(pool), size=4, replace=False)
            roads.append([pool[i] for i in sorted(picks.tolist())] + [stem_zh + "一路"])
    level = Level(
        level=JurisdictionLevel.VILLAGE,
        ids=np.arange(0, len(polys), dtype=np.int64) + int(towns.ids[-1]) + 1,
        codes=codes,
        paths=[f"{towns.paths[p]}{c}/" for p, c in zip(parent, codes, strict=True)],
        parent=np.array(parent, dtype=np.int64),
        name_zh=name_zh,
        name_en=name_en,
        polygons=np.array(polys, dtype=object),
        lon=np.zeros(0),
        lat=np.zeros(0),
    )
    level.lon, level.lat = representative_points(level.polygons)
    return level, roads


def _split_grids(spec: DemoSpec, rng: np.random.Generator, villages: Level) -> Level:
    counts = apportion(shapely.area(villages.polygons), spec.grids, minimum=1)
    if counts.max() > 99:
        raise ValueError("more than 99 grids in one village")
    polys: list[Areal] = []
    parent: list[int] = []
    codes: list[str] = []
    numbers: list[int] = []
    for v, n in enumerate(counts.tolist()):
        cells = partition(villages.polygons[v], n, rng, spec.relax_iterations)
        cells = _order_by_distance(cells, float(villages.lon[v]), float(villages.lat[v]))
        for k, cell in enumerate(cells):
            polys.append(cell)
            parent.append(v)
            codes.append(f"{villages.codes[v]}{k + 1:02d}")
            numbers.append(k + 1)
    level = Level(
        level=JurisdictionLevel.GRID,
        ids=np.arange(0, len(polys), dtype=np.int64) + int(villages.ids[-1]) + 1,
        codes=codes,
        paths=[f"{villages.paths[p]}{c}/" for p, c in zip(parent, codes, strict=True)],
        parent=np.array(parent, dtype=np.int64),
        name_zh=[f"第{k}网格" for k in numbers],
        name_en=[f"Grid {k}" for k in numbers],
        polygons=np.array(polys, dtype=object),
        lon=np.zeros(0),
        lat=np.zeros(0),
    )
    level.lon, level.lat = representative_points(level.polygons)
    return level


def _assign_population(
    spec: DemoSpec,
    city: Level,
    towns: Level,
    villages: Level,
    grids: Level,
    grid_weight: FloatArray,
) -> None:
    grids.population = apportion(grid_weight, spec.population)
    villages.population = np.bincount(
        grids.parent, weights=grids.population, minlength=len(villages)
    ).astype(np.int64)
    towns.population = np.bincount(
        villages.parent, weights=villages.population, minlength=len(towns)
    ).astype(np.int64)
    city.population = np.array([int(towns.population.sum())], dtype=np.int64)


def jurisdiction_rows(tree: Tree, common: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the ``jurisdictions`` table, parents before children."""
    rows: list[dict[str, Any]] = []
    parent_level: Level | None = None
    for level in tree.levels():
        for i in range(len(level)):
            parent_id = None if parent_level is None else int(parent_level.ids[level.parent[i]])
            rows.append(
                {
                    "id": int(level.ids[i]),
                    "code": level.codes[i],
                    "level": level.level.value,
                    "parent_id": parent_id,
                    "path": level.paths[i],
                    "name_zh": level.name_zh[i],
                    "name_en": level.name_en[i],
                    "center_lon": float(level.lon[i]),
                    "center_lat": float(level.lat[i]),
                    "boundary": polygon_to_geojson(level.polygons[i]),
                    "population": int(level.population[i]),
                    **common,
                }
            )
        parent_level = level
    return rows


def grid_worker_rows(
    tree: Tree, total: int, rng: np.random.Generator, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """``total`` grid workers: at least one per grid, more where venues are dense."""
    grids = tree.grids
    per_grid = apportion(tree.grid_weight, total, minimum=1)
    grid = np.repeat(np.arange(len(grids)), per_grid)
    names = person_names(rng, len(grid))
    phones = mobile_phones(rng, len(grid))
    return [
        {
            "id": i + 1,
            "code": f"GW{i + 1:06d}",
            "name": names[i],
            "phone": phones[i],
            "grid_id": int(grids.ids[g]),
            "jurisdiction_path": grids.paths[g],
            "active": True,
            **common,
        }
        for i, g in enumerate(grid.tolist())
    ]
