"""Explanations of a venue's score.

* **Contributions**: points of each indicator (``weight × risk × 100``), sorted; they add
  up to the score.
* **What would lower the grade**: for each *modifiable* indicator (management, device
  health, hydrant — those with ``modifiable: true`` and a ``fix`` in the catalogue), the
  single change "apply the fix" re-scored with the run's frozen normalisation: new score,
  drop in points, new grade. Where the fix sets one numeric column, also the *minimal*
  change of that column that already lowers the grade (searched over the integers between
  the current and the fixed value, or a 200-step grid for real-valued columns).
* **Peers**: percentile within the venue's category and town, and their medians.
* **Own history**: the venue's scores in previous runs, with the change since each.

Every what-if is computed by re-scoring the changed raw row, so applying the change to the
venue and re-scoring gives exactly the reported score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from firegrid.risk.catalogue import Indicator
from firegrid.risk.features import FACT_SCHEMA, RAW_SCHEMA
from firegrid.risk.grades import GRADES

if TYPE_CHECKING:
    from firegrid.risk.run import AssessmentRun

_INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64)
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class Contribution:
    key: str
    name_zh: str
    name_en: str
    group: str
    source: str
    raw_value: Any
    risk: float
    weight: float
    points: float


@dataclass(frozen=True)
class MinimalChange:
    column: str
    from_value: Any
    to_value: Any
    new_score: float
    new_grade: str


@dataclass(frozen=True)
class WhatIf:
    indicator: str
    name_zh: str
    name_en: str
    action_zh: str
    action_en: str
    change: dict[str, Any]
    new_score: float
    delta: float
    new_grade: str
    lowers_grade: bool
    minimal: MinimalChange | None = None


@dataclass(frozen=True)
class Explanation:
    venue_id: int
    score: float
    grade: str
    three_colour: str
    contributions: list[Contribution]
    what_if: list[WhatIf]
    peers: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _grade_rank(grade: str) -> int:
    return GRADES.index(grade)  # 0 = red (worst)


def _candidates(current: float, target: float, integer: bool) -> list[float]:
    """Values from next-to-current towards target (nearest first), target last."""
    if integer:
        step = -1 if target < current else 1
        vals = list(range(int(current) + step, int(target) + step, step))
        if len(vals) > MAX_CANDIDATES:
            idx = np.linspace(0, len(vals) - 1, MAX_CANDIDATES).round().astype(int)
            vals = [vals[i] for i in sorted(set(idx.tolist()))]
        return [float(v) for v in vals]
    grid = np.linspace(current, target, MAX_CANDIDATES + 1)[1:]
    return [float(v) for v in grid]


def _history(
    venue_id: int,
    score: float,
    previous: Sequence[tuple[str, float]] | pl.DataFrame | None,
) -> list[dict[str, Any]]:
    if previous is None:
        return []
    items: list[tuple[str, float]]
    if isinstance(previous, pl.DataFrame):
        label_col = next(
            (c for c in ("label", "run_id", "snapshot_at") if c in previous.columns), None
        )
        df = previous.filter(pl.col("venue_id") == venue_id)
        items = [
            (str(r[label_col]) if label_col else str(i), float(r["score"]))
            for i, r in enumerate(df.iter_rows(named=True))
        ]
    else:
        items = [(str(lbl), float(s)) for lbl, s in previous]
    return [{"label": lbl, "score": s, "change_since": score - s} for lbl, s in items]


def explain_venue(
    run: AssessmentRun,
    venue_id: int,
    *,
    previous: Sequence[tuple[str, float]] | pl.DataFrame | None = None,
) -> Explanation:
    """Explain a venue's score in ``run`` (see the module doc).

    ``previous``: the venue's scores in earlier runs, as ``(label, score)`` pairs or a frame
    with ``venue_id``, ``score`` and a ``label``/``run_id``/``snapshot_at`` column.
    """
    model = run.model
    cat = model.catalogue
    feature_row = run.feature_row(venue_id)
    raw = {k: feature_row[k] for k in RAW_SCHEMA}
    base = run.rescore(raw)
    scheme = model.grade_thresholds
    contributions = sorted(
        (
            Contribution(
                key=ind.key,
                name_zh=ind.name_zh,
                name_en=ind.name_en,
                group=ind.group,
                source=ind.source,
                raw_value=feature_row.get(ind.source),
                risk=base.risk[ind.key],
                weight=float(model.weights[ind.key]),
                points=base.contributions[ind.key],
            )
            for ind in cat.indicators
        ),
        key=lambda c: -c.points,
    )

    # Build every candidate row, score them in one batch.
    plans: list[tuple[Indicator, dict[str, Any], list[tuple[str, Any, dict[str, Any]]]]] = []
    rows: list[Mapping[str, Any]] = []
    for ind in cat.indicators:
        if not ind.modifiable or not ind.fix or base.risk[ind.key] <= 0.0:
            continue
        fix = dict(ind.fix)
        full = {**raw, **fix}
        rows.append(full)
        minimal: list[tuple[str, Any, dict[str, Any]]] = []
        if len(fix) == 1:
            col, target = next(iter(fix.items()))
            cur = raw.get(col)
            if (
                col in FACT_SCHEMA
                and isinstance(cur, int | float)
                and not isinstance(cur, bool)
                and not isinstance(target, bool)
                and cur != target
            ):
                integer = isinstance(FACT_SCHEMA[col], _INT_TYPES)
                for value in _candidates(float(cur), float(target), integer):
                    v: Any = int(value) if integer else value
                    minimal.append((col, v, {**raw, col: v}))
                    rows.append(minimal[-1][2])
        plans.append((ind, fix, minimal))
    scored = run.rescore_many(rows) if rows else []
    what_if: list[WhatIf] = []
    pos = 0
    cur_rank = _grade_rank(base.grade)
    for ind, fix, minimal in plans:
        full_score = scored[pos]
        pos += 1
        best: MinimalChange | None = None
        for col, value, _row in minimal:
            s = scored[pos]
            pos += 1
            if best is None and _grade_rank(s.grade) > cur_rank:
                best = MinimalChange(col, raw.get(col), value, s.score, s.grade)
        if full_score.score >= base.score:
            continue
        what_if.append(
            WhatIf(
                indicator=ind.key,
                name_zh=ind.name_zh,
                name_en=ind.name_en,
                action_zh=ind.action_zh,
                action_en=ind.action_en,
                change=fix,
                new_score=full_score.score,
                delta=full_score.score - base.score,
                new_grade=full_score.grade,
                lowers_grade=_grade_rank(full_score.grade) > cur_rank,
                minimal=best,
            )
        )
    what_if.sort(key=lambda w: w.delta)

    row = run.scores.filter(pl.col("venue_id") == venue_id).row(0, named=True)
    peers = _peers(run, row)
    return Explanation(
        venue_id=int(venue_id),
        score=base.score,
        grade=base.grade,
        three_colour=scheme.three_colour[base.grade],
        contributions=contributions,
        what_if=what_if,
        peers=peers,
        history=_history(int(venue_id), base.score, previous),
    )


def _peers(run: AssessmentRun, row: Mapping[str, Any]) -> dict[str, Any]:
    peers = run._peer_index()
    cat_scores = peers["category"].get(str(row["category"]), np.zeros(0))
    town_scores = peers["town_code"].get(str(row["town_code"]), np.zeros(0))
    return {
        "category": row["category"],
        "pct_in_category": row["pct_in_category"],
        "category_n": int(cat_scores.size),
        "category_median": float(np.median(cat_scores)) if cat_scores.size else None,
        "town_code": row["town_code"],
        "pct_in_town": row["pct_in_town"],
        "town_n": int(town_scores.size),
        "town_median": float(np.median(town_scores)) if town_scores.size else None,
    }
