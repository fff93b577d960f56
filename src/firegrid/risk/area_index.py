"""Incremental area re-grade: per-area sums kept in NumPy, so one changed venue re-grades
only its own areas (subtract its old measures, add the new ones, move its travel times in
the areas' sorted arrays) — no pass over the city. Same numbers as a full
:func:`firegrid.risk.area.assess_areas` (tested)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.area import (
    AREA_LEVELS,
    DRIVER_MIN_RISK,
    LEVEL_KEY,
    MAX_DRIVERS,
    VENUE_MEASURES,
    AreaContext,
    _context_measures,
    _qname,
    _quantile_specs,
    _rows,
    indicator_table,
)
from firegrid.risk.area_method import QUANTILE_COLUMNS, AreaMethod
from firegrid.risk.grades import GRADES

FloatArray = npt.NDArray[np.float64]


def _sorted_quantile(arr: FloatArray, n_finite: int, q: float) -> float:
    """Linear-interpolated quantile of the first ``n_finite`` (sorted) values of ``arr``."""
    if n_finite == 0:
        return float("nan")
    pos = q * (n_finite - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n_finite - 1)
    return float(arr[lo] + (arr[hi] - arr[lo]) * (pos - lo))


@dataclass(frozen=True)
class AreaGrade:
    """One area re-graded: its score, grade and drivers."""

    level: str
    code: Any
    area_score: float
    grade: str
    drivers: list[str]


class AreaIndex:
    """Per-area sums kept in NumPy so one venue's change re-grades only its areas.

    A venue keeps its areas (a change of location is a new run's business); its measures
    and travel times may change. Quantile arrays are kept sorted (NaN last) per area.
    """

    def __init__(
        self,
        basis: pl.DataFrame,
        method: AreaMethod,
        context: AreaContext,
        levels: Sequence[str] = AREA_LEVELS,
    ) -> None:
        self.method = method
        self.levels = tuple(levels)
        self.qspecs = _quantile_specs(method)
        self.qcols = sorted({c for c, _ in self.qspecs} & QUANTILE_COLUMNS)
        ids = basis["venue_id"].to_numpy().astype(np.int64)
        self._id_order = np.argsort(ids, kind="stable")
        self._ids_sorted = ids[self._id_order]
        self.venue_measures = basis.select(VENUE_MEASURES).to_numpy().astype(np.float64)
        self.venue_q = {
            c: basis[c].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)
            for c in self.qcols
        }
        self.codes: dict[str, list[Any]] = {}
        self.area_of: dict[str, npt.NDArray[np.int64]] = {}
        self.sums: dict[str, FloatArray] = {}
        self.context: dict[str, dict[str, FloatArray]] = {}
        self.qvalues: dict[str, dict[str, list[FloatArray]]] = {}
        self.qfinite: dict[str, dict[str, npt.NDArray[np.int64]]] = {}
        by_value_of = {c: np.argsort(v, kind="stable") for c, v in self.venue_q.items()}  # NaN last
        for level in self.levels:
            keys = basis.select(pl.col(LEVEL_KEY[level]).cast(pl.String).alias("k"))
            codes_df = keys.drop_nulls().unique().sort("k").with_row_index("idx")
            area = (
                keys.join(codes_df, on="k", how="left", maintain_order="left")["idx"]
                .cast(pl.Int64)
                .fill_null(-1)
                .to_numpy()
                .astype(np.int64)
            )
            codes = codes_df["k"].to_list()
            ok = area >= 0
            sums = np.column_stack(
                [
                    np.bincount(area[ok], weights=self.venue_measures[ok, j], minlength=len(codes))
                    for j in range(len(VENUE_MEASURES))
                ]
            ).astype(np.float64)
            self.codes[level], self.area_of[level], self.sums[level] = codes, area, sums
            self.context[level] = _context_measures(codes, level, context, method)
            self.qvalues[level], self.qfinite[level] = {}, {}
            # a stable sort by area of the value order keeps values sorted within each area;
            # area indexes of < 32,767 areas sort as int16, by radix sort
            small = area.astype(np.int16) if len(codes) < 32_767 else area
            for c in self.qcols:
                vals = self.venue_q[c]
                by_value = by_value_of[c]
                order = by_value[np.argsort(small[by_value], kind="stable")]
                bounds = np.searchsorted(area[order], np.arange(len(codes) + 1))
                ordered = vals[order]
                self.qvalues[level][c] = [
                    ordered[bounds[i] : bounds[i + 1]] for i in range(len(codes))
                ]
                finite = ok & np.isfinite(vals)
                self.qfinite[level][c] = np.bincount(area[finite], minlength=len(codes)).astype(
                    np.int64
                )

    def row_of(self, venue_id: int) -> int:
        """The venue's row in the basis (KeyError for a venue not in the run)."""
        k = int(np.searchsorted(self._ids_sorted, int(venue_id)))
        if k >= self._ids_sorted.size or self._ids_sorted[k] != int(venue_id):
            raise KeyError(venue_id)
        return int(self._id_order[k])

    def _measures(self, pairs: Sequence[tuple[str, int]]) -> dict[str, FloatArray]:
        """Measures of (level, area index) pairs, one row each."""
        m: dict[str, FloatArray] = {}
        for j, name in enumerate(VENUE_MEASURES):
            m[name] = np.array([self.sums[lv][a, j] for lv, a in pairs], dtype=np.float64)
        for name in self.context[self.levels[0]]:
            m[name] = np.array([self.context[lv][name][a] for lv, a in pairs], dtype=np.float64)
        for c, q in self.qspecs:
            m[_qname(c, q)] = np.array(
                [
                    _sorted_quantile(self.qvalues[lv][c][a], int(self.qfinite[lv][c][a]), q)
                    for lv, a in pairs
                ],
                dtype=np.float64,
            )
        return m

    def rows(self, level: str, areas: Sequence[int] | None = None) -> pl.DataFrame:
        """Area rows (all, or the given area indexes) computed from the kept sums."""
        chosen = list(range(len(self.codes[level]))) if areas is None else list(areas)
        codes = [self.codes[level][a] for a in chosen]
        return _rows(level, codes, self._measures([(level, a) for a in chosen]), self.method)

    def _move(self, level: str, c: str, a: int, old_v: float, new_v: float) -> None:
        arr = self.qvalues[level][c][a]
        n = int(self.qfinite[level][c][a])
        if np.isfinite(old_v):
            pos = int(np.searchsorted(arr[:n], old_v))
            n -= 1
        else:
            pos = n  # the first NaN
        arr = np.delete(arr, pos)
        if np.isfinite(new_v):
            arr = np.insert(arr, int(np.searchsorted(arr[:n], new_v)), new_v)
            n += 1
        else:
            arr = np.append(arr, new_v)
        self.qvalues[level][c][a] = arr
        self.qfinite[level][c][a] = n

    def update_venue(self, venue_id: int, new_basis: pl.DataFrame) -> dict[str, AreaGrade]:
        """Replace one venue's measures (a one-row :func:`venue_basis` frame) and return the
        re-graded areas it belongs to, per level."""
        i = self.row_of(venue_id)
        new = new_basis.select(VENUE_MEASURES).to_numpy().astype(np.float64)[0]
        delta = new - self.venue_measures[i]
        new_q = {
            c: new_basis[c].cast(pl.Float64).fill_null(np.nan).to_numpy()[0] for c in self.qcols
        }
        pairs: list[tuple[str, int]] = []
        for level in self.levels:
            a = int(self.area_of[level][i])
            if a < 0:
                continue
            self.sums[level][a] += delta
            for c in self.qcols:
                old_v, new_v = float(self.venue_q[c][i]), float(new_q[c])
                if not (old_v == new_v or (np.isnan(old_v) and np.isnan(new_v))):
                    self._move(level, c, a, old_v, new_v)
            pairs.append((level, a))
        self.venue_measures[i] = new
        for c in self.qcols:
            self.venue_q[c][i] = float(new_q[c])
        table = indicator_table(self._measures(pairs), self.method)
        keys = self.method.keys
        grades = self.method.scheme.grade_codes(table.scores)
        out: dict[str, AreaGrade] = {}
        for r, (level, a) in enumerate(pairs):
            risk, contrib = table.risks[r], table.contributions[r]
            order = np.argsort(-contrib, kind="stable")
            drivers = [
                keys[j] for j in order if np.isfinite(risk[j]) and risk[j] >= DRIVER_MIN_RISK
            ]
            out[level] = AreaGrade(
                level=level,
                code=self.codes[level][a],
                area_score=float(table.scores[r]),
                grade=GRADES[int(grades[r])],
                drivers=drivers[:MAX_DRIVERS],
            )
        return out
