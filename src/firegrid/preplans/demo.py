"""Pre-plans for the demo city's key units, generated from their registered buildings and
devices, so a newcomer sees plans, a first-due sheet and an overdue list at once.

SYNTHETIC: every plan is labelled so in its summary and version note. The figures (control
room location, pumps, hazardous materials, staging areas) are plausible placeholders drawn
from the venue's category and buildings; they show what a plan looks like and exercise the
screens, they say nothing about any real building.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from firegrid.core.bulk import advance_id_sequences, insert_chunks, table_of
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.devices.public import Device
from firegrid.places.public import Building, Venue
from firegrid.preplans.cycle import review_due
from firegrid.preplans.document import PlanDocument
from firegrid.preplans.models import Preplan, PreplanVersion, VersionStatus

SYNTHETIC = "合成演示预案 synthetic demo plan"
DEMO_ACTOR = "system:demo"
#: category -> (hazardous material, UN number, class, unit) stored at such venues
HAZMATS: dict[str, tuple[str, str, str, str]] = {
    "chemical_plant": ("甲醇", "1230", "3", "t"),
    "gas_station": ("汽油", "1203", "3", "m3"),
    "warehouse_large": ("锂电池", "3480", "9", "pcs"),
    "factory_large": ("液化石油气", "1075", "2.1", "kg"),
}


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> list[float]:
    cos = math.cos(math.radians(lat))
    return [round(lon + east_m / (111_320.0 * cos), 7), round(lat + north_m / 110_574.0, 7)]


def plan_document(
    venue: Venue, buildings: list[Building], devices: list[Device], rng: np.random.Generator
) -> dict[str, Any]:
    """A plausible synthetic plan for ``venue`` from its buildings and devices."""
    parts = []
    for b in buildings[:6]:
        day = int(venue.occupancy / max(len(buildings), 1))
        parts.append(
            {
                "building_id": b.id,
                "name": b.name,
                "use": venue.category,
                "construction": b.structure or venue.construction_class,
                "height_m": round(b.height_m, 1),
                "floors_above": b.floors_above,
                "floors_below": b.floors_below,
                "occupancy_day": day,
                "occupancy_night": int(venue.night_occupancy / max(len(buildings), 1)),
            }
        )
    transmitters = [d for d in devices if d.kind == "transmitter"]
    sprinklers = [d for d in devices if d.kind == "sprinkler_pressure"]
    standpipes = [
        {
            "name": f"{b.name} {n + 1}#立管",
            "location": "楼梯间" if n == 0 else "消防电梯前室",
            "inlet_location": "主入口东侧" if n == 0 else "北侧道路边",
        }
        for b in buildings[:2]
        for n in range(1 if b.floors_above < 10 else 2)
    ]
    hazmat = HAZMATS.get(venue.category)
    hazmats = []
    if hazmat is not None:
        name, un, hazard_class, unit = hazmat
        hazmats.append(
            {
                "name": name,
                "un_number": un,
                "hazard_class": hazard_class,
                "quantity": float(rng.integers(1, 40)),
                "unit": unit,
                "location": "危险品库房",
            }
        )
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": _offset(venue.lon, venue.lat, *rng.uniform(-60, 60, 2).tolist()),
            },
            "properties": {"kind": "staging_area", "label": "集结区"},
        }
    ]
    if any(b.height_m >= 24 for b in buildings):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": _offset(venue.lon, venue.lat, 25.0, -20.0),
                },
                "properties": {"kind": "aerial_position", "label": "登高操作场地"},
            }
        )
    return PlanDocument.model_validate(
        {
            "summary": f"{SYNTHETIC}：{venue.name}",
            "buildings": parts,
            "fire_protection": {
                "control_room": {
                    "location": "首层消防控制室",
                    "phone": venue.contact_phone or "",
                },
                "standpipes": standpipes,
                "sprinkler_zones": [
                    {
                        "name": f"喷淋分区 {n + 1}",
                        "covers": "地下室及首层",
                        "valve_location": "水泵房",
                    }
                    for n, _d in enumerate(sprinklers[:4])
                ],
                "fire_pumps": [
                    {"name": "消防主泵", "location": "地下一层水泵房", "flow_lps": 40.0}
                ],
                "alarm_panels": [
                    {"name": "火灾报警控制器", "location": "消防控制室", "device_id": d.id}
                    for d in transmitters[:2]
                ],
            },
            "hazmats": hazmats,
            "utilities": [
                {"utility": "electricity", "location": "首层配电房"},
                {"utility": "gas", "location": "厨房燃气总阀"},
            ],
            "contacts": [
                {
                    "name": venue.contact_name or "值班员",
                    "role": "消防安全管理人",
                    "phone": venue.contact_phone or "",
                }
            ],
            "special_hazards": (["危险化学品"] if hazmats else [])
            + (["高层建筑，外部救援受限"] if any(b.height_m >= 50 for b in buildings) else []),
            "tactics": "首车停靠主入口，连接水泵接合器；登高车至登高操作场地。",
            "map_features": features,
        }
    ).model_dump(mode="json")


def generate_preplans(database: Database, seed: int = 7) -> dict[str, int]:
    """Published plans for every key unit; publication dates spread over two years so
    some reviews are overdue. Returns counts."""
    rng = np.random.default_rng(seed + 1620)
    now = utcnow()
    with database.session() as session:
        venues = session.scalars(
            select(Venue)
            .where(Venue.is_key_unit.is_(True), Venue.deleted_at.is_(None))
            .order_by(Venue.id)
        ).all()
        ids = [v.id for v in venues]
        buildings: dict[int, list[Building]] = defaultdict(list)
        devices: dict[int, list[Device]] = defaultdict(list)
        for chunk in range(0, len(ids), 5000):
            part = ids[chunk : chunk + 5000]
            for b in session.scalars(
                select(Building).where(Building.venue_id.in_(part)).order_by(Building.id)
            ):
                buildings[b.venue_id].append(b)
            for d in session.scalars(
                select(Device).where(Device.venue_id.in_(part)).order_by(Device.id)
            ):
                devices[d.venue_id].append(d)
        plans, versions = [], []
        overdue = 0
        for n, venue in enumerate(venues, start=1):
            document = plan_document(venue, buildings[venue.id], devices[venue.id], rng)
            published_at = now - timedelta(days=float(rng.uniform(1, 500)))
            due = review_due(published_at, "unassessed")
            overdue += due <= now
            plans.append(
                {
                    "id": n,
                    "venue_id": venue.id,
                    "jurisdiction_path": venue.jurisdiction_path,
                    "latest_version": 1,
                    "published_version": 1,
                    "published_at": published_at,
                    "review_due_at": due,
                    "risk_grade": "unassessed",
                    "created_at": published_at,
                    "updated_at": published_at,
                }
            )
            versions.append(
                {
                    "id": n,
                    "preplan_id": n,
                    "version": 1,
                    "status": VersionStatus.PUBLISHED.value,
                    "document": document,
                    "note": SYNTHETIC,
                    "created_by": DEMO_ACTOR,
                    "created_role": "admin",
                    "created_at": published_at,
                    "reviewed_by": DEMO_ACTOR,
                    "reviewed_at": published_at,
                    "published_by": DEMO_ACTOR,
                    "published_at": published_at,
                }
            )
        connection = session.connection()
        insert_chunks(connection, table_of(Preplan), plans)
        insert_chunks(connection, table_of(PreplanVersion), versions, size=1000)
        advance_id_sequences(connection, [table_of(Preplan), table_of(PreplanVersion)])
    return {"plans": len(plans), "review_overdue": overdue}
