"""Venues of the demo city, their key-unit buildings and the standard address register.

Venues are points sampled inside the grids, more of them where the grid is built up
(near town centres and the city core); categories are drawn to their published shares
with central categories (malls, offices, hotels) pulled towards town centres and
factories, warehouses and chemical plants pushed to the outskirts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from firegrid.demo.categories import CONSTRUCTION_CLASSES, INDEX, MANUFACTURING_TOWNS, PROFILES
from firegrid.demo.geometry import (
    M_PER_DEG_LAT,
    FloatArray,
    IntArray,
    apportion,
    m_per_deg_lon,
    sample_in_polygons,
)
from firegrid.demo.jurisdictions import Tree, urban_intensity
from firegrid.demo.names import COMPANY_WORDS, SHOP_WORDS, mobile_phones, person_names

CITY_PREFIX = "东莞市"
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass
class VenueSet:
    """All venues as parallel arrays; row ``i`` has id ``ids[i]``."""

    ids: IntArray
    lon: FloatArray
    lat: FloatArray
    grid: IntArray  # index into tree.grids
    category: IntArray  # index into PROFILES
    is_key_unit: BoolArray
    is_high_risk: BoolArray
    floor_area_m2: FloatArray
    floors: IntArray
    occupancy: IntArray
    night_occupancy: IntArray
    construction_class: IntArray  # index into CONSTRUCTION_CLASSES
    built_year: IntArray
    industry: list[str]
    names: list[str]
    contact_names: list[str]
    contact_phones: list[str]
    tags: list[list[str]]
    road: list[str]
    number: IntArray
    address: list[str]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class AddressSet:
    """The standard address register: one building address per venue plus room addresses."""

    venue: IntArray  # index into the venue set
    building: list[str]
    unit: list[str]
    room: list[str]
    lon: FloatArray
    lat: FloatArray

    def __len__(self) -> int:
        return len(self.venue)


@dataclass
class BuildingSet:
    """Buildings of key units."""

    venue: IntArray
    ordinal: IntArray
    lon: FloatArray
    lat: FloatArray
    floors_above: IntArray
    floors_below: IntArray
    height_m: FloatArray
    structure: list[str]

    def __len__(self) -> int:
        return len(self.venue)


def generate_venues(tree: Tree, n_venues: int, rng: np.random.Generator) -> VenueSet:
    """Place ``n_venues`` venues in the grids of ``tree`` and give them plausible attributes."""
    grids = tree.grids
    per_grid = apportion(tree.grid_weight, n_venues)
    lon, lat, grid = sample_in_polygons(grids.polygons, per_grid, rng, within=tree.outline)
    n = len(lon)
    intensity = urban_intensity(grids.lon, grids.lat, tree.town_centre_lon, tree.town_centre_lat)[
        grid
    ]
    town_names = np.asarray(tree.towns.name_zh, dtype=object)
    manufacturing = np.isin(town_names, list(MANUFACTURING_TOWNS))[tree.grid_town[grid]]
    category = _assign_categories(intensity, manufacturing.astype(np.float64), rng)

    area = np.zeros(n)
    floors = np.zeros(n, dtype=np.int64)
    occupancy = np.zeros(n, dtype=np.int64)
    night = np.zeros(n, dtype=np.int64)
    cclass = np.zeros(n, dtype=np.int64)
    built = np.zeros(n, dtype=np.int64)
    industry_idx = np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=bool)
    high = np.zeros(n, dtype=bool)
    for c, profile in enumerate(PROFILES):
        idx = np.flatnonzero(category == c)
        m = len(idx)
        if m == 0:
            continue
        median, sigma = profile.area_m2
        area[idx] = np.round(median * np.exp(rng.normal(0.0, sigma, m)), 1)
        floors[idx] = rng.integers(profile.floors[0], profile.floors[1] + 1, m)
        day = area[idx] * profile.persons_per_100m2 / 100.0 * np.exp(rng.normal(0.0, 0.3, m))
        occupancy[idx] = np.maximum(1, np.round(day)).astype(np.int64)
        night[idx] = np.round(occupancy[idx] * profile.night * rng.uniform(0.7, 1.3, m))
        cclass[idx] = rng.choice(4, size=m, p=np.asarray(profile.classes) / sum(profile.classes))
        built[idx] = rng.integers(profile.built[0], profile.built[1] + 1, m)
        industry_idx[idx] = rng.integers(0, len(profile.industries), m)
        key[idx] = profile.key_unit
        n_high = round(m * profile.high_risk)
        if n_high:
            size = area[idx] * floors[idx]
            high[idx[np.argsort(-size, kind="stable")[:n_high]]] = True

    industry = [
        PROFILES[c].industries[i]
        for c, i in zip(category.tolist(), industry_idx.tolist(), strict=True)
    ]
    road, number = _roads_and_numbers(tree, grid, lon, rng)
    village = tree.grid_village[grid]
    town = tree.grid_town[grid]
    address = [
        f"{CITY_PREFIX}{tree.towns.name_zh[t]}{tree.villages.name_zh[v]}{r}{k}号"
        for t, v, r, k in zip(town.tolist(), village.tolist(), road, number.tolist(), strict=True)
    ]
    names = _venue_names(tree, category, town, village, road, number, rng)
    tags = _tags(category, floors, rng)
    return VenueSet(
        ids=np.arange(1, n + 1, dtype=np.int64),
        lon=lon,
        lat=lat,
        grid=grid,
        category=category,
        is_key_unit=key,
        is_high_risk=high,
        floor_area_m2=area,
        floors=floors,
        occupancy=occupancy,
        night_occupancy=night,
        construction_class=cclass,
        built_year=built,
        industry=industry,
        names=names,
        contact_names=person_names(rng, n),
        contact_phones=mobile_phones(rng, n),
        tags=tags,
        road=road,
        number=number,
        address=address,
    )


def _assign_categories(
    intensity: FloatArray, manufacturing: FloatArray, rng: np.random.Generator
) -> IntArray:
    """Exact category counts; weighted sampling without replacement by urban preference
    and, for factory-like categories, by being in a manufacturing town (1) or not (0)."""
    n = len(intensity)
    counts = apportion([p.share for p in PROFILES], n)
    category = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    order = sorted(range(len(PROFILES)), key=lambda c: -abs(PROFILES[c].urban))
    for c in order[:-1]:
        m = int(counts[c])
        if m == 0:
            continue
        weight = np.exp(
            PROFILES[c].urban * intensity[remaining]
            + PROFILES[c].manufacturing * manufacturing[remaining]
        )
        key = np.log(rng.random(len(remaining))) / weight  # Efraimidis-Spirakis keys
        top = np.argpartition(-key, m - 1)[:m]
        category[remaining[top]] = c
        remaining = np.delete(remaining, top)
    category[remaining] = order[-1]
    return category


def _roads_and_numbers(
    tree: Tree, grid: IntArray, lon: FloatArray, rng: np.random.Generator
) -> tuple[list[str], IntArray]:
    """A road of the venue's village, and a house number unique on that road there."""
    village = tree.grid_village[grid]
    n_roads = np.array([len(r) for r in tree.village_roads])[village]
    road_idx = np.floor(rng.random(len(grid)) * n_roads).astype(np.int64)
    group = village * 64 + road_idx
    order = np.lexsort((lon, group))
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group, side="left")
    number = np.empty(len(grid), dtype=np.int64)
    number[order] = np.arange(len(grid)) - first + 1
    road = [
        tree.village_roads[v][r] for v, r in zip(village.tolist(), road_idx.tolist(), strict=True)
    ]
    return road, number


