"""Demand points for siting: venues, or square cells aggregating them, each with a weight.

The weighting is a parameter and is reported with every plan (``Demand.describe``):

=================  =========================================================================
weighting          weight of a venue
=================  =========================================================================
``risk_occupancy`` ``score / 100 × (1 + ln(1 + occupancy))`` (default): risk first, people
                   second, without letting one mall outweigh a district
``risk``           ``score / 100``
``occupancy``      ``occupancy``
``uniform``        ``1`` (every venue counts the same)
=================  =========================================================================

Scores come from the latest risk run; without one, ``risk``-based weightings fall back to
``occupancy``-based ones with score 50 (the fallback is reported). With ``incidents`` the
weight of a cell (or a venue's cell) is also multiplied by ``1 + n / mean n``: ``n`` the
incidents of the last three years within it (so a cell with an average history counts
double, one without history once).

A cell's point is the weight-weighted centroid of its venues, its weight their sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from firegrid.core.errors import ValidationFailed
from firegrid.core.problems import Found, Problem, first_of
from firegrid.core.texts import TextCode
from firegrid.geo.projection import LocalProjection
from firegrid.planning.inputs import VenueRows

FloatArray = npt.NDArray[np.float64]
Weighting = Literal["risk_occupancy", "risk", "occupancy", "uniform"]
WEIGHTINGS: tuple[str, ...] = ("risk_occupancy", "risk", "occupancy", "uniform")
FORMULAS = {
    "risk_occupancy": "score/100 * (1 + ln(1 + occupancy))",
    "risk": "score/100",
    "occupancy": "occupancy",
    "uniform": "1",
}
FALLBACK_SCORE = 50.0


@dataclass(frozen=True)
class DemandParams:
    weighting: str = "risk_occupancy"
    cell_m: float | None = 1000.0  # None: one demand point per venue
    incidents: bool = False

    def check(self) -> None:
        problems: list[Found] = []
        if self.weighting not in WEIGHTINGS:
            problems.append(one_of("weighting", WEIGHTINGS))
        if self.cell_m is not None and not 50 <= self.cell_m <= 20000:
            problems.append(interval("cell_m", "[50, 20000]", "or none for venues"))
        if problems:
            raise params_invalid(problems)


def one_of(name: str, allowed: Sequence[str]) -> Found:
    return Found(
        name, Problem.ENUM, f"{name} must be one of {', '.join(allowed)}", {"expected": allowed}
    )


def interval(name: str, bounds: str, note: str = "") -> Found:
    """``name`` outside ``bounds`` (interval notation: ``(0, 60]``)."""
    message = f"{name} must be in {bounds}" + (f" ({note})" if note else "")
    return Found(name, Problem.INTERVAL, message, {"interval": bounds})


def params_invalid(problems: Sequence[Found]) -> ValidationFailed:
    """The refusal of planning parameters: every problem in ``details``, the first in the
    sentence."""
    return ValidationFailed(
        "; ".join(p.message for p in problems),
        {"problems": [p.as_dict() for p in problems]},
        text=TextCode.PLANNING_PARAMS_INVALID,
        params=first_of(problems),
    )


@dataclass(frozen=True)
class Demand:
    """Demand points (``weight > 0``) and how they were made."""

    lon: FloatArray
    lat: FloatArray
    weight: FloatArray
    venues: npt.NDArray[np.int64]  # venues in each point
    params: DemandParams
    risk_run_id: int | None
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.lon)

    def subset(self, keep: npt.NDArray[np.bool_], note: str | None = None) -> Demand:
        notes = self.notes if note is None else (*self.notes, note)
        return Demand(
            self.lon[keep],
            self.lat[keep],
            self.weight[keep],
            self.venues[keep],
            self.params,
            self.risk_run_id,
            notes,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "unit": "venue" if self.params.cell_m is None else "cell",
            "cell_m": self.params.cell_m,
            "weighting": self.params.weighting,
            "formula": FORMULAS[self.params.weighting],
            "incidents": self.params.incidents,
            "risk_run_id": self.risk_run_id,
            "points": len(self),
            "venues": int(self.venues.sum()),
            "total_weight": round(float(self.weight.sum()), 3),
            "notes": list(self.notes),
        }


def venue_weights(rows: VenueRows, weighting: str) -> tuple[FloatArray, list[str]]:
    """Weight of each venue and the notes on how it was made."""
    notes: list[str] = []
    score = rows.score
    if weighting in ("risk", "risk_occupancy") and np.isnan(score).any():
        missing = int(np.isnan(score).sum())
        notes.append(
            f"{missing} venue(s) without a risk score (no risk run yet, or not scored): "
            f"score {FALLBACK_SCORE:.0f} used"
        )
        score = np.where(np.isnan(score), FALLBACK_SCORE, score)
    occupancy = np.maximum(rows.occupancy, 0.0)
    if weighting == "risk_occupancy":
        weight = score / 100.0 * (1.0 + np.log1p(occupancy))
    elif weighting == "risk":
        weight = score / 100.0
    elif weighting == "occupancy":
        weight = occupancy
    else:
        weight = np.ones(len(rows))
    return np.asarray(weight, dtype=np.float64), notes


def build_demand(
    rows: VenueRows,
    params: DemandParams,
    incidents: tuple[FloatArray, FloatArray] | None = None,
) -> Demand:
    """Demand points from venues (``incidents``: points of the incident history)."""
    params.check()
    if not len(rows):
        raise ValidationFailed(
            "no venues to plan for: import or generate venues first",
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "venue"},
        )
    weight, notes = venue_weights(rows, params.weighting)
    projection = LocalProjection.around(rows.lon, rows.lat)
    x, y = projection.forward(rows.lon, rows.lat)
    step = params.cell_m if params.cell_m is not None else 200.0  # incident cells per venue
    key = _cell_keys(x, y, step)
    if params.incidents and incidents is not None:
        ix, iy = projection.forward(*incidents)
        ikey = _cell_keys(ix, iy, step)
        cells, counts = np.unique(ikey, return_counts=True)
        mean = float(counts.mean()) if len(counts) else 0.0
        if mean > 0:
            lookup = dict(zip(cells.tolist(), counts.tolist(), strict=True))
            n = np.asarray([lookup.get(k, 0) for k in key.tolist()], dtype=np.float64)
            weight = weight * (1.0 + n / mean)
        notes.append(f"incident history: {len(ikey)} incident(s) of the last 3 years")
    elif params.incidents:
        notes.append("incident history asked for but none given")
    positive = weight > 0
    if params.cell_m is None:
        return Demand(
            rows.lon[positive],
            rows.lat[positive],
            weight[positive],
            np.ones(int(positive.sum()), dtype=np.int64),
            params,
            rows.risk_run_id,
            tuple(notes),
        )
    cells, inverse = np.unique(key[positive], return_inverse=True)
    w = weight[positive]
    total = np.asarray(np.bincount(inverse, weights=w, minlength=len(cells)), dtype=np.float64)
    count = np.bincount(inverse, minlength=len(cells)).astype(np.int64)
    cx = np.bincount(inverse, weights=w * x[positive], minlength=len(cells)) / total
    cy = np.bincount(inverse, weights=w * y[positive], minlength=len(cells)) / total
    lon, lat = projection.inverse(cx, cy)
    return Demand(lon, lat, total, count, params, rows.risk_run_id, tuple(notes))


def _cell_keys(x: FloatArray, y: FloatArray, step: float) -> npt.NDArray[np.int64]:
    i = np.floor(x / step).astype(np.int64)
    j = np.floor(y / step).astype(np.int64)
    return np.asarray(i * 1_000_003 + j, dtype=np.int64)
