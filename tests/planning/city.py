"""The planning tests' city: the dispatch tests' three towns (generated roads, 9 stations
with their vehicles) plus a spread of venues of several categories and occupancies, a
school and a gas station for the siting rules."""

from __future__ import annotations

import numpy as np

from firegrid.core.db import Database
from firegrid.places.models import Venue
from tests.dispatch.city import DCity, build_dispatch_city

CATEGORIES = ["small_shop", "factory", "rental_housing", "warehouse", "restaurant", "office"]


def build_planning_city(database: Database, venues: int = 90) -> DCity:
    city = build_dispatch_city(database)
    rng = np.random.default_rng(5)
    grids = {key: path for key, path in city.paths.items() if key.startswith("grid:")}
    with database.session() as session:
        from sqlalchemy import select

        from firegrid.places.models import Jurisdiction

        grid_rows = {
            row.path: row
            for row in session.scalars(
                select(Jurisdiction).where(Jurisdiction.path.in_(list(grids.values())))
            )
        }
        for n in range(venues):
            lon = float(rng.uniform(113.005, 113.295))
            lat = float(rng.uniform(23.005, 23.095))
            town = "west" if lon < 113.1 else "middle" if lon < 113.2 else "east"
            side = "n" if lat >= 23.05 else "s"
            grid = grid_rows[grids[f"grid:{town}:{side}"]]
            session.add(
                Venue(
                    code=f"PV{n:03d}",
                    name=f"venue {n}",
                    category=CATEGORIES[n % len(CATEGORIES)],
                    occupancy=int(rng.integers(0, 400)),
                    lon=lon,
                    lat=lat,
                    jurisdiction_id=grid.id,
                    jurisdiction_path=grid.path,
                )
            )
    return city
