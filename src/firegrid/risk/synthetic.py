"""Synthetic venues, facts, events and incident history (deterministic by seed).

THE DATA MADE HERE IS SYNTHETIC. It exists so the engine, the demo city and the benchmark
can run without real data, and so the predictive model's validation has a ground truth.

Hidden generating process of :func:`incident_history` (documented here, not visible to the
models, which only see the facts):

* every venue has a latent frailty ``u ~ Normal(0, 0.6)``, fixed over all periods;
* in period ``p`` the venue's incident count is ``Poisson(λ)`` with ::

      log λ = b0 + 0.80·[overdue_rectifications > 0] + 0.35·log1p(open_hazards)
                 + 1.00·offline_ratio + 0.60·[no connected devices]
                 + c(category) + 0.20·log1p(night_occupancy)
                 + 0.50·[construction IV] + 0.25·[construction III]
                 + 0.25·[not inspected for a year] + u + ε,   ε ~ Normal(0, 0.3)

  read from the facts at the end of period ``p − 1``; ``c`` is +1.2 for chemical plants,
  +0.8 small workshops, +0.65 small entertainment, +0.6 rental housing, +0.45 factories
  and warehouses, +0.4 restaurants and markets, −0.4 offices, 0 otherwise; ``b0`` is set
  so that the mean λ is ``base_rate`` (default 0.03 a period);
* response capacity (travel time, hydrants), floors, floor area and building age do
  **not** enter the hazard (they drive the consequence of a fire, not its occurrence);
* between periods, the facts drift: hazards are partly rectified and new ones found,
  inspections happen, devices go offline and back, alarms follow the hazard, and
  ``incidents_venue_3y`` / ``incidents_grid_3y`` take in the simulated incidents.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.events import EVENT_KINDS
from firegrid.risk.features import FACT_SCHEMA, validate_facts, validate_venues
from firegrid.risk.history import IncidentHistory

GENERATING_PROCESS = __doc__ or ""
#: The catalogue indicators that read an input of the hidden formula (the ablation's
#: "generator features"); every other indicator is outside it.
GENERATOR_INDICATORS = frozenset(
    {
        "overdue_rectifications",
        "open_hazards",
        "offline_ratio",
        "monitoring_connected",
        "category_hazard",
        "night_occupancy",
        "construction_class",
        "days_since_inspection",
    }
)

FloatArray = npt.NDArray[np.float64]

_CATEGORIES: dict[str, tuple[float, str]] = {
    # category: (share, industry code)
    "rental_housing": (0.27, "K70"),
    "small_shop": (0.19, "F52"),
    "small_workshop": (0.07, "C18"),
    "small_entertainment": (0.03, "R90"),
    "restaurant": (0.08, "H62"),
    "factory": (0.10, "C39"),
    "warehouse": (0.04, "G59"),
    "office": (0.06, "L72"),
    "residential_building": (0.07, "K70"),
    "market": (0.01, "F52"),
    "hotel": (0.012, "H61"),
    "school": (0.01, "P83"),
    "hospital": (0.004, "Q84"),
    "shopping_mall": (0.003, "F52"),
    "factory_large": (0.015, "C39"),
    "warehouse_large": (0.006, "G59"),
    "high_rise_office": (0.006, "L72"),
    "chemical_plant": (0.002, "C26"),
    "public_entertainment": (0.004, "R90"),
}
_KEY_DEFAULT = {
    "high_rise_office",
    "shopping_mall",
    "hospital",
    "school",
    "hotel",
    "factory_large",
    "warehouse_large",
    "chemical_plant",
    "public_entertainment",
}
_CATEGORY_EFFECT = {
    "chemical_plant": 1.2,
    "small_workshop": 0.8,
    "small_entertainment": 0.65,
    "rental_housing": 0.6,
    "factory": 0.45,
    "factory_large": 0.45,
    "warehouse": 0.45,
    "warehouse_large": 0.45,
    "restaurant": 0.4,
    "market": 0.4,
    "office": -0.4,
}
# Dongguan, roughly.
_LON = (113.55, 114.20)
_LAT = (22.68, 23.10)


def make_venues(
    n: int,
    seed: int = 0,
    *,
    n_towns: int = 33,
    villages_per_town: int = 18,
    grids_per_village: int = 5,
) -> pl.DataFrame:
    """``n`` synthetic venues following the input contract (SYNTHETIC)."""
    rng = np.random.default_rng(seed)
    cats = list(_CATEGORIES)
    shares = np.array([_CATEGORIES[c][0] for c in cats])
    cat_idx = rng.choice(len(cats), size=n, p=shares / shares.sum())
    cat = np.asarray(cats)[cat_idx]
    industry = np.asarray([_CATEGORIES[c][1] for c in cats])[cat_idx]

    town_w = rng.dirichlet(np.full(n_towns, 3.0))
    town = rng.choice(n_towns, size=n, p=town_w)
    village = rng.integers(0, villages_per_town, size=n)
    grid = rng.integers(0, grids_per_village, size=n)
    town_lon = rng.uniform(*_LON, size=n_towns)
    town_lat = rng.uniform(*_LAT, size=n_towns)
    vil_dlon = rng.normal(0, 0.025, size=(n_towns, villages_per_town))
    vil_dlat = rng.normal(0, 0.025, size=(n_towns, villages_per_town))
    lon = town_lon[town] + vil_dlon[town, village] + rng.normal(0, 0.006, size=n)
    lat = town_lat[town] + vil_dlat[town, village] + rng.normal(0, 0.006, size=n)

    town_code = np.char.add("T", np.char.zfill(town.astype(str), 2))
    village_code = np.char.add(np.char.add(town_code, "V"), np.char.zfill(village.astype(str), 2))
    grid_code = np.char.add(np.char.add(village_code, "G"), grid.astype(str))

    is_key = np.isin(cat, list(_KEY_DEFAULT)) | (rng.random(n) < 0.01)
    is_high_risk = (cat == "chemical_plant") | (
        np.isin(cat, ["shopping_mall", "high_rise_office", "public_entertainment"])
        & (rng.random(n) < 0.4)
    )
    is_three_small = np.isin(cat, ["small_shop", "small_workshop", "small_entertainment"])
    is_rental = cat == "rental_housing"

    big = np.isin(cat, list(_KEY_DEFAULT))
    area = np.exp(rng.normal(np.where(big, 8.5, 5.0), 0.8))
    floors = np.where(
        np.isin(cat, ["high_rise_office", "residential_building"]),
        rng.integers(6, 40, size=n),
        np.where(big, rng.integers(2, 12, size=n), rng.integers(1, 7, size=n)),
    )
    occupancy = np.round(area / rng.uniform(5, 25, size=n)).astype(np.int64)
    sleeps = np.isin(cat, ["rental_housing", "hotel", "hospital", "residential_building"]) | (
        (cat == "small_workshop") & (rng.random(n) < 0.35)
    )
    night = np.where(sleeps, np.round(occupancy * rng.uniform(0.3, 1.0, size=n)), 0).astype(
        np.int64
    )
    classes = np.array(["I", "II", "III", "IV"])
    cclass = classes[
        rng.choice(4, size=n, p=[0.15, 0.45, 0.28, 0.12]) if n else np.zeros(0, dtype=np.int64)
    ]
    built = rng.integers(1978, 2026, size=n).astype(float)
    built[rng.random(n) < 0.03] = np.nan

    return pl.DataFrame(
        {
            "venue_id": np.arange(1, n + 1, dtype=np.int64),
            "town_code": town_code,
            "village_code": village_code,
            "grid_code": grid_code,
            "category": cat,
            "industry_code": industry,
            "is_key_unit": is_key,
            "is_high_risk": is_high_risk,
            "is_three_small": is_three_small,
            "is_rental": is_rental,
            "floor_area_m2": np.round(area, 1),
            "floors": floors.astype(np.int32),
            "occupancy": occupancy.astype(np.int32),
            "night_occupancy": night.astype(np.int32),
            "construction_class": cclass,
            "built_year": pl.Series(built, nan_to_null=True).cast(pl.Int32),
            "lon": lon,
            "lat": lat,
        }
    )


def _travel_time_s(venues: pl.DataFrame, rng: np.random.Generator) -> FloatArray:
    # Distance to the town's centroid stands in for distance to the town's station.
    c = venues.select(
        pl.col("lon").mean().over("town_code").alias("clon"),
        pl.col("lat").mean().over("town_code").alias("clat"),
        "lon",
        "lat",
    )
    dx = (c["lon"].to_numpy() - c["clon"].to_numpy()) * 102.0
    dy = (c["lat"].to_numpy() - c["clat"].to_numpy()) * 111.0
    km = np.hypot(dx, dy)
    return np.asarray(
        (90.0 + km * 95.0) * rng.lognormal(0.0, 0.25, size=venues.height), dtype=np.float64
    )


def facts_for(venues: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """Plausible synthetic facts for ``venues`` (SYNTHETIC, deterministic by seed)."""
    v, _ = validate_venues(venues)
    rng = np.random.default_rng(seed + 7919)
    n = v.height
    cat = v["category"].to_numpy()
    key = v["is_key_unit"].to_numpy()
    small = v["is_three_small"].to_numpy() | v["is_rental"].to_numpy()
    mgmt = rng.normal(0.0, 1.0, size=n)  # latent management quality (higher = worse)
    open_h = rng.poisson(np.exp(-0.2 + 0.6 * mgmt + 0.3 * small))
    overdue = rng.binomial(open_h, np.clip(0.25 + 0.15 * mgmt, 0.02, 0.9))
    days = rng.exponential(np.exp(5.0 + 0.4 * mgmt - 0.6 * key))
    days[rng.random(n) < 0.05] = np.nan
    has_dev = np.where(key, rng.random(n) < 0.97, rng.random(n) < np.where(small, 0.55, 0.4))
    devices = np.where(has_dev, np.maximum(1, rng.poisson(np.where(key, 40, 3))), 0)
    off_p = np.clip(rng.beta(1.0, 12.0, size=n) + 0.05 * np.maximum(mgmt, 0), 0, 1)
    offline = rng.binomial(devices, off_p)
    faults = rng.poisson(np.where(has_dev, 0.3 + 0.4 * np.maximum(mgmt, 0), 0.0))
    alarms = rng.poisson(np.where(has_dev, 0.4 + 0.2 * np.maximum(mgmt, 0), 0.0))
    far = np.where(alarms > 0, rng.beta(2.0, 3.0, size=n), np.nan)
    travel = _travel_time_s(v, rng)
    travel[rng.random(n) < 0.01] = np.nan
    hydrant = rng.random(n) < np.clip(0.85 - travel / 3000.0, 0.3, 0.95)
    inc_v = rng.poisson(np.where(np.isin(cat, list(_CATEGORY_EFFECT)), 0.08, 0.04))
    facts = pl.DataFrame(
        {
            "venue_id": v["venue_id"],
            "open_hazards": open_h.astype(np.int32),
            "overdue_rectifications": overdue.astype(np.int32),
            "days_since_inspection": pl.Series(np.round(days, 1), nan_to_null=True),
            "device_count": devices.astype(np.int32),
            "offline_devices": offline.astype(np.int32),
            "unresolved_faults": faults.astype(np.int32),
            "false_alarm_rate": pl.Series(far, nan_to_null=True),
            "fire_alarms_90d": alarms.astype(np.int32),
            "first_due_travel_time_s": pl.Series(np.round(travel, 1), nan_to_null=True),
            "hydrant_within_150m": hydrant,
            "incidents_venue_3y": inc_v.astype(np.int32),
            "incidents_grid_3y": np.zeros(n, dtype=np.int32),
        }
    )
    return _with_grid_incidents(facts, v)


def _with_grid_incidents(facts: pl.DataFrame, venues: pl.DataFrame) -> pl.DataFrame:
    grid = venues.select("venue_id", "grid_code").join(
        facts.select("venue_id", "incidents_venue_3y"), on="venue_id", how="left"
    )
    per = grid.select(
        "venue_id",
        pl.col("incidents_venue_3y").fill_null(0).sum().over("grid_code").alias("g"),
    )
    return (
        facts.drop("incidents_grid_3y")
        .join(per, on="venue_id", how="left", maintain_order="left")
        .with_columns(pl.col("g").cast(pl.Int32).alias("incidents_grid_3y"))
        .drop("g")
        .select(list(FACT_SCHEMA))
    )


def log_hazard_without_noise(venues: pl.DataFrame, facts: pl.DataFrame) -> FloatArray:
    """The systematic part of the hidden log-hazard (without b0, frailty and noise)."""
    j = venues.select("venue_id", "category", "night_occupancy", "construction_class").join(
        facts, on="venue_id", how="left", maintain_order="left"
    )

    def num(col: str) -> FloatArray:
        x = j[col].cast(pl.Float64).to_numpy().astype(np.float64)
        return np.asarray(np.nan_to_num(x, nan=0.0), dtype=np.float64)

    devices = num("device_count")
    offline_ratio = np.where(devices > 0, num("offline_devices") / np.maximum(devices, 1), 0.0)
    days = j["days_since_inspection"].cast(pl.Float64).to_numpy().astype(np.float64)
    cat = j["category"].to_numpy()
    ceff = np.zeros(j.height)
    for c, eff in _CATEGORY_EFFECT.items():
        ceff[cat == c] = eff
    cc = j["construction_class"].to_numpy()
    return np.asarray(
        0.80 * (num("overdue_rectifications") > 0)
        + 0.35 * np.log1p(num("open_hazards"))
        + 1.00 * np.clip(offline_ratio, 0, 1)
        + 0.60 * (devices <= 0)
        + ceff
        + 0.20 * np.log1p(num("night_occupancy"))
        + 0.50 * (cc == "IV")
        + 0.25 * (cc == "III")
        + 0.25 * (np.isnan(days) | (np.nan_to_num(days, nan=0.0) > 365)),
        dtype=np.float64,
    )


def _evolve(
    prev: pl.DataFrame,
    incidents_window: list[npt.NDArray[np.int64]],
    baseline_3y: npt.NDArray[np.int64],
    period: int,
    lam: FloatArray,
    venues: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    n = prev.height

    def arr(col: str) -> FloatArray:
        return prev[col].cast(pl.Float64).to_numpy().astype(np.float64)

    open_old = np.nan_to_num(arr("open_hazards"))
    over_old = np.nan_to_num(arr("overdue_rectifications"))
    open_new = rng.binomial(open_old.astype(np.int64), 0.4) + rng.poisson(
        0.6 * (open_old + 0.5) / 1.5
    )
    overdue = rng.binomial(open_new, np.where(over_old > 0, 0.5, 0.2))
    days_old = arr("days_since_inspection")
    inspected = rng.random(n) < 0.7
    days = np.where(inspected, rng.uniform(0, 365, size=n), days_old + 365.0)
    devices = np.nan_to_num(arr("device_count")).astype(np.int64)
    ratio_old = np.where(
        devices > 0, np.nan_to_num(arr("offline_devices")) / np.maximum(devices, 1), 0
    )
    offline = rng.binomial(devices, np.clip(ratio_old * 0.6 + 0.03, 0, 1))
    faults = rng.poisson(0.5 * np.nan_to_num(arr("unresolved_faults")) + 0.2 * (devices > 0))
    alarms = rng.poisson((0.2 + 3.0 * lam) * (devices > 0))
    recent = sum(incidents_window[-3:])
    carried = rng.binomial(baseline_3y, max(0.0, (3 - period) / 3.0))
    out = prev.with_columns(
        pl.Series("open_hazards", open_new.astype(np.int32)),
        pl.Series("overdue_rectifications", overdue.astype(np.int32)),
        pl.Series("days_since_inspection", np.round(days, 1), nan_to_null=True),
        pl.Series("offline_devices", offline.astype(np.int32)),
        pl.Series("unresolved_faults", faults.astype(np.int32)),
        pl.Series("fire_alarms_90d", alarms.astype(np.int32)),
        pl.Series("incidents_venue_3y", (recent + carried).astype(np.int32)),
    )
    return _with_grid_incidents(out, venues)


def incident_history(
    venues: pl.DataFrame,
    facts: pl.DataFrame,
    periods: int = 3,
    seed: int = 0,
    *,
    period_days: int = 365,
    end: datetime | None = None,
    base_rate: float = 0.03,
) -> IncidentHistory:
    """Simulate ``periods`` consecutive periods of incidents (SYNTHETIC; see module doc).

    ``facts`` is the state before period 1 (``snapshots[0]``); ``snapshots[p]`` is the
    drifted state at the end of period ``p``. For a consistent demo, store
    ``history.snapshots[periods]`` (the latest facts) as the current facts.
    """
    v, _ = validate_venues(venues)
    f, _ = validate_facts(facts)
    f = v.select("venue_id").join(f, on="venue_id", how="left", maintain_order="left")
    rng = np.random.default_rng(seed + 104729)
    n = v.height
    frailty = rng.normal(0.0, 0.6, size=n)
    end_at = end or datetime(2026, 1, 1, tzinfo=UTC)
    baseline = np.nan_to_num(f["incidents_venue_3y"].cast(pl.Float64).to_numpy()).astype(np.int64)
    snapshots: dict[int, pl.DataFrame] = {0: f}
    window: list[npt.NDArray[np.int64]] = []
    rows: list[pl.DataFrame] = []
    vid = v["venue_id"].to_numpy()
    for p in range(1, periods + 1):
        systematic = log_hazard_without_noise(v, snapshots[p - 1]) + frailty
        eps = rng.normal(0.0, 0.3, size=n)
        b0 = np.log(base_rate / np.mean(np.exp(systematic + eps))) if n else 0.0
        lam = np.exp(b0 + systematic + eps)
        counts = rng.poisson(lam)
        window.append(counts.astype(np.int64))
        hit = counts > 0
        rows.append(
            pl.DataFrame(
                {
                    "venue_id": vid[hit].astype(np.int64),
                    "period": np.full(int(hit.sum()), p, dtype=np.int32),
                    "incidents": counts[hit].astype(np.int32),
                }
            )
        )
        snapshots[p] = _evolve(snapshots[p - 1], window, baseline, p, lam, v, rng)
    ends = {p: end_at - timedelta(days=period_days * (periods - p)) for p in range(periods + 1)}
    return IncidentHistory(
        incidents=pl.concat(rows),
        snapshots=snapshots,
        period_ends=ends,
        synthetic=True,
        description=GENERATING_PROCESS,
    )


def simulate_events(
    venues: pl.DataFrame,
    n_events: int,
    seed: int = 0,
    *,
    snapshot_at: datetime | None = None,
    days: float = 365.0,
) -> pl.DataFrame:
    """``n_events`` synthetic device/alarm events over the ``days`` before ``snapshot_at``.

    Columns: ``venue_id`` (i64), ``kind`` (Enum of :data:`~firegrid.risk.events.EVENT_KINDS`),
    ``occurred_at`` (Datetime µs, UTC). Venues get events in heavy-tailed proportions.
    """
    rng = np.random.default_rng(seed + 15485863)
    at = snapshot_at or datetime(2026, 1, 1, tzinfo=UTC)
    ids = venues["venue_id"].cast(pl.Int64).to_numpy()
    weights = rng.lognormal(0.0, 1.0, size=ids.size)
    cdf = np.cumsum(weights)
    pick = np.searchsorted(cdf, rng.random(n_events) * cdf[-1], side="right")
    kind_p = np.array([0.08, 0.04, 0.30, 0.26, 0.16, 0.16])
    kinds = rng.choice(len(EVENT_KINDS), size=n_events, p=kind_p / kind_p.sum()).astype(np.uint32)
    end_us = int(at.timestamp() * 1_000_000)
    offsets = (rng.random(n_events) * days * 86_400_000_000).astype(np.int64)
    kind_enum = pl.Enum(list(EVENT_KINDS))
    return pl.DataFrame(
        {
            "venue_id": ids[np.minimum(pick, ids.size - 1)],
            "kind": pl.Series("kind", list(EVENT_KINDS), dtype=kind_enum).gather(kinds),
            "occurred_at": pl.Series(end_us - offsets).cast(pl.Datetime("us", "UTC")),
        }
    )