def _venue_names(
    tree: Tree,
    category: IntArray,
    town: IntArray,
    village: IntArray,
    road: list[str],
    number: IntArray,
    rng: np.random.Generator,
) -> list[str]:
    n = len(category)
    pattern = rng.random(n)
    shop = rng.integers(0, len(SHOP_WORDS), n).tolist()
    company = rng.integers(0, len(COMPANY_WORDS), n).tolist()
    ordinal = rng.integers(1, 10, n).tolist()
    names: list[str] = []
    for i, (c, t, v) in enumerate(
        zip(category.tolist(), town.tolist(), village.tolist(), strict=True)
    ):
        patterns = PROFILES[c].names
        template = patterns[int(pattern[i] * len(patterns))]
        names.append(
            template.format(
                town=tree.town_short[t],
                village=tree.villages.name_zh[v],
                road=road[i],
                number=int(number[i]),
                shop=SHOP_WORDS[shop[i]],
                co=COMPANY_WORDS[company[i]],
                k=ordinal[i],
            )
        )
    return names


def _tags(category: IntArray, floors: IntArray, rng: np.random.Generator) -> list[list[str]]:
    n = len(category)
    draw = rng.random(n)
    height = floors * np.array([p.storey_m for p in PROFILES])[category]
    night_cats = {INDEX[c] for c in ("rental_housing", "hotel", "hospital", "residential_building")}
    rental, workshop = INDEX["rental_housing"], INDEX["small_workshop"]
    factories = {INDEX["factory"], INDEX["factory_large"]}
    chemical = INDEX["chemical_plant"]
    out: list[list[str]] = []
    for c, d, h in zip(category.tolist(), draw.tolist(), height.tolist(), strict=True):
        tags: list[str] = []
        if c in night_cats:
            tags.append("night_occupied")
        if c == rental and d < 0.25:
            tags.append("e_bike_charging")
        if c == workshop and d < 0.25:
            tags.extend(["three_in_one", "night_occupied"])  # 三合一: live, work, store
        if c in factories and d < 0.2:
            tags.append("multi_tenant_factory")  # 分租式厂房
        if c == chemical:
            tags.append("hazardous_materials")
        if h > 100:
            tags.append("super_high_rise")
        elif h > 24:
            tags.append("high_rise")
        out.append(tags)
    return out


