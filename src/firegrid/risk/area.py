"""Area assessment: grade the city, towns, villages, grids, industries and categories by
their own indicators (:mod:`firegrid.risk.area_method`), not by the mean venue score.

Per venue, :func:`venue_basis` turns the run's scores and features into additive measures
(1 per venue, floor area, 1 if red or orange, 1 if a key unit without monitoring, offline
devices …). Per area the measures are summed, joined with the area's own context (land
area, population, fire stations and engines — :class:`AreaContext`), and each indicator is
a ratio of two measures (or a quantile of a travel time) mapped linearly between its
``good`` and ``bad`` anchors to a risk in [0, 1]. The area score is the weighted mean of the
indicators that could be computed (AHP weights re-normalised over them) × 100; its grade
uses the method's own thresholds. ``drivers`` are the indicators whose risk is at least
0.5, largest contribution first (at most :data:`MAX_DRIVERS`).

Sums are additive, so :class:`firegrid.risk.area_index.AreaIndex` re-grades the areas of
one changed venue by subtracting its old measures and adding the new ones — no pass over
the city.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.area_method import SPATIAL_MEASURES, AreaMethod

FloatArray = npt.NDArray[np.float64]
AREA_LEVELS = ("city", "town", "village", "grid", "industry", "category")
SPATIAL_LEVELS = ("city", "town", "village", "grid")
#: The one city's key in the area basis (every venue is in it; the context keys it so too).
CITY_KEY = "city"
LEVEL_KEY = {
    "city": "city",
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
    "industry": "industry_code",
    "category": "category",
}
MAX_DRIVERS = 3
DRIVER_MIN_RISK = 0.5
#: Additive per-venue measures (columns of :func:`venue_basis`).
VENUE_MEASURES = (
    "n_venues",
    "floor_area_m2",
    "n_red_orange",
    "n_key_or_high_risk",
    "n_small_or_rental",
    "n_crowded_mixed",
    "n_hazardous",
    "n_hydrant_missing",
    "n_hydrant_known",
    "n_inspection_known",
    "n_not_inspected_1y",
    "n_overdue_venues",
    "n_key",
    "n_key_unconnected",
    "offline_devices",
    "device_count",
    "n_offline_known",
    "n_beyond_5min",
    "n_travel_known",
    "incidents_3y",
    "n_incident_known",
)
#: A measure is unknown (null) for an area where its companion count is 0.
KNOWN_BY = {
    "offline_devices": "n_offline_known",
    "device_count": "n_offline_known",
    "incidents_3y": "n_incident_known",
}


@dataclass
class AreaContext:
    """What an area is as land: per spatial level a frame ``code`` (str; the city's is
    :data:`CITY_KEY`), ``area_km2``, ``population``, ``stations``, ``units`` (nullable; null
    = unknown). ``venue_extra`` (optional): ``venue_id``, ``full_assignment_travel_time_s``.
    ``population_report``: where the population came from, per level (reported with the
    run; :func:`firegrid.risk.area_population.population_report`)."""

    levels: dict[str, pl.DataFrame] = field(default_factory=dict)
    venue_extra: pl.DataFrame | None = None
    population_report: dict[str, Any] = field(default_factory=dict)


def _flag(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null(False).cast(pl.Float64)


def venue_basis(
    scores: pl.DataFrame,
    features: pl.DataFrame,
    method: AreaMethod,
    venue_extra: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per venue: the level keys, the additive measures and the quantile columns."""
    sets = method.doc.category_sets
    f = features.select(
        "venue_id",
        "floor_area_m2",
        "is_three_small",
        "is_rental",
        "device_count",
        "offline_devices",
        "hydrant_within_150m",
        "open_hazards",
        "overdue_rectifications",
        "days_since_inspection",
        "first_due_travel_time_s",
        "incidents_venue_3y",
    )
    s = scores.select(
        "venue_id",
        "town_code",
        "village_code",
        "grid_code",
        "industry_code",
        "category",
        "is_key_unit",
        "is_high_risk",
        "grade",
    )
    if s.height == f.height and s["venue_id"].equals(f["venue_id"]):
        j = pl.concat([s, f.drop("venue_id")], how="horizontal")  # row-aligned (a run's frames)
    else:
        j = s.join(f, on="venue_id", how="left", maintain_order="left")
    if venue_extra is not None and "full_assignment_travel_time_s" in venue_extra.columns:
        j = j.join(
            venue_extra.select("venue_id", "full_assignment_travel_time_s"),
            on="venue_id",
            how="left",
            maintain_order="left",
        )
    else:
        j = j.with_columns(pl.lit(None, dtype=pl.Float64).alias("full_assignment_travel_time_s"))
    key = pl.col("is_key_unit").fill_null(False)
    travel = pl.col("first_due_travel_time_s")
    inspected_known = pl.col("open_hazards").is_not_null()
    days = pl.col("days_since_inspection")
    offline_known = pl.col("offline_devices").is_not_null() & (pl.col("device_count") > 0)
    grade = pl.col("grade").cast(pl.String)
    return j.select(
        pl.lit(CITY_KEY).alias("city"),
        "venue_id",
        "town_code",
        "village_code",
        "grid_code",
        "industry_code",
        "category",
        pl.lit(1.0).alias("n_venues"),
        pl.col("floor_area_m2").cast(pl.Float64).fill_null(0.0).alias("floor_area_m2"),
        _flag(grade.is_in(["red", "orange"])).alias("n_red_orange"),
        _flag(key | pl.col("is_high_risk").fill_null(False)).alias("n_key_or_high_risk"),
        _flag(pl.col("is_three_small") | pl.col("is_rental")).alias("n_small_or_rental"),
        _flag(pl.col("category").is_in(sets["crowded_mixed"])).alias("n_crowded_mixed"),
        _flag(pl.col("category").is_in(sets["hazardous"])).alias("n_hazardous"),
        _flag(pl.col("hydrant_within_150m").not_()).alias("n_hydrant_missing"),
        _flag(pl.col("hydrant_within_150m").is_not_null()).alias("n_hydrant_known"),
        _flag(inspected_known).alias("n_inspection_known"),
        _flag(inspected_known & (days.is_null() | (days > 365.0))).alias("n_not_inspected_1y"),
        _flag(inspected_known & (pl.col("overdue_rectifications") > 0)).alias("n_overdue_venues"),
        _flag(key).alias("n_key"),
        _flag(key & (pl.col("device_count").fill_null(0) <= 0)).alias("n_key_unconnected"),
        pl.when(offline_known)
        .then(pl.col("offline_devices").cast(pl.Float64))
        .otherwise(0.0)
        .alias("offline_devices"),
        pl.when(offline_known)
        .then(pl.col("device_count").cast(pl.Float64))
        .otherwise(0.0)
        .alias("device_count"),
        _flag(offline_known).alias("n_offline_known"),
        _flag(travel > method.doc.five_minute_travel_s).alias("n_beyond_5min"),
        _flag(travel.is_not_null()).alias("n_travel_known"),
        pl.col("incidents_venue_3y").cast(pl.Float64).fill_null(0.0).alias("incidents_3y"),
        _flag(pl.col("incidents_venue_3y").is_not_null()).alias("n_incident_known"),
        travel.cast(pl.Float64).alias("first_due_travel_time_s"),
        pl.col("full_assignment_travel_time_s").cast(pl.Float64),
    )


