"""A realistic year of calls on the city in the database (``firegrid incidents generate``).

Points come from the database: building fires and hazmat at venues (occupancy decides the
venue category), street incidents near venues (jittered about 150 m), wildland fires around
grid centres. The result is deterministic for a seed.

Type mix (shares of incidents; after the 2019-2023 national 119 statistics, where fires are
about a third of calls and rescues and social assistance the rest):

=================== ====== ===============================================================
type                share  season
=================== ====== ===============================================================
building_fire        18 %  x1.3 in the dry season (Nov-Mar), x0.8 in summer
outdoor_fire         13 %  rubbish and grass: x1.6 Jan-Apr (dry, Qingming), x0.6 Jun-Aug
vehicle_fire          4 %
wildland              2 %  x2 Jan-Apr, x0.3 in the rainy season
hazmat                2 %
rescue               27 %  traffic, lifts, trapped people; x1.1 in the holiday months
flood                 4 %  only in the rainy season (Apr-Sep), peaking in Jun-Aug
social_assistance    30 %  bees and snakes (summer peak), locked doors, animals
=================== ====== ===============================================================

Time: day weight = month factor x weekday factor (Sat/Sun 1.08), hour profile peaking at
10-12 h and 17-21 h with a trough at 3-6 h; seconds uniform. 9 % of records are repeat calls
about an incident already called in (30 s-12 min later, within ~60 m), which intake should
merge. Sources: 119 calls 88 %, 110 transfers 8 %, monitoring-centre forwards 4 % (building
fires at key units only). Levels: building fires 75/18/5/1.5/0.5 % for 1-5, others 90/9/1 %.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from sqlalchemy import select

from firegrid.core.clock import CHINA_TZ
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.places.public import Jurisdiction, JurisdictionLevel, Venue

TYPE_MIX: dict[str, float] = {
    "building_fire": 0.18,
    "outdoor_fire": 0.13,
    "vehicle_fire": 0.04,
    "wildland": 0.02,
    "hazmat": 0.02,
    "rescue": 0.27,
    "flood": 0.04,
    "social_assistance": 0.30,
}
_DRY = [1.3, 1.3, 1.3, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.3, 1.3]
MONTH_TYPE_FACTOR: dict[str, list[float]] = {
    "building_fire": _DRY,
    "outdoor_fire": [1.6, 1.6, 1.6, 1.6, 1.0, 0.6, 0.6, 0.6, 0.8, 1.0, 1.2, 1.4],
    "vehicle_fire": [1.0] * 12,
    "wildland": [2.0, 2.0, 2.0, 2.0, 0.6, 0.3, 0.3, 0.3, 0.3, 0.6, 1.2, 1.6],
    "hazmat": [1.0] * 12,
    "rescue": [1.1, 1.1, 1.0, 1.0, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.0, 1.0],
    "flood": [0.0, 0.0, 0.0, 0.5, 1.5, 2.5, 2.5, 2.5, 1.5, 0.0, 0.0, 0.0],
    "social_assistance": [0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2, 1.0, 0.8, 0.8],
}
HOUR_PROFILE = np.asarray(
    [
        3,
        2.4,
        2,
        1.6,
        1.5,
        1.6,
        2.3,
        3.4,
        4.6,
        5.4,
        5.8,
        5.8,
        5.2,
        5,
        5.2,
        5.4,
        5.7,
        6,
        6.2,
        6.2,
        5.8,
        5.2,
        4.4,
        3.6,
    ],
    dtype=np.float64,
)
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 1.0, 1.02, 1.08, 1.08]
REPEAT_SHARE = 0.09
SOURCE_SHARE = {"call_119": 0.88, "transfer_110": 0.08, "alarm": 0.04}
LEVELS_FIRE = [0.75, 0.18, 0.05, 0.015, 0.005]
LEVELS_OTHER = [0.90, 0.09, 0.01, 0.0, 0.0]
#: how likely each venue category is to burn, relative to the others
BURN_WEIGHT = {
    "small_shop": 3.0,
    "small_workshop": 3.5,
    "small_entertainment": 2.5,
    "rental_housing": 3.0,
    "factory": 2.0,
    "warehouse": 1.5,
    "factory_large": 1.5,
    "warehouse_large": 1.2,
    "restaurant": 2.0,
    "residential_building": 1.5,
    "chemical_plant": 1.0,
}
DESCRIPTIONS = {
    "building_fire": "有烟冒出 smoke seen",
    "outdoor_fire": "垃圾/草地起火 rubbish or grass burning",
    "vehicle_fire": "车辆起火 vehicle burning",
    "wildland": "山火 hillside fire",
    "hazmat": "危化品泄漏 chemical leak",
    "rescue": "有人被困 person trapped",
    "flood": "内涝被困 flooding, people cut off",
    "social_assistance": "社会救助 assistance (bees, locked door, animal)",
}

FloatArray = npt.NDArray[np.float64]


@dataclass
class CityPoints:
    """What the generator takes from the database."""

    venue_id: npt.NDArray[np.int64]
    venue_lon: FloatArray
    venue_lat: FloatArray
    venue_category: list[str]
    venue_key: npt.NDArray[np.bool_]
    venue_address: list[str]
    grid_lon: FloatArray
    grid_lat: FloatArray
    outline: Any


def load_points(database: Database) -> CityPoints:
    with database.session() as session:
        venues = session.execute(
            select(Venue.id, Venue.lon, Venue.lat, Venue.category, Venue.is_key_unit, Venue.address)
            .where(Venue.deleted_at.is_(None))
            .order_by(Venue.id)
        ).all()
        grids = session.execute(
            select(Jurisdiction.center_lon, Jurisdiction.center_lat).where(
                Jurisdiction.level == JurisdictionLevel.GRID.value,
                Jurisdiction.deleted_at.is_(None),
            )
        ).all()
        city = session.scalars(
            select(Jurisdiction.boundary).where(Jurisdiction.level == JurisdictionLevel.CITY.value)
        ).first()
    if not venues or not grids:
        raise ValidationFailed(
            "the database has no venues or grids: build a city first",
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "venue"},
        )
    outline = shape(city) if city else None
    if outline is not None:
        shapely.prepare(outline)
    return CityPoints(
        np.asarray([v.id for v in venues], dtype=np.int64),
        np.asarray([v.lon for v in venues]),
        np.asarray([v.lat for v in venues]),
        [v.category for v in venues],
        np.asarray([v.is_key_unit for v in venues]),
        [v.address for v in venues],
        np.asarray([g.center_lon for g in grids]),
        np.asarray([g.center_lat for g in grids]),
        outline,
    )


def _times(rng: np.random.Generator, count: int, year: int) -> list[datetime]:
    start = datetime(year, 1, 1, tzinfo=CHINA_TZ)
    days = (datetime(year + 1, 1, 1, tzinfo=CHINA_TZ) - start).days
    dates = [start + timedelta(days=d) for d in range(days)]
    month_w = np.asarray(
        [sum(TYPE_MIX[t] * MONTH_TYPE_FACTOR[t][m] for t in TYPE_MIX) for m in range(12)]
    )
    weight = np.asarray([month_w[d.month - 1] * WEEKDAY_FACTOR[d.weekday()] for d in dates])
    day = rng.choice(days, size=count, p=weight / weight.sum())
    hour = rng.choice(24, size=count, p=HOUR_PROFILE / HOUR_PROFILE.sum())
    second = rng.integers(0, 3600, size=count)
    return sorted(
        dates[d] + timedelta(hours=int(h), seconds=int(s))
        for d, h, s in zip(day, hour, second, strict=True)
    )


def _jitter(
    rng: np.random.Generator, lon: float, lat: float, sigma_m: float, outline: Any
) -> tuple[float, float]:
    for _ in range(5):
        dx, dy = rng.normal(0, sigma_m, 2)
        plon = lon + dx / (111_320.0 * math.cos(math.radians(lat)))
        plat = lat + dy / 110_574.0
        if outline is None or shapely.contains_xy(outline, plon, plat):
            return plon, plat
    return lon, lat


def generate_records(
    points: CityPoints, count: int, seed: int, year: int = 2025
) -> Iterator[dict[str, Any]]:
    """``count`` call records in time order (repeat calls included in the count)."""
    rng = np.random.default_rng(seed)
    n_primary = max(1, round(count / (1 + REPEAT_SHARE)))
    times = _times(rng, n_primary, year)
    types = list(TYPE_MIX)
    burn = np.asarray([BURN_WEIGHT.get(c, 1.0) for c in points.venue_category])
    burn_p = burn / burn.sum()
    key_idx = np.flatnonzero(points.venue_key)
    hazmat_w = np.asarray(
        [
            5.0 if c in ("chemical_plant", "factory_large", "factory") else 0.2
            for c in points.venue_category
        ]
    )
    hazmat_p = hazmat_w / hazmat_w.sum()
    records: list[dict[str, Any]] = []
    for seq, at in enumerate(times):
        month = at.month - 1
        w = np.asarray([TYPE_MIX[t] * MONTH_TYPE_FACTOR[t][month] for t in types])
        kind = types[int(rng.choice(len(types), p=w / w.sum()))]
        source = str(rng.choice(list(SOURCE_SHARE), p=list(SOURCE_SHARE.values())))
        if source == "alarm" and (kind != "building_fire" or not len(key_idx)):
            source = "call_119"
        levels = LEVELS_FIRE if kind == "building_fire" else LEVELS_OTHER
        level = int(rng.choice(5, p=levels)) + 1
        venue_id: int | None = None
        category = ""
        address = ""
        if kind == "building_fire":
            i = (
                int(rng.choice(key_idx))
                if source == "alarm"
                else int(rng.choice(len(burn_p), p=burn_p))
            )
            lon, lat = float(points.venue_lon[i]), float(points.venue_lat[i])
            venue_id, category = int(points.venue_id[i]), points.venue_category[i]
            address = points.venue_address[i]
        elif kind == "hazmat":
            i = int(rng.choice(len(hazmat_p), p=hazmat_p))
            lon, lat = _jitter(rng, points.venue_lon[i], points.venue_lat[i], 50, points.outline)
        elif kind == "wildland":
            g = int(rng.integers(len(points.grid_lon)))
            lon, lat = _jitter(rng, points.grid_lon[g], points.grid_lat[g], 300, points.outline)
        else:
            i = int(rng.integers(len(points.venue_id)))
            lon, lat = _jitter(rng, points.venue_lon[i], points.venue_lat[i], 150, points.outline)
        record = {
            "seq": seq,
            "t": at.isoformat(),
            "source": source,
            "incident_type": kind,
            "venue_category": category,
            "level": level,
            "lon": round(float(lon), 7),
            "lat": round(float(lat), 7),
            "venue_id": venue_id,
            "caller_number": f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}",
            "address": address,
            "description": DESCRIPTIONS[kind],
            "external_ref": f"110-{year}-{seq:06d}" if source == "transfer_110" else "",
            "repeat": False,
        }
        records.append(record)
    # repeat calls about some 119 incidents, so that the total is exactly ``count``
    callers = [r for r in records if r["source"] == "call_119"]
    n_repeat = max(min(count - len(records), len(callers)), 0)
    for k in sorted(rng.choice(len(callers), size=n_repeat, replace=False).tolist()):
        record = callers[k]
        later = datetime.fromisoformat(record["t"]) + timedelta(seconds=float(rng.uniform(30, 720)))
        rlon, rlat = _jitter(rng, record["lon"], record["lat"], 60, points.outline)
        records.append(
            {
                **record,
                "t": later.isoformat(),
                "lon": round(rlon, 7),
                "lat": round(rlat, 7),
                "caller_number": f"13{int(rng.integers(0, 10**9)):09d}",
                "repeat": True,
            }
        )
    records.sort(key=lambda r: (r["t"], r["seq"]))
    for n, record in enumerate(records[:count]):
        record["seq"] = n
        yield record


def write_jsonl(records: Iterator[dict[str, Any]], out: Path) -> dict[str, Any]:
    """Write records to ``out``; returns counts by type, source and repeat."""
    by_type: dict[str, int] = {}
    by_source: dict[str, int] = {}
    repeats = total = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            by_type[record["incident_type"]] = by_type.get(record["incident_type"], 0) + 1
            by_source[record["source"]] = by_source.get(record["source"], 0) + 1
            repeats += int(record["repeat"])
            total += 1
    return {
        "file": str(out),
        "records": total,
        "repeat_calls": repeats,
        "by_type": by_type,
        "by_source": by_source,
    }
