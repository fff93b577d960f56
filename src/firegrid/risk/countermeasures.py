"""Problems and countermeasures (问题与对策) for one area of a run.

Problems are the area's drivers (indicators with risk ≥ 0.5, their value against the
anchors). Countermeasures are the actions named by the indicators (``action`` in
``area_indicators.yaml``); each gets the venues (or grids) it concerns, counted from the
run's per-venue basis, and — where the action has a direct effect on the measures — the
area score it would leave if it were carried out in full (``score_after``), so the actions
can be ranked by how much they lower the grade. Actions without a computable effect (a new
fire station needs siting, :mod:`firegrid.geo`) are listed with ``score_after`` null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from firegrid.risk.area import (
    LEVEL_KEY,
    VENUE_MEASURES,
    AreaContext,
    _context_measures,
    _qname,
    _quantile_specs,
    indicator_table,
)
from firegrid.risk.area_method import AreaMethod

#: action code → (venue filter on the basis, measures it sets to 0 when carried out)
ACTIONS: dict[str, tuple[pl.Expr | None, tuple[str, ...]]] = {
    "rectify_overdue": (pl.col("n_overdue_venues") > 0, ("n_overdue_venues",)),
    "connect_key_units": (pl.col("n_key_unconnected") > 0, ("n_key_unconnected",)),
    "rectify_severe_venues": (pl.col("n_red_orange") > 0, ("n_red_orange",)),
    "inspect_uninspected": (pl.col("n_not_inspected_1y") > 0, ("n_not_inspected_1y",)),
    "inspect_crowded_mixed": (pl.col("n_crowded_mixed") > 0, ()),
    "add_hydrants": (pl.col("n_hydrant_missing") > 0, ("n_hydrant_missing",)),
    "repair_offline_devices": (pl.col("offline_devices") > 0, ("offline_devices",)),
    "add_station": (pl.col("n_beyond_5min") > 0, ()),
}
#: Venue ids listed per action (the count is complete).
LISTED = 20


@dataclass(frozen=True)
class Countermeasure:
    action: str
    indicators: list[str]
    n_targets: int
    venue_ids: list[int]
    grids: list[str]
    score_after: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "indicators": self.indicators,
            "n_targets": self.n_targets,
            "venue_ids": self.venue_ids,
            "grids": self.grids,
            "score_after": self.score_after,
        }


def area_measures(
    basis: pl.DataFrame, level: str, code: str, method: AreaMethod, context: AreaContext
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The area's venues (basis rows) and its measures (1-element arrays)."""
    key = LEVEL_KEY[level]
    rows = basis if level == "city" else basis.filter(pl.col(key) == code)
    measures: dict[str, Any] = {
        m: np.asarray([float(rows[m].sum())], dtype=np.float64) for m in VENUE_MEASURES
    }
    for col, q in _quantile_specs(method):
        vals = rows[col].drop_nulls().to_numpy()
        measures[_qname(col, q)] = np.asarray(
            [float(np.quantile(vals, q)) if vals.size else np.nan], dtype=np.float64
        )
    measures.update(_context_measures([code], level, context, method))
    return rows, measures


def countermeasures(
    basis: pl.DataFrame,
    scores: pl.DataFrame,
    level: str,
    code: str,
    method: AreaMethod,
    context: AreaContext,
    drivers: list[str],
) -> list[Countermeasure]:
    """The actions named by the area's drivers, largest score reduction first."""
    rows, measures = area_measures(basis, level, code, method, context)
    ranked = rows.join(scores.select("venue_id", "score"), on="venue_id", how="left").sort(
        "score", descending=True, nulls_last=True
    )
    by_action: dict[str, list[str]] = {}
    for key in drivers:
        action = method.by_key[key].action
        if action in ACTIONS:
            by_action.setdefault(action, []).append(key)
    out: list[Countermeasure] = []
    for action, keys in by_action.items():
        where, zeroed = ACTIONS[action]
        targets = ranked.filter(where) if where is not None else ranked.head(0)
        after: float | None = None
        if zeroed:
            changed: dict[str, Any] = {**measures, **{m: np.zeros(1) for m in zeroed}}
            after = float(indicator_table(changed, method).scores[0])
        grids = (
            targets.group_by("grid_code")
            .len()
            .sort(["len", "grid_code"], descending=[True, False])
            .head(5)["grid_code"]
            .to_list()
        )
        out.append(
            Countermeasure(
                action=action,
                indicators=keys,
                n_targets=targets.height,
                venue_ids=[int(v) for v in targets.head(LISTED)["venue_id"].to_list()],
                grids=[str(g) for g in grids if g is not None],
                score_after=after,
            )
        )
    out.sort(key=lambda c: (c.score_after is None, c.score_after or 0.0))
    return out


def problems(row: Mapping[str, Any], method: AreaMethod) -> list[dict[str, Any]]:
    """The area's drivers with their values against the anchors."""
    from firegrid.risk.area import driver_details

    return driver_details(row, method)