def _quantile_specs(method: AreaMethod) -> list[tuple[str, float]]:
    out = []
    for ind in method.indicators:
        if ind.value.quantile is not None:
            out.append((ind.value.quantile[0], float(ind.value.quantile[1])))
    return sorted(set(out))


def _qname(col: str, q: float) -> str:
    return f"q{round(q * 100)}_{col}"


def _context_measures(
    codes: Sequence[str | None], level: str, context: AreaContext, method: AreaMethod
) -> dict[str, FloatArray]:
    n = len(codes)
    out = {m: np.full(n, np.nan) for m in SPATIAL_MEASURES}
    ctx = context.levels.get(level)
    if level not in SPATIAL_LEVELS or ctx is None or ctx.height == 0:
        return out
    frame = pl.DataFrame({"code": [str(c) if c is not None else None for c in codes]}).join(
        ctx.with_columns(pl.col("code").cast(pl.String)),
        on="code",
        how="left",
        maintain_order="left",
    )
    for m in ("area_km2", "population", "stations", "units"):
        if m in frame.columns:
            out[m] = frame[m].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)
    area = out["area_km2"]
    out["stations_required"] = np.where(area > 0, area / method.doc.station_district_km2, np.nan)
    return out


@dataclass(frozen=True)
class IndicatorTable:
    """Per area (rows) and indicator (columns): value, risk and contribution points."""

    values: FloatArray
    risks: FloatArray
    contributions: FloatArray
    scores: FloatArray


