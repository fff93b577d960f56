"""Incident history: the input of the predictive model's held-out validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from firegrid.risk.errors import InputContractError


@dataclass(frozen=True)
class IncidentHistory:
    """Incident counts per venue and period, with the facts known at the end of each period.

    ``incidents``: ``venue_id`` (i64), ``period`` (i32, 1 … P consecutive), ``incidents``
    (i32; venues without a row had none). ``snapshots[p]``: the facts table (the contract's
    ``facts`` columns) as known at the end of period ``p`` (``snapshots[0]`` = before period
    1). Training pairs are (facts at the end of p, incidents in p + 1); the last pair is held
    out for validation. Without snapshots, the run's current facts stand in for every period
    (weaker: the features then partly postdate the labels). ``period_ends[p]`` is the
    (tz-aware) end of period ``p``; ``synthetic`` marks generated data.
    """

    incidents: pl.DataFrame
    snapshots: dict[int, pl.DataFrame] | None = None
    period_ends: dict[int, datetime] = field(default_factory=dict)
    synthetic: bool = False
    description: str = ""

    @property
    def periods(self) -> list[int]:
        return sorted(int(p) for p in self.incidents["period"].unique().to_list())

    def check(self) -> None:
        for col in ("venue_id", "period", "incidents"):
            if col not in self.incidents.columns:
                raise InputContractError(f"history.incidents lacks the column {col!r}")
        ps = self.periods
        if len(ps) < 2 or ps != list(range(ps[0], ps[0] + len(ps))):
            raise InputContractError(
                f"history needs at least 2 consecutive periods, got {ps}", {"periods": ps}
            )

    def labels(self, period: int) -> pl.DataFrame:
        """``venue_id``, ``incidents`` of one period (only venues that had incidents)."""
        return (
            self.incidents.filter(pl.col("period") == period)
            .group_by("venue_id")
            .agg(pl.col("incidents").sum())
        )


def incident_counts(incidents: pl.DataFrame, venues: pl.DataFrame) -> pl.DataFrame:
    """Per venue of ``venues`` (``venue_id``, ``grid_code``): how many of ``incidents``
    (``venue_id``, ``grid_code``, either null) were at the venue (``incidents_venue_3y``)
    and in its grid (``incidents_grid_3y``), 0 when none; the caller picks the window."""
    per_venue = (
        incidents.drop_nulls("venue_id")
        .group_by("venue_id")
        .agg(pl.len().cast(pl.Int32).alias("incidents_venue_3y"))
    )
    per_grid = (
        incidents.drop_nulls("grid_code")
        .group_by("grid_code")
        .agg(pl.len().cast(pl.Int32).alias("incidents_grid_3y"))
    )
    return (
        venues.select("venue_id", "grid_code")
        .join(per_venue, on="venue_id", how="left", maintain_order="left")
        .join(per_grid, on="grid_code", how="left", maintain_order="left")
        .select(
            "venue_id",
            pl.col("incidents_venue_3y").fill_null(0),
            pl.col("incidents_grid_3y").fill_null(0),
        )
    )
