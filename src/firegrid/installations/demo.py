"""The demo city's installation programmes (synthetic): a year of standalone smoke alarms
— 3,156, the seed's figure for new smoke alarms in a year — and simple sprinklers, spread
over the grids in proportion to their rental housing and three-small venues; about one
smoke alarm in ten is a connected one, bound to a registered smoke alarm of its grid."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select

from firegrid.core.bulk import require_empty, table_of
from firegrid.core.clock import CHINA_TZ, utcnow
from firegrid.core.db import Database
from firegrid.devices.public import Device
from firegrid.installations.models import Installation, InstallationProgramme
from firegrid.places.public import Jurisdiction, JurisdictionLevel, Venue

SMOKE_ALARMS_PER_YEAR = 3_156
SPRINKLERS_PER_YEAR = 420
CONNECTED_SHARE = 0.1
LABEL = "(synthetic)"


def _household(rng: np.random.Generator) -> str:
    """A household or room label such as ``12栋 305``."""
    building = int(rng.integers(1, 30))
    return f"{building}栋 {int(rng.integers(1, 8))}0{int(rng.integers(1, 9))}"


def generate_installations(
    database: Database, seed: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Write the demo programmes and a year of installations ending at ``now``."""
    now = now or utcnow()
    rng = np.random.default_rng(seed + 18)
    with database.engine.begin() as connection:
        require_empty(
            connection,
            [table_of(Installation), table_of(InstallationProgramme)],
            "demo installations",
        )
        city = connection.execute(
            select(Jurisdiction.path).where(Jurisdiction.level == JurisdictionLevel.CITY.value)
        ).first()
        grids = connection.execute(
            select(Jurisdiction.code, Jurisdiction.path)
            .where(Jurisdiction.level == JurisdictionLevel.GRID.value)
            .order_by(Jurisdiction.id)
        ).all()
        if city is None or not grids:
            return {"installations": 0}
        weight = {str(path): 1.0 for _code, path in grids}
        for path, category in connection.execute(
            select(Venue.jurisdiction_path, Venue.category).where(Venue.deleted_at.is_(None))
        ):
            if category in {
                "rental_housing",
                "small_shop",
                "small_workshop",
                "dormitory",
                "shop_house",
            }:
                weight[str(path)] = weight.get(str(path), 1.0) + 1.0
        paths = list(weight)
        p = np.array([weight[x] for x in paths])
        p /= p.sum()
        free_devices: dict[str, list[int]] = {}
        for free_id, path in connection.execute(
            select(Device.id, Device.jurisdiction_path)
            .where(Device.kind == "smoke_alarm", Device.deleted_at.is_(None))
            .order_by(Device.id)
        ):
            free_devices.setdefault(str(path), []).append(int(free_id))
        start = (now - timedelta(days=365)).astimezone(CHINA_TZ).date()
        end = now.astimezone(CHINA_TZ).date()
        programmes = []
        for code, name in (
            ("DEMO-SMOKE", f"独立式感烟火灾探测报警器入户安装 {LABEL}"),
            ("DEMO-SPRINKLER", f"简易喷淋进三小场所、出租屋 {LABEL}"),
        ):
            result = connection.execute(
                insert(table_of(InstallationProgramme)).values(
                    code=code,
                    name=name,
                    scope_path=str(city[0]),
                    starts_on=start,
                    ends_on=end,
                    target_count=SMOKE_ALARMS_PER_YEAR if code == "DEMO-SMOKE" else 400,
                    created_at=now - timedelta(days=365),
                    created_by="demo",
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            programmes.append(int(key[0]))
        rows: list[dict[str, Any]] = []
        for programme_id, device_type, count in (
            (programmes[0], "smoke_alarm", SMOKE_ALARMS_PER_YEAR),
            (programmes[1], "simple_sprinkler", SPRINKLERS_PER_YEAR),
        ):
            chosen = rng.choice(len(paths), size=count, p=p)
            # seconds back from now, at least an hour (the year ends "now")
            back = rng.uniform(3_600, 364 * 86_400, size=count)
            for i in range(count):
                path = paths[int(chosen[i])]
                device_id: int | None = None
                if device_type == "smoke_alarm" and rng.random() < CONNECTED_SHARE:
                    free = free_devices.get(path)
                    if free:
                        device_id = free.pop()
                rows.append(
                    {
                        "programme_id": programme_id,
                        "device_type": device_type,
                        "unit_kind": "room" if rng.random() < 0.4 else "household",
                        "address": "",
                        "household": _household(rng),
                        "venue_id": None,
                        "device_id": device_id,
                        "installed_at": now - timedelta(seconds=float(back[i])),
                        "installer": f"demo installer {int(rng.integers(1, 60))}",
                        "jurisdiction_path": path,
                        "recorded_at": now,
                        "recorded_by": "demo",
                    }
                )
        for begin in range(0, len(rows), 2_000):
            connection.execute(insert(table_of(Installation)), rows[begin : begin + 2_000])
    connected = sum(1 for r in rows if r["device_id"] is not None)
    return {
        "smoke_alarms": SMOKE_ALARMS_PER_YEAR,
        "simple_sprinklers": SPRINKLERS_PER_YEAR,
        "connected": connected,
        "synthetic": True,
    }
