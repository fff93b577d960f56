"""The p-median problem reduced to the pairs that matter.

A demand whose nearest fixed site is at ``cap`` can only gain from a candidate strictly closer
than ``cap``; every other pair is dropped. What remains is a sparse list of
``(row, candidate, cost)`` pairs, sorted by row then cost, shared by the heuristic, the
Lagrangian bound and the exact radius formulation. The pairs are read from the dense matrix a
block of rows at a time, or straight from :class:`SparseCosts` (no dense matrix at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firegrid.planning.solver.problem import FloatArray, IntArray, LocationProblem, SparseCosts
from firegrid.planning.solver.sparse_costs import BoolArray

_BLOCK_ROWS = 512


@dataclass(frozen=True)
class PMedianData:
    """Rows are the servable demands of positive weight; candidates are the new-site pool."""

    rows: IntArray  # original demand index per row
    candidates: IntArray  # original column per candidate
    weights: FloatArray  # per row
    cap: FloatArray  # per row: cost to the nearest fixed site (inf if none)
    pair_row: IntArray
    pair_cand: IntArray
    pair_cost: FloatArray
    p: int
    unservable: tuple[int, ...]

    @property
    def n_rows(self) -> int:
        return int(self.rows.shape[0])

    @property
    def n_candidates(self) -> int:
        return int(self.candidates.shape[0])

    def cost_of(self, chosen: IntArray) -> FloatArray:
        """Per row, the cost with candidates ``chosen`` (positions) open: the cheapest of
        them and the fixed sites (``inf`` when none reaches the row)."""
        is_open = np.zeros(self.n_candidates, dtype=bool)
        is_open[chosen] = True
        keep = is_open[self.pair_cand]
        best = self.cap.copy()
        np.minimum.at(best, self.pair_row[keep], self.pair_cost[keep])
        return best

    def restrict(self, keep: np.ndarray) -> PMedianData:
        """The same rows with only the candidates where ``keep`` is true (renumbered)."""
        position = np.cumsum(keep) - 1
        pairs = keep[self.pair_cand]
        return PMedianData(
            rows=self.rows,
            candidates=self.candidates[keep],
            weights=self.weights,
            cap=self.cap,
            pair_row=self.pair_row[pairs],
            pair_cand=position[self.pair_cand[pairs]].astype(np.int64),
            pair_cost=self.pair_cost[pairs],
            p=self.p,
            unservable=self.unservable,
        )

    def objective(self, chosen: IntArray) -> float:
        return float(np.dot(self.weights, self.cost_of(chosen)))


def _as_slice(index: IntArray) -> slice | IntArray:
    """``index`` as a slice when it is a run of consecutive integers (a view, not a copy)."""
    if (
        len(index)
        and int(index[-1]) - int(index[0]) == len(index) - 1
        and bool((np.diff(index) == 1).all())
    ):
        return slice(int(index[0]), int(index[-1]) + 1)
    return index


def _block(cost: FloatArray, rows: slice | IntArray, columns: slice | IntArray) -> FloatArray:
    """``cost[rows][:, columns]``, as views where both are slices."""
    block = cost[rows]
    return block[:, columns]


def reduce_pmedian(problem: LocationProblem) -> PMedianData:
    """Drop what cannot matter; list demands no allowed site reaches as unservable."""
    weights = problem.demand_weights()
    candidates = problem.candidate_sites()
    fixed = np.array(sorted(problem.fixed), dtype=np.int64)
    if isinstance(problem.cost_s, SparseCosts):
        cap, reachable = _reach_sparse(problem.cost_s, fixed, candidates)
    else:
        cap, reachable = _reach_dense(problem.cost_s, fixed, candidates)
    unservable = tuple(int(i) for i in np.flatnonzero(~reachable))
    rows = np.flatnonzero(reachable & (weights > 0)).astype(np.int64)
    row_cap = cap[rows]
    if isinstance(problem.cost_s, SparseCosts):
        pair_row, pair_cand, pair_cost = problem.cost_s.pairs_below(rows, candidates, row_cap)
    else:
        pair_row, pair_cand, pair_cost = _pairs_dense(problem.cost_s, rows, candidates, row_cap)
    order = np.lexsort((pair_cost, pair_row))
    return PMedianData(
        rows=rows,
        candidates=candidates,
        weights=weights[rows],
        cap=row_cap.astype(np.float64),
        pair_row=pair_row[order].astype(np.int64),
        pair_cand=pair_cand[order].astype(np.int64),
        pair_cost=pair_cost[order].astype(np.float64),
        p=int(problem.p or 0),
        unservable=unservable,
    )


def _reach_sparse(
    cost: SparseCosts, fixed: IntArray, candidates: IntArray
) -> tuple[FloatArray, BoolArray]:
    """Per demand, the nearest fixed site's cost and whether any allowed site reaches it."""
    cap = cost.min_over(fixed)
    return cap, np.isfinite(cap) | cost.reaches(candidates)


def _reach_dense(
    cost: FloatArray, fixed: IntArray, candidates: IntArray
) -> tuple[FloatArray, BoolArray]:
    columns = _as_slice(candidates)  # usually every column after the fixed ones
    cap = cost[:, fixed].min(axis=1) if len(fixed) else np.full(cost.shape[0], np.inf)
    reachable = np.isfinite(cap)
    for block in range(0, cost.shape[0], _BLOCK_ROWS):  # no full candidate-column copy
        part = slice(block, block + _BLOCK_ROWS)
        reachable[part] |= np.isfinite(_block(cost, part, columns)).any(axis=1)
    return cap, reachable


def _pairs_dense(
    cost: FloatArray, rows: IntArray, candidates: IntArray, row_cap: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """``(row position, candidate position, cost)`` of the pairs cheaper than the row's cap,
    by row then candidate."""
    columns = _as_slice(candidates)
    pieces_row, pieces_cand, pieces_cost = [], [], []
    for block in range(0, rows.shape[0], _BLOCK_ROWS):
        sub = _block(cost, _as_slice(rows[block : block + _BLOCK_ROWS]), columns)
        local_row, local_cand = np.nonzero(sub < row_cap[block : block + _BLOCK_ROWS, None])
        pieces_row.append(local_row + block)
        pieces_cand.append(local_cand)
        pieces_cost.append(sub[local_row, local_cand])
    pair_row = np.concatenate(pieces_row) if pieces_row else np.empty(0, np.int64)
    pair_cand = np.concatenate(pieces_cand) if pieces_cand else np.empty(0, np.int64)
    pair_cost = np.concatenate(pieces_cost) if pieces_cost else np.empty(0, np.float64)
    return pair_row.astype(np.int64), pair_cand.astype(np.int64), pair_cost
