"""A cost matrix kept as its finite entries only (CSR): an absent pair is unreachable.

Road times searched within a bound leave most demand × site pairs unreachable; a dense
``(n_demand, n_sites)`` float64 matrix of them costs ``8 · n_demand · n_sites`` bytes (half a
gigabyte on a city). :class:`SparseCosts` holds only the finite times, row by row (sites
ascending within a row), and answers the few questions the p-median and the solution report
ask — each exactly as the dense matrix with ``inf`` in the absent pairs would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SparseCosts:
    """Travel times ``shape = (n_demand, n_sites)`` in seconds, finite ones only.

    Row ``i``'s entries are ``indptr[i]:indptr[i + 1]``: sites ``indices`` (strictly
    ascending) and their times ``times_s`` (finite, non-negative). A pair not listed is
    unreachable, as ``inf`` is in a dense cost matrix. Build it with :meth:`from_pairs` or
    :meth:`from_dense`; :meth:`problems` says what is wrong with one built by hand.
    """

    indptr: IntArray
    indices: IntArray
    times_s: FloatArray
    shape: tuple[int, int]

    @classmethod
    def from_pairs(
        cls, row: ArrayLike, site: ArrayLike, times_s: ArrayLike, shape: tuple[int, int]
    ) -> SparseCosts:
        """From ``(row, site, time)`` triplets; non-finite times are left out (unreachable)
        and a pair given twice keeps its smallest time. Indices must lie within ``shape``."""
        r = np.asarray(row, dtype=np.int64).ravel()
        c = np.asarray(site, dtype=np.int64).ravel()
        t = np.asarray(times_s, dtype=np.float64).ravel()
        if not len(r) == len(c) == len(t):
            raise ValueError("row, site and times_s must have the same length")
        n_demand, n_sites = int(shape[0]), int(shape[1])
        if len(r) and not (r.min() >= 0 and r.max() < n_demand):
            raise ValueError(f"row indices must lie in 0..{n_demand - 1}")
        if len(c) and not (c.min() >= 0 and c.max() < n_sites):
            raise ValueError(f"site indices must lie in 0..{n_sites - 1}")
        finite = np.isfinite(t)
        r, c, t = r[finite], c[finite], t[finite]
        order = np.lexsort((t, c, r))
        r, c, t = r[order], c[order], t[order]
        first = np.ones(len(r), dtype=np.bool_)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        r, c, t = r[first], c[first], t[first]
        indptr = np.zeros(n_demand + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n_demand), out=indptr[1:])
        return cls(indptr, c, t, (n_demand, n_sites))

    @classmethod
    def from_dense(cls, cost_s: ArrayLike) -> SparseCosts:
        """The finite entries of a dense ``(n_demand, n_sites)`` matrix."""
        cost = np.asarray(cost_s, dtype=np.float64)
        if cost.ndim != 2:
            raise ValueError("cost_s must be a 2-D array (demand × site)")
        row, site = np.nonzero(np.isfinite(cost))
        shape = (int(cost.shape[0]), int(cost.shape[1]))
        return cls.from_pairs(row, site, cost[row, site], shape)

    def to_dense(self) -> FloatArray:
        """The dense matrix, ``inf`` where a pair is absent (for small problems and tests)."""
        out = np.full(self.shape, np.inf)
        out[self.entry_rows, self.indices] = self.times_s
        return out

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    @cached_property
    def entry_rows(self) -> IntArray:
        """The row of every entry."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), counts)

    def problems(self) -> list[str]:
        """What is malformed (empty list: nothing)."""
        n_demand, n_sites = self.shape
        indptr, indices, times = self.indptr, self.indices, self.times_s
        if indptr.ndim != 1 or len(indptr) != n_demand + 1:
            return [f"cost_s.indptr must have {n_demand + 1} entries (one more than the rows)"]
        if indices.shape != times.shape or indices.ndim != 1:
            return ["cost_s.indices and cost_s.times_s must be 1-D and of the same length"]
        if indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any():
            return ["cost_s.indptr must rise from 0 to the number of entries"]
        problems: list[str] = []
        if len(indices) and not (indices.min() >= 0 and indices.max() < n_sites):
            problems.append(f"cost_s has sites outside 0..{n_sites - 1}")
        within = np.ones(len(indices), dtype=np.bool_)
        starts = indptr[1:-1]
        within[starts[starts < len(indices)]] = False  # a row's first entry: no predecessor
        if (np.diff(indices) <= 0)[within[1:]].any():
            problems.append("cost_s sites must be strictly ascending within each row")
        if not np.isfinite(times).all():
            problems.append("cost_s times must be finite (leave unreachable pairs out)")
        elif len(times) and times.min() < 0:
            problems.append("cost_s contains negative travel times")
        return problems

    def _site_mask(self, sites: IntArray) -> BoolArray:
        chosen = np.zeros(self.shape[1], dtype=np.bool_)
        chosen[np.asarray(sites, dtype=np.int64)] = True
        return chosen

    def nearest(self, sites: IntArray) -> tuple[IntArray, FloatArray]:
        """Per row, the cheapest of ``sites`` and its time: ``(-1, inf)`` when none reaches
        the row; among equal times, the lowest site (as ``argmin`` over ascending sites)."""
        site = np.full(self.shape[0], -1, dtype=np.int64)
        best = np.full(self.shape[0], np.inf)
        keep = self._site_mask(sites)[self.indices]
        rows, cols, times = self.entry_rows[keep], self.indices[keep], self.times_s[keep]
        order = np.lexsort((cols, times, rows))
        rows, cols, times = rows[order], cols[order], times[order]
        first = np.ones(len(rows), dtype=np.bool_)
        first[1:] = rows[1:] != rows[:-1]
        site[rows[first]] = cols[first]
        best[rows[first]] = times[first]
        return site, best

    def min_over(self, sites: IntArray) -> FloatArray:
        """Per row, the smallest time to any of ``sites`` (``inf`` when none reaches it)."""
        best = np.full(self.shape[0], np.inf)
        keep = self._site_mask(sites)[self.indices]
        np.minimum.at(best, self.entry_rows[keep], self.times_s[keep])
        return best

    def reaches(self, sites: IntArray) -> BoolArray:
        """Per row, whether any of ``sites`` reaches it."""
        out = np.zeros(self.shape[0], dtype=np.bool_)
        out[self.entry_rows[self._site_mask(sites)[self.indices]]] = True
        return out

    def covered(self, sites: IntArray, threshold_s: float) -> BoolArray:
        """Per row, whether one of ``sites`` is within ``threshold_s`` (``cost ≤ T``; with
        ``T = inf`` every row is, an absent pair being ``inf``, as in the dense matrix)."""
        if math.isinf(threshold_s) and threshold_s > 0:
            return np.full(self.shape[0], len(sites) > 0, dtype=np.bool_)
        keep = self._site_mask(sites)[self.indices] & (self.times_s <= threshold_s)
        out = np.zeros(self.shape[0], dtype=np.bool_)
        out[self.entry_rows[keep]] = True
        return out

    def pairs_below(
        self, rows: IntArray, sites: IntArray, below_s: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """The entries of ``rows`` (ascending) and ``sites`` (ascending) strictly cheaper than
        the row's ``below_s``: ``(position in rows, position in sites, time)``, ordered by row
        then site — the order ``np.nonzero`` gives on the dense ``cost[rows][:, sites]``."""
        row_position = np.full(self.shape[0], -1, dtype=np.int64)
        row_position[rows] = np.arange(len(rows), dtype=np.int64)
        site_position = np.full(self.shape[1], -1, dtype=np.int64)
        site_position[sites] = np.arange(len(sites), dtype=np.int64)
        entry_row = row_position[self.entry_rows]
        entry_site = site_position[self.indices]
        keep = (entry_row >= 0) & (entry_site >= 0)
        keep[keep] = self.times_s[keep] < np.asarray(below_s, dtype=np.float64)[entry_row[keep]]
        return entry_row[keep], entry_site[keep], self.times_s[keep]
