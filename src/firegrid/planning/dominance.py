"""Dominated candidate sites, dropped before the solver sees them (MCLP and LSCP).

A candidate ``j`` is dominated by ``k`` when every demand ``j`` covers within T, ``k``
covers too, and ``k`` costs no more. For a model that only asks *whether* a demand is
covered (MCLP, LSCP), some optimum never uses ``j``: in any solution with ``j``, put ``k``
in its place — or, when ``k`` is already open, just close ``j`` — and no demand loses its
cover, the site count does not grow and the cost does not rise. (Not so for backup
coverage and MEXCLP, which count covers: there ``j`` and ``k`` together may be worth more
than ``k`` alone, so they keep every candidate.)

Two steps, both exact:

1. identical cover sets: one candidate per set is kept (the cheapest, then the first);
   sets are grouped by a random projection and every drop is verified against the kept
   one, so a hash collision never drops a candidate;
2. strict subsets: from the pairwise overlaps ``Cᵀ C`` (integer counts), ``j`` goes when
   some ``k`` with a larger set and a cost no higher contains all of it.

On the demo city (MCLP, 5 min) this leaves about 3,500 of 19,000 useful candidates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import csc_matrix

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def undominated(
    row: IntArray, col: IntArray, n_rows: int, columns: IntArray, cost: FloatArray
) -> IntArray:
    """The ``columns`` (sorted candidate indices) no other of them dominates.

    ``(row, col)`` are the covering pairs (demand ``row`` within T of candidate ``col``);
    ``cost`` is indexed by candidate.
    """
    if len(columns) < 2:
        return columns
    position = np.full(int(max(col.max(initial=-1), columns.max())) + 1, -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    keep_pair = position[col] >= 0
    cover = csc_matrix(
        (np.ones(int(keep_pair.sum())), (row[keep_pair], position[col[keep_pair]])),
        shape=(n_rows, len(columns)),
    )
    cover.sum_duplicates()
    cover.data[:] = 1.0
    size = np.diff(cover.indptr).astype(np.int64)
    c = np.asarray(cost, dtype=np.float64)[columns]
    alive = _distinct_sets(cover, size, c)
    sub = csc_matrix(cover[:, alive])
    overlap = (sub.T @ sub).tocoo()
    j, k = overlap.row, overlap.col
    s, ck = size[alive], c[alive]
    inside = (np.rint(overlap.data).astype(np.int64) == s[j]) & (s[k] > s[j]) & (ck[k] <= ck[j])
    dominated = np.zeros(len(alive), dtype=np.bool_)
    dominated[j[inside]] = True
    return columns[alive[~dominated]]


def _distinct_sets(cover: csc_matrix, size: IntArray, cost: FloatArray) -> IntArray:
    """Positions keeping one column per distinct cover set (cheapest, then first)."""
    n_rows, n = cover.shape
    rng = np.random.default_rng(20261202)
    h1 = cover.T @ rng.random(n_rows)
    h2 = cover.T @ rng.random(n_rows)
    order = np.lexsort((np.arange(n), cost, size, h2, h1))
    same = np.zeros(n, dtype=np.bool_)
    same[1:] = (h1[order][1:] == h1[order][:-1]) & (h2[order][1:] == h2[order][:-1])
    same[1:] &= size[order][1:] == size[order][:-1]
    representative = order.copy()
    for i in range(1, n):  # vectorisable, but runs of equal keys are short
        if same[i]:
            representative[i] = representative[i - 1]
    dropped = order[same]
    kept_for = representative[same]
    if len(dropped):  # verify: a hash collision must never drop a different set
        diff = cover[:, dropped] - cover[:, kept_for]
        differs = np.asarray(abs(diff).sum(axis=0)).ravel() > 0
        dropped = dropped[~differs]
    keep = np.ones(n, dtype=np.bool_)
    keep[dropped] = False
    return np.flatnonzero(keep).astype(np.int64)