def indicator_table(measures: Mapping[str, FloatArray], method: AreaMethod) -> IndicatorTable:
    """Compute every indicator from per-area measures (arrays of equal length)."""
    n = len(next(iter(measures.values())))
    k = len(method.indicators)
    values = np.full((n, k), np.nan)
    for j, ind in enumerate(method.indicators):
        spec = ind.value
        if spec.ratio is not None:
            num = _known(measures, spec.ratio[0])
            den = _known(measures, spec.ratio[1])
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(den > 0, num / den * spec.scale, np.nan)
        else:
            assert spec.quantile is not None
            v = measures[_qname(*spec.quantile)] * spec.scale
        values[:, j] = v
    good = np.array([i.anchors.good for i in method.indicators])
    bad = np.array([i.anchors.bad for i in method.indicators])
    risks = np.clip((values - good) / (bad - good), 0.0, 1.0)
    w = np.array([method.weights[i.key] for i in method.indicators])
    avail = np.isfinite(risks)
    w_eff = np.where(avail, w, 0.0)
    total = w_eff.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(total > 0, w_eff * np.nan_to_num(risks) / total * 100.0, 0.0)
    scores = contrib.sum(axis=1)
    return IndicatorTable(values, risks, contrib, scores)


def _known(measures: Mapping[str, FloatArray], name: str) -> FloatArray:
    arr = np.asarray(measures[name], dtype=np.float64)
    companion = KNOWN_BY.get(name)
    if companion is not None:
        arr = np.where(measures[companion] > 0, arr, np.nan)
    return arr


def _key_lists(
    chosen: npt.NDArray[np.int64], keep: npt.NDArray[np.bool_], keys: Sequence[str], name: str
) -> pl.Series:
    """Row-wise lists of ``keys[chosen[i, j]]`` where ``keep[i, j]`` (vectorised)."""
    mapping: dict[int, str | None] = dict(enumerate(keys)) | {-1: None}
    cols = {
        f"c{j}": pl.Series(np.where(keep[:, j], chosen[:, j], -1)).replace_strict(
            mapping, return_dtype=pl.String
        )
        for j in range(chosen.shape[1])
    }
    if not cols:
        return pl.Series(name, [[]] * keep.shape[0], dtype=pl.List(pl.String))
    frame = pl.DataFrame(cols)
    return frame.select(pl.concat_list(pl.all()).list.drop_nulls().alias(name)).to_series()


def drivers_of(risks: FloatArray, contributions: FloatArray, keys: Sequence[str]) -> pl.Series:
    """Per row, the indicators with risk >= 0.5, largest contribution first (<= 3)."""
    pushing = np.nan_to_num(risks, nan=-1.0) >= DRIVER_MIN_RISK
    ranked = np.where(pushing, contributions, -np.inf)
    k = min(MAX_DRIVERS, ranked.shape[1])
    order = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
    keep = np.take_along_axis(pushing, order, axis=1)
    return _key_lists(order, keep, keys, "drivers")


def missing_of(risks: FloatArray, keys: Sequence[str]) -> pl.Series:
    """Per row, the indicators that could not be computed."""
    n, k = risks.shape
    chosen = np.tile(np.arange(k, dtype=np.int64), (n, 1))
    return _key_lists(chosen, ~np.isfinite(risks), keys, "missing")


def _level_sums(basis: pl.DataFrame, level: str, method: AreaMethod) -> pl.DataFrame:
    key = LEVEL_KEY[level]
    qspecs = _quantile_specs(method)
    aggs = [pl.col(m).sum() for m in VENUE_MEASURES] + [
        pl.col(c).quantile(q, interpolation="linear").alias(_qname(c, q)) for c, q in qspecs
    ]
    return basis.group_by(key).agg(aggs).sort(key, nulls_last=True)


def _finish_level(
    sums: pl.DataFrame, level: str, method: AreaMethod, context: AreaContext
) -> pl.DataFrame:
    key = LEVEL_KEY[level]
    codes = sums[key].to_list()
    measures: dict[str, FloatArray] = {
        c: sums[c].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)
        for c in sums.columns
        if c != key
    }
    measures.update(_context_measures(codes, level, context, method))
    return _rows(level, codes, measures, method)


