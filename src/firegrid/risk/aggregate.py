"""Aggregation of venue scores to the assessment levels.

Levels (城市消防安全风险评估的四个层级): **city**; **region** at three depths — ``town``,
``village``, ``grid``; **industry** — by ``industry_code`` and by ``category``; and the
**high-risk unit** list (:func:`top_units`).

Per group: ``n_venues``, ``occupancy_total``, ``score_mean``, ``score_weighted``
(occupancy-weighted mean; the plain mean when the group's occupancy is 0), ``score_p50``,
``score_p90`` (linear interpolation, as ``numpy.quantile``), ``score_max``, the count per
grade ``n_red``, ``n_orange``, ``n_yellow``, ``n_blue``, ``n_key_units``, ``n_high_risk``,
and the area's ``grade``/``three_colour`` — the grade of ``score_weighted``.
"""

from __future__ import annotations

import polars as pl

from firegrid.risk.grades import GRADES, GradeScheme

#: level name -> (key column, extra columns kept with the first value of the group)
LEVELS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "city": (None, ()),
    "town": ("town_code", ()),
    "village": ("village_code", ("town_code",)),
    "grid": ("grid_code", ("village_code", "town_code")),
    "industry": ("industry_code", ()),
    "category": ("category", ()),
}


def _stats() -> list[pl.Expr]:
    occ = pl.col("occupancy").cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0)
    s = pl.col("score")
    occ_total = occ.sum()
    return [
        pl.len().alias("n_venues"),
        occ_total.alias("occupancy_total"),
        s.mean().alias("score_mean"),
        pl.when(occ_total > 0)
        .then((s * occ).sum() / occ_total)
        .otherwise(s.mean())
        .alias("score_weighted"),
        s.quantile(0.5, interpolation="linear").alias("score_p50"),
        s.quantile(0.9, interpolation="linear").alias("score_p90"),
        s.max().alias("score_max"),
        *[(pl.col("grade") == g).sum().cast(pl.Int64).alias(f"n_{g}") for g in GRADES],
        pl.col("is_key_unit").sum().cast(pl.Int64).alias("n_key_units"),
        pl.col("is_high_risk").sum().cast(pl.Int64).alias("n_high_risk"),
    ]


def _grade_area(df: pl.DataFrame, scheme: GradeScheme) -> pl.DataFrame:
    scores = df["score_weighted"].to_numpy()
    grade = scheme.grade_series(scores)
    return df.with_columns(grade, scheme.three_colour_series(grade))


def aggregate_level(scores: pl.DataFrame, level: str, scheme: GradeScheme) -> pl.DataFrame:
    """Aggregate the scores frame to one level (see :data:`LEVELS`)."""
    key, extra = LEVELS[level]
    if key is None:
        out = scores.select(pl.lit("city").alias("city"), *_stats())
    else:
        out = scores.group_by(key).agg(*[pl.col(c).first() for c in extra], *_stats()).sort(key)
    return _grade_area(out, scheme)


def aggregate_all(
    scores: pl.DataFrame, scheme: GradeScheme, levels: tuple[str, ...] = tuple(LEVELS)
) -> dict[str, pl.DataFrame]:
    """Every level's aggregate, by level name."""
    return {lvl: aggregate_level(scores, lvl, scheme) for lvl in levels}


def grade_counts(aggregates: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Just the count per grade for each level (key column(s) + n_red … n_blue)."""
    out = {}
    for lvl, df in aggregates.items():
        key = LEVELS[lvl][0] or "city"
        out[lvl] = df.select(key, *[f"n_{g}" for g in GRADES])
    return out


def top_units(scores: pl.DataFrame, n: int = 100) -> pl.DataFrame:
    """The high-risk unit list: the top ``n`` by score plus every red venue (score desc)."""
    ranked = scores.sort(["score", "venue_id"], descending=[True, False]).with_row_index(
        "rank", offset=1
    )
    return ranked.filter((pl.col("rank") <= n) | (pl.col("grade") == "red"))