def generate_buildings(tree: Tree, venues: VenueSet, rng: np.random.Generator) -> BuildingSet:
    """1-3 buildings per key unit: the first at the venue's point, others 20-60 m away
    (in the venue's grid)."""
    key = np.flatnonzero(venues.is_key_unit)
    per = rng.integers(1, 4, len(key))
    venue = np.repeat(key, per)
    first = np.repeat(np.cumsum(per) - per, per)
    ordinal = np.arange(len(venue)) - first + 1
    offset_m = np.where(ordinal == 1, 0.0, rng.uniform(20.0, 60.0, len(venue)))
    angle = rng.uniform(0.0, 2 * np.pi, len(venue))
    lat0 = float(np.mean(venues.lat)) if len(venues) else 23.0
    lon = venues.lon[venue] + offset_m * np.cos(angle) / m_per_deg_lon(lat0)
    lat = venues.lat[venue] + offset_m * np.sin(angle) / M_PER_DEG_LAT
    inside = shapely.contains_xy(tree.grids.polygons[venues.grid[venue]], lon, lat)
    lon = np.where(inside, lon, venues.lon[venue])
    lat = np.where(inside, lat, venues.lat[venue])
    floors_main = venues.floors[venue]
    floors_above = np.where(
        ordinal == 1, floors_main, np.maximum(1, (floors_main * rng.uniform(0.3, 1.0, len(venue))))
    ).astype(np.int64)
    big = venues.floor_area_m2[venue] > 10_000
    floors_below = np.where(big, rng.integers(0, 4, len(venue)), 0).astype(np.int64)
    storey = np.array([p.storey_m for p in PROFILES])[venues.category[venue]]
    height = np.round(floors_above * storey + rng.uniform(0.0, 3.0, len(venue)), 1)
    cclass = venues.construction_class[venue]
    structure = [
        ("steel" if s < 0.3 else "reinforced_concrete")
        if k == 0
        else ("reinforced_concrete" if s < 0.7 else "steel")
        if k == 1
        else "masonry"
        for k, s in zip(cclass.tolist(), rng.random(len(venue)).tolist(), strict=True)
    ]
    return BuildingSet(venue, ordinal, lon, lat, floors_above, floors_below, height, structure)


def generate_addresses(
    venues: VenueSet,
    buildings: BuildingSet,
    rooms_rental: int,
    rooms_residential: int,
    rng: np.random.Generator,
) -> AddressSet:
    """The register: each venue's address, each building of a multi-building key unit
    (``2栋``) and room addresses in rental houses and residential buildings."""
    n = len(venues)
    # each building of a key unit that has more than one
    per_venue = np.bincount(buildings.venue, minlength=n)
    multi = per_venue[buildings.venue] > 1
    b_venue = buildings.venue[multi]
    b_name = [str(k) for k in buildings.ordinal[multi].tolist()]
    # rooms in homes
    rental, residential = INDEX["rental_housing"], INDEX["residential_building"]
    rooms = np.where(
        venues.category == rental,
        rooms_rental,
        np.where(venues.category == residential, rooms_residential, 0),
    )
    r_venue = np.repeat(np.arange(n), rooms)
    r_ordinal = np.arange(len(r_venue)) - np.repeat(np.cumsum(rooms) - rooms, rooms) + 1
    floors = venues.floors[r_venue]
    floor = np.minimum(floors, 1 + np.floor(rng.random(len(r_venue)) * floors).astype(np.int64))
    is_res = (venues.category == residential)[r_venue]
    r_unit = [
        str(1 + (k - 1) % 2) if res else ""
        for k, res in zip(r_ordinal.tolist(), is_res.tolist(), strict=True)
    ]
    r_room = [f"{f}{k:02d}" for f, k in zip(floor.tolist(), r_ordinal.tolist(), strict=True)]

    venue = np.concatenate([np.arange(n), b_venue, r_venue])
    kind = np.concatenate([np.zeros(n), np.ones(len(b_venue)), np.full(len(r_venue), 2)])
    order = np.lexsort((np.arange(len(venue)), kind, venue))  # grouped by venue
    building = np.array([""] * n + b_name + [""] * len(r_venue), dtype=object)[order]
    unit = np.array([""] * (n + len(b_venue)) + r_unit, dtype=object)[order]
    room = np.array([""] * (n + len(b_venue)) + r_room, dtype=object)[order]
    lon = np.concatenate([venues.lon, buildings.lon[multi], venues.lon[r_venue]])[order]
    lat = np.concatenate([venues.lat, buildings.lat[multi], venues.lat[r_venue]])[order]
    return AddressSet(venue[order], building.tolist(), unit.tolist(), room.tolist(), lon, lat)