def assess_level(
    basis: pl.DataFrame, level: str, method: AreaMethod, context: AreaContext
) -> pl.DataFrame:
    """The area rows of one level: key, n_venues, area_score, grade, three_colour,
    drivers, missing, and ``value_<k>``, ``risk_<k>``, ``contrib_<k>`` per indicator."""
    return _finish_level(_level_sums(basis, level, method), level, method, context)


def _spatial_sums(
    basis: pl.DataFrame, levels: Sequence[str], method: AreaMethod
) -> dict[str, pl.DataFrame]:
    """Sums of the spatial levels rolled up from one pass over the venues (sums add up);
    the travel-time quantiles, which do not, in one narrow pass per level."""
    keys = ["town_code", "village_code", "grid_code"]
    finest = basis.group_by(keys).agg([pl.col(m).sum() for m in VENUE_MEASURES])
    qspecs = _quantile_specs(method)
    qcols = sorted({c for c, _ in qspecs})
    out: dict[str, pl.DataFrame] = {}
    for level in levels:
        key = LEVEL_KEY[level]
        if level == "city":
            sums = finest.select(
                pl.lit(CITY_KEY).alias("city"), *[pl.col(m).sum() for m in VENUE_MEASURES]
            )
        else:
            sums = finest.group_by(key).agg([pl.col(m).sum() for m in VENUE_MEASURES])
        quant = basis.select(pl.lit(CITY_KEY).alias("city") if level == "city" else key, *qcols)
        quant = quant.group_by(key).agg(
            pl.col(c).quantile(q, interpolation="linear").alias(_qname(c, q)) for c, q in qspecs
        )
        out[level] = sums.join(quant, on=key, how="left", nulls_equal=True).sort(
            key, nulls_last=True
        )
    return out


def _rows(
    level: str, codes: Sequence[Any], measures: Mapping[str, FloatArray], method: AreaMethod
) -> pl.DataFrame:
    table = indicator_table(measures, method)
    keys = list(method.keys)
    grade = method.scheme.grade_series(table.scores)
    data: dict[str, Any] = {
        LEVEL_KEY[level]: pl.Series(LEVEL_KEY[level], list(codes), dtype=pl.String),
        "n_venues": pl.Series(measures["n_venues"]).cast(pl.Int64),
        "area_score": pl.Series(table.scores, dtype=pl.Float64),
    }
    out = pl.DataFrame(data).with_columns(
        grade.alias("area_grade"),
        method.scheme.three_colour_series(grade).alias("area_three_colour"),
        drivers_of(table.risks, table.contributions, keys),
        missing_of(table.risks, keys),
    )
    cols = []
    for j, k in enumerate(keys):
        cols += [
            pl.Series(f"value_{k}", table.values[:, j], nan_to_null=True),
            pl.Series(f"risk_{k}", table.risks[:, j], nan_to_null=True),
            pl.Series(f"contrib_{k}", table.contributions[:, j]),
        ]
    return out.with_columns(cols)


def assess_areas(
    basis: pl.DataFrame,
    method: AreaMethod,
    context: AreaContext,
    levels: Sequence[str] = AREA_LEVELS,
) -> dict[str, pl.DataFrame]:
    """Every level's area rows, by level name."""
    spatial = [lvl for lvl in levels if lvl in SPATIAL_LEVELS]
    sums = _spatial_sums(basis, spatial, method) if spatial else {}
    return {
        lvl: _finish_level(sums[lvl], lvl, method, context)
        if lvl in sums
        else assess_level(basis, lvl, method, context)
        for lvl in levels
    }


def driver_details(row: Mapping[str, Any], method: AreaMethod) -> list[dict[str, Any]]:
    """The drivers of one area row with value, anchors, risk, points and action code."""
    out = []
    for key in row.get("drivers") or []:
        ind = method.by_key[key]
        out.append(
            {
                "indicator": key,
                "group": ind.group,
                "value": row.get(f"value_{key}"),
                "unit": ind.unit,
                "good": ind.anchors.good,
                "bad": ind.anchors.bad,
                "risk": row.get(f"risk_{key}"),
                "points": row.get(f"contrib_{key}"),
                "action": ind.action,
            }
        )
    return out
