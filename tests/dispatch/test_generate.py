"""The generated year: exact count, time order, documented type mix and seasonality."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
from shapely.geometry import box

from firegrid.dispatch.generate import TYPE_MIX, CityPoints, generate_records


def points() -> CityPoints:
    rng = np.random.default_rng(0)
    n = 500
    categories = ["small_shop", "factory", "office", "chemical_plant", "rental_housing"]
    return CityPoints(
        venue_id=np.arange(1, n + 1),
        venue_lon=rng.uniform(113.6, 114.2, n),
        venue_lat=rng.uniform(22.7, 23.1, n),
        venue_category=[categories[i % len(categories)] for i in range(n)],
        venue_key=np.arange(n) % 10 == 0,
        venue_address=[f"address {i}" for i in range(n)],
        grid_lon=rng.uniform(113.6, 114.2, 50),
        grid_lat=rng.uniform(22.7, 23.1, 50),
        outline=box(113.5, 22.6, 114.3, 23.2),
    )


def test_a_year_has_the_documented_shape() -> None:
    records = list(generate_records(points(), 12_000, seed=3, year=2025))
    assert len(records) == 12_000
    times = [datetime.fromisoformat(r["t"]) for r in records]
    assert times == sorted(times)
    assert all(t.year in (2025, 2026) and t.utcoffset() is not None for t in times)
    primary = [r for r in records if not r["repeat"]]
    share = Counter(r["incident_type"] for r in primary)
    for kind, expected in TYPE_MIX.items():
        assert abs(share[kind] / len(primary) - expected) < 0.03, kind
    flood_months = {
        datetime.fromisoformat(r["t"]).month for r in primary if r["incident_type"] == "flood"
    }
    assert flood_months <= set(range(4, 10))
    hours = Counter(datetime.fromisoformat(r["t"]).hour for r in records)
    assert hours[19] > 2 * hours[4]
    assert 0.06 < sum(r["repeat"] for r in records) / len(records) < 0.12
    sources = Counter(r["source"] for r in records)
    assert sources["call_119"] > sources["transfer_110"] > sources["alarm"] > 0
    assert all(r["venue_id"] for r in records if r["incident_type"] == "building_fire")
    assert list(generate_records(points(), 300, seed=3)) == list(
        generate_records(points(), 300, seed=3)
    )