def address_text(base: str, building: str, unit: str, room: str) -> str:
    """The full Chinese address of a register entry."""
    return (
        base
        + (f"{building}栋" if building else "")
        + (f"{unit}单元" if unit else "")
        + (f"{room}房" if room else "")
    )


RowFn = Callable[[int, int], list[dict[str, Any]]]


def venue_rows(tree: Tree, venues: VenueSet, common: dict[str, Any]) -> RowFn:
    """Rows ``[start, stop)`` of the ``venues`` table."""
    grids = tree.grids

    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        for i in range(start, stop):
            g = int(venues.grid[i])
            out.append(
                {
                    "id": int(venues.ids[i]),
                    "code": f"V{int(venues.ids[i]):08d}",
                    "name": venues.names[i],
                    "address": venues.address[i],
                    "jurisdiction_id": int(grids.ids[g]),
                    "category": PROFILES[int(venues.category[i])].code,
                    "industry_code": venues.industry[i],
                    "is_key_unit": bool(venues.is_key_unit[i]),
                    "is_high_risk": bool(venues.is_high_risk[i]),
                    "floor_area_m2": float(venues.floor_area_m2[i]),
                    "floors": int(venues.floors[i]),
                    "occupancy": int(venues.occupancy[i]),
                    "night_occupancy": int(venues.night_occupancy[i]),
                    "construction_class": CONSTRUCTION_CLASSES[int(venues.construction_class[i])],
                    "built_year": int(venues.built_year[i]),
                    "contact_name": venues.contact_names[i],
                    "contact_phone": venues.contact_phones[i],
                    "tags": venues.tags[i],
                    "lon": float(venues.lon[i]),
                    "lat": float(venues.lat[i]),
                    "jurisdiction_path": grids.paths[g],
                    **common,
                }
            )
        return out

    return rows


def building_rows(buildings: BuildingSet, venues: VenueSet, common: dict[str, Any]) -> RowFn:
    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        return [
            {
                "id": i + 1,
                "code": f"fg-building-{i + 1}",  # as the platform's own rows (reproducible)
                "venue_id": int(venues.ids[buildings.venue[i]]),
                "name": f"{int(buildings.ordinal[i])}号楼",
                "floors_above": int(buildings.floors_above[i]),
                "floors_below": int(buildings.floors_below[i]),
                "height_m": float(buildings.height_m[i]),
                "structure": buildings.structure[i],
                "lon": float(buildings.lon[i]),
                "lat": float(buildings.lat[i]),
                **common,
            }
            for i in range(start, stop)
        ]

    return rows


def address_rows(tree: Tree, venues: VenueSet, addresses: AddressSet) -> RowFn:
    grids = tree.grids

    def rows(start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        for i in range(start, stop):
            v = int(addresses.venue[i])
            g = int(venues.grid[v])
            building, unit, room = addresses.building[i], addresses.unit[i], addresses.room[i]
            out.append(
                {
                    "id": i + 1,
                    "code": f"A{i + 1:09d}",
                    "town": tree.towns.name_zh[int(tree.grid_town[g])],
                    "village": tree.villages.name_zh[int(tree.grid_village[g])],
                    "road": venues.road[v],
                    "number": str(int(venues.number[v])),
                    "building": building,
                    "unit": unit,
                    "room": room,
                    "full_text": address_text(venues.address[v], building, unit, room),
                    "lon": float(addresses.lon[i]),
                    "lat": float(addresses.lat[i]),
                    "jurisdiction_path": grids.paths[g],
                }
            )
        return out

    return rows


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` ranges covering ``range(total)`` in steps of ``size``."""
    for start in range(0, total, size):
        yield start, min(total, start + size)
