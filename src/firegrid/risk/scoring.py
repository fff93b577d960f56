"""Vectorised scoring: score = Σ weight_i × risk_i × 100, with per-indicator contributions.

``contribution_i = weight_i × risk_i × 100`` (points); the score is the sum of the
contributions, so an explanation adds up to the score (to floating-point rounding).
No per-row Python: one matrix product per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.grades import GradeScheme
from firegrid.risk.model import RiskModel

FloatArray = npt.NDArray[np.float64]

#: Venue columns carried into the scores frame (for aggregation and reporting).
CARRIED = (
    "venue_id",
    "town_code",
    "village_code",
    "grid_code",
    "category",
    "industry_code",
    "is_key_unit",
    "is_high_risk",
    "occupancy",
    "lon",
    "lat",
)
CONTRIB_PREFIX = "contrib_"


@dataclass(frozen=True)
class Scored:
    """Scores (0–100) and contributions (points, ``n × k``) of a batch of venues."""

    scores: FloatArray
    contributions: FloatArray


def score_matrix(risk: FloatArray, weights: FloatArray) -> Scored:
    """Scores and contributions from a risk matrix ``(n, k)`` and weights ``(k,)``."""
    contributions = risk * (weights * 100.0)[np.newaxis, :]
    scores = contributions.sum(axis=1)
    return Scored(scores, contributions)


def contribution_columns(model: RiskModel) -> list[str]:
    return [CONTRIB_PREFIX + k for k in model.catalogue.keys]


def score_frame(features: pl.DataFrame, scored: Scored, model: RiskModel) -> pl.DataFrame:
    """The per-venue scores frame.

    Columns: the carried venue columns, ``score`` (f64, 0–100), ``grade`` (Enum red/orange/
    yellow/blue), ``three_colour`` (Enum red/yellow/green), ``pct_in_category`` and
    ``pct_in_town`` (percent of venues of the same category / town scoring ≤ this one) and
    one ``contrib_<indicator>`` column (points) per indicator.
    """
    scheme: GradeScheme = model.grade_thresholds
    grade = scheme.grade_series(scored.scores)
    base = features.select(CARRIED).with_columns(
        pl.Series("score", scored.scores, dtype=pl.Float64),
        grade,
        scheme.three_colour_series(grade),
    )
    base = base.with_columns(
        (pl.col("score").rank("max").over("category") / pl.len().over("category") * 100.0)
        .cast(pl.Float64)
        .alias("pct_in_category"),
        (pl.col("score").rank("max").over("town_code") / pl.len().over("town_code") * 100.0)
        .cast(pl.Float64)
        .alias("pct_in_town"),
    )
    contrib = pl.DataFrame(
        {name: scored.contributions[:, j] for j, name in enumerate(contribution_columns(model))},
        schema=dict.fromkeys(contribution_columns(model), pl.Float64),
    )
    return pl.concat([base, contrib], how="horizontal")


def contributions_long(scores: pl.DataFrame) -> pl.DataFrame:
    """Long form ``(venue_id, indicator, points)`` of the contribution columns."""
    cols = [c for c in scores.columns if c.startswith(CONTRIB_PREFIX)]
    return (
        scores.select("venue_id", *cols)
        .unpivot(index="venue_id", on=cols, variable_name="indicator", value_name="points")
        .with_columns(pl.col("indicator").str.strip_prefix(CONTRIB_PREFIX))
    )
