"""Exact p-median by the radius (covering) formulation with iterative refinement.

Per demand row, its candidate costs sorted give levels; the formulation (Elloumi 2010, in the
sparse chained form, refined as García, Labbé & Marín 2011 do) charges a row ``b¹ + Σ_k
(b^{k+1} − b^k)·z^k`` where ``z^k`` means "no open site closer than ``b^{k+1}``"::

    z¹ + Σ_{j ∈ seg¹} y_j ≥ 1,    z^k + Σ_{j ∈ seg^k} y_j ≥ z^{k−1},    Σ y_j = p

Using only a subset of the levels (breakpoints) gives a relaxation: a row pays the largest
breakpoint not above its true cost. It is solved as an LP, refined where the LP's solution
pays less than its true LP cost, then as a MIP, refined where the MIP's sites are paid less
than their true cost. When nothing needs refining the MIP's optimum is the true cost of its
sites: proven optimal. The model stays small because most levels are never needed.

Two reductions keep rows short: a fixed site at ``cap`` ends the row (the pairs are already cut
there), and with ``Σ y = p`` over ``N`` candidates one of a row's ``N − p + 1`` nearest is
always open (even in the LP), so levels beyond it are never paid.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix

from firegrid.planning.solver.highs import LinearModel, MipStatus, run_highs
from firegrid.planning.solver.pmedian_data import PMedianData
from firegrid.planning.solver.problem import FloatArray, IntArray

_EPS = 1e-7


@dataclass(frozen=True)
class RadiusResult:
    chosen: IntArray | None  # candidate positions of the best solution found (None: none)
    cost: float  # its true cost
    bound: float  # proven lower bound
    proven: bool
    timed_out: bool


@dataclass(frozen=True)
class _Rows:
    """Per row: the considered pairs (a prefix of the row's sorted pairs) and its top."""

    pair_row: IntArray
    pair_cand: IntArray
    pair_cost: FloatArray
    top: FloatArray  # cost paid when no considered pair is open (the cap)
    must_cover: np.ndarray  # bool: some considered pair is always open


def considered_pairs(data: PMedianData) -> _Rows:
    """Cut each row after its ``N − p + 1`` nearest candidates (always one open)."""
    rows = data.pair_row
    start = np.searchsorted(rows, np.arange(data.n_rows), side="left")
    count = np.bincount(rows, minlength=data.n_rows)
    rank = np.arange(rows.shape[0]) - start[rows]
    limit = data.n_candidates - data.p + 1
    keep = rank < limit if data.p > 0 else np.zeros(rows.shape[0], dtype=bool)
    cut = count >= limit
    if data.p > 0:
        # keep every pair tied with the limit's cost so a level is never split
        last_cost = np.full(data.n_rows, np.inf)
        at_limit = rank == limit - 1
        last_cost[rows[at_limit]] = data.pair_cost[at_limit]
        keep |= data.pair_cost <= last_cost[rows]
    must_cover = cut | ~np.isfinite(data.cap)
    if data.p == 0:
        must_cover = np.zeros(data.n_rows, dtype=bool)
    return _Rows(
        pair_row=rows[keep],
        pair_cand=data.pair_cand[keep],
        pair_cost=data.pair_cost[keep],
        top=data.cap,
        must_cover=must_cover,
    )


def model_size(data: PMedianData) -> int:
    """Pairs the exact formulation may use (the size compared with the limit)."""
    return int(considered_pairs(data).pair_row.shape[0])


class _Formulation:
    """The relaxed radius model for one set of breakpoints."""

    def __init__(self, data: PMedianData, rows: _Rows, bp_row: IntArray, bp_cost: FloatArray):
        self.data, self.rows = data, rows
        order = np.lexsort((bp_cost, bp_row))
        self.bp_row, self.bp_cost = bp_row[order], bp_cost[order]
        n_bp = self.bp_row.shape[0]
        n_cand = data.n_candidates
        first = np.ones(n_bp, dtype=bool)
        first[1:] = self.bp_row[1:] != self.bp_row[:-1]
        last = np.ones(n_bp, dtype=bool)
        last[:-1] = self.bp_row[1:] != self.bp_row[:-1]
        self.first, self.last = first, last
        # segment of each pair: the last breakpoint of its row not above its cost
        segment = _segment_of(self.bp_row, self.bp_cost, rows.pair_row, rows.pair_cost)
        next_cost = np.empty(n_bp)
        next_cost[:-1] = self.bp_cost[1:]
        next_cost[last] = rows.top[self.bp_row[last]]
        weight = data.weights[self.bp_row]
        z_cost = weight * (next_cost - self.bp_cost)
        z_upper = np.ones(n_bp)
        closed_last = last & rows.must_cover[self.bp_row]
        z_cost[closed_last] = 0.0
        z_upper[closed_last] = 0.0
        self.offset = float(np.dot(weight[first], self.bp_cost[first]))
        # columns: y (n_cand) then z (n_bp); rows: one per z, then Σ y = p
        y_rows, y_cols = segment, rows.pair_cand
        z_rows = np.arange(n_bp)
        prev = np.flatnonzero(~first)
        entries_r = np.concatenate([y_rows, z_rows, prev, [n_bp] * n_cand])
        entries_c = np.concatenate([y_cols, n_cand + z_rows, n_cand + prev - 1, np.arange(n_cand)])
        entries_v = np.concatenate(
            [np.ones(y_rows.shape[0]), np.ones(n_bp), -np.ones(prev.shape[0]), np.ones(n_cand)]
        )
        matrix = coo_matrix(
            (entries_v, (entries_r, entries_c)), shape=(n_bp + 1, n_cand + n_bp)
        ).tocsc()
        row_lower = np.concatenate([first.astype(np.float64), [float(data.p)]])
        row_upper = np.concatenate([np.full(n_bp, np.inf), [float(data.p)]])
        self.lp = LinearModel(
            cost=np.concatenate([np.zeros(n_cand), z_cost]),
            lower=np.zeros(n_cand + n_bp),
            upper=np.concatenate([np.ones(n_cand), z_upper]),
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            offset=self.offset,
        )
        self.mip = LinearModel(**{**self.lp.__dict__, "integer": np.arange(n_cand + n_bp) < n_cand})

    def start(self, chosen: IntArray) -> FloatArray | None:
        """A feasible point for the sites ``chosen`` (None when it leaves a row uncovered)."""
        data, rows = self.data, self.rows
        is_open = np.zeros(data.n_candidates, dtype=bool)
        is_open[chosen] = True
        true = rows.top.copy()
        hit = is_open[rows.pair_cand]
        np.minimum.at(true, rows.pair_row[hit], rows.pair_cost[hit])
        covered = np.zeros(data.n_rows, dtype=bool)
        covered[rows.pair_row[hit]] = True
        if (rows.must_cover & ~covered).any():
            return None
        next_cost = np.empty(self.bp_row.shape[0])
        next_cost[:-1] = self.bp_cost[1:]
        next_cost[self.last] = np.inf
        z = (true[self.bp_row] >= next_cost).astype(np.float64)
        z[self.last] = (~covered[self.bp_row[self.last]]).astype(np.float64)
        return np.concatenate([is_open.astype(np.float64), z])

    def lp_breakpoints(self, y: FloatArray) -> tuple[IntArray, FloatArray]:
        """Where the LP's fractional sites are paid less than their true LP cost."""
        rows = self.rows
        value = y[rows.pair_cand]
        cumulative = np.cumsum(value)
        start = np.searchsorted(rows.pair_row, rows.pair_row, side="left")
        before = cumulative - value - np.where(start > 0, cumulative[start - 1], 0.0)
        need = (value > _EPS) & (before < 1.0 - _EPS)
        return rows.pair_row[need], rows.pair_cost[need]

    def mip_breakpoints(self, chosen: IntArray) -> tuple[IntArray, FloatArray]:
        """The true cost of each row under ``chosen`` where it is not yet a breakpoint."""
        rows = self.rows
        is_open = np.zeros(self.data.n_candidates, dtype=bool)
        is_open[chosen] = True
        true = np.full(self.data.n_rows, np.inf)
        hit = is_open[rows.pair_cand]
        np.minimum.at(true, rows.pair_row[hit], rows.pair_cost[hit])
        has = np.flatnonzero(np.isfinite(true))
        return has.astype(np.int64), true[has]


def _segment_of(bp_row: IntArray, bp_cost: FloatArray, row: IntArray, cost: FloatArray) -> IntArray:
    """Index of the last breakpoint of ``row`` whose cost is ≤ ``cost`` (vectorised)."""
    n_bp = bp_row.shape[0]
    all_row = np.concatenate([bp_row, row])
    all_cost = np.concatenate([bp_cost, cost])
    kind = np.concatenate([np.zeros(n_bp, np.int64), np.ones(row.shape[0], np.int64)])
    order = np.lexsort((kind, all_cost, all_row))
    is_bp = kind[order] == 0
    running = np.cumsum(is_bp) - 1
    segment = np.empty(row.shape[0], dtype=np.int64)
    segment[order[~is_bp] - n_bp] = running[~is_bp]
    return segment


def _merge(
    bp_row: IntArray, bp_cost: FloatArray, add_row: IntArray, add_cost: FloatArray
) -> tuple[IntArray, FloatArray, int]:
    """Union of two breakpoint lists; also how many were new."""
    rows = np.concatenate([bp_row, add_row])
    costs = np.concatenate([bp_cost, add_cost])
    stacked = np.unique(np.stack([rows.astype(np.float64), costs]), axis=1)
    merged_row = stacked[0].astype(np.int64)
    return merged_row, stacked[1], int(stacked.shape[1] - bp_row.shape[0])


def integral_gap(data: PMedianData) -> float:
    """When every weight and cost is an integer, every solution's cost is one too, so a
    bound within 1 of a cost proves it (less a margin for rounding); otherwise ~0."""
    values = np.concatenate([data.weights, data.pair_cost, data.cap[np.isfinite(data.cap)]])
    if values.size and np.all(values == np.round(values)) and np.abs(values).max() < 1e7:
        return 1.0 - 1e-6
    return 1e-9


def solve_radius(
    data: PMedianData,
    incumbent: IntArray,
    *,
    deadline: float,
    threads: int | None,
    tolerance: float,
    improve: Callable[[IntArray], IntArray],
    max_lp_rounds: int = 50,
    fix_by_reduced_cost: bool = True,
    breakpoints: tuple[IntArray, FloatArray] | None = None,
) -> RadiusResult:
    """Refine until proven optimal or out of time; ``incumbent`` is the heuristic's answer
    and ``improve`` polishes each MIP answer into a better upper bound (local search)."""
    rows = considered_pairs(data)
    abs_gap = integral_gap(data)
    best_chosen, best_cost = incumbent, data.objective(incumbent)
    bound = -np.inf
    # initial breakpoints: each row's nearest level and its cost under the incumbent
    has_pairs = np.unique(rows.pair_row)
    first_cost = np.full(data.n_rows, np.inf)
    np.minimum.at(first_cost, rows.pair_row, rows.pair_cost)
    incumbent_cost = data.cost_of(incumbent)
    inc_rows = has_pairs[incumbent_cost[has_pairs] < rows.top[has_pairs]]
    bp_row, bp_cost, _ = _merge(
        has_pairs.astype(np.int64),
        first_cost[has_pairs],
        inc_rows.astype(np.int64),
        incumbent_cost[inc_rows],
    )
    if breakpoints is not None:  # levels an outer LP already found useful
        bp_row, bp_cost, _ = _merge(bp_row, bp_cost, *breakpoints)
    constant = float(
        np.dot(data.weights, np.where(np.isin(np.arange(data.n_rows), has_pairs), 0.0, rows.top))
    )

    def tightened(value: float) -> float:
        """An integral objective is at least the ceiling of any bound on it."""
        return float(np.ceil(value - 1e-6)) if abs_gap > 0.5 and np.isfinite(value) else value

    def proven() -> bool:
        return bool(best_cost - bound <= max(tolerance * abs(best_cost), abs_gap))

    lp_value, reduced = -np.inf, None
    for _ in range(max_lp_rounds):
        if time.perf_counter() >= deadline:
            return RadiusResult(best_chosen, best_cost, bound, False, True)
        formulation = _Formulation(data, rows, bp_row, bp_cost)
        result = run_highs(
            formulation.lp, time_limit_s=deadline - time.perf_counter(), threads=threads
        )
        if result.status is not MipStatus.OPTIMAL or result.values is None:
            break
        lp_value, reduced = result.objective + constant, result.reduced_costs
        bound = max(bound, tightened(lp_value))
        add_row, add_cost = formulation.lp_breakpoints(result.values[: data.n_candidates])
        bp_row, bp_cost, added = _merge(bp_row, bp_cost, add_row, add_cost)
        if added == 0 or proven():
            break
    if fix_by_reduced_cost and reduced is not None and not proven():
        # LP reduced-cost fixing: opening j costs at least lp_value + rc_j; a candidate that
        # cannot beat the incumbent is dropped and the rest solved exactly. The incumbent's
        # own sites always survive (the incumbent itself opens them at cost best_cost).
        floor = np.array([tightened(lp_value + rc) for rc in reduced[: data.n_candidates]])
        margin = 0.5 if abs_gap > 0.5 else tolerance * abs(best_cost)
        keep = floor < best_cost - margin
        keep[best_chosen] = True
        if os.environ.get("FIREGRID_PLAN_DEBUG"):
            print(f"reduced-cost fixing keeps {int(keep.sum())} of {data.n_candidates}")
        if keep.sum() < data.n_candidates and keep.sum() > data.p:
            sub = data.restrict(keep)
            position = np.cumsum(keep) - 1
            inner = solve_radius(
                sub,
                position[best_chosen].astype(np.int64),
                deadline=deadline,
                threads=threads,
                tolerance=tolerance,
                improve=lambda chosen: chosen,
                max_lp_rounds=max_lp_rounds,
                fix_by_reduced_cost=False,
                breakpoints=(bp_row, bp_cost),
            )
            kept = np.flatnonzero(keep)
            chosen_back = kept[inner.chosen] if inner.chosen is not None else best_chosen
            polished = improve(chosen_back)
            if data.objective(polished) < inner.cost:
                chosen_back = polished
            cost_back = data.objective(chosen_back)
            # solutions using a dropped candidate cost at least best_cost (see above)
            inner_bound = min(inner.bound, best_cost) if np.isfinite(inner.bound) else bound
            final_bound = max(bound, inner_bound)
            if cost_back <= best_cost:
                best_chosen, best_cost = chosen_back, cost_back
            bound = final_bound
            return RadiusResult(best_chosen, best_cost, bound, proven(), inner.timed_out)
    while not proven():
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return RadiusResult(best_chosen, best_cost, bound, False, True)
        formulation = _Formulation(data, rows, bp_row, bp_cost)
        start = formulation.start(best_chosen)
        result = run_highs(
            formulation.mip,
            time_limit_s=remaining,
            threads=threads,
            start=start,
            mip_rel_gap=tolerance,
            mip_abs_gap=abs_gap,
            use_heuristics=False,
            presolve=False,
        )
        if np.isfinite(result.bound):
            bound = max(bound, tightened(result.bound + constant))
        if result.values is None:
            return RadiusResult(
                best_chosen, best_cost, bound, False, result.status is MipStatus.TIME_LIMIT
            )
        chosen = np.flatnonzero(result.values[: data.n_candidates] > 0.5).astype(np.int64)
        cost = data.objective(chosen)
        polished = improve(chosen)
        polished_cost = data.objective(polished)
        if polished_cost < best_cost:
            best_chosen, best_cost = polished, polished_cost
        if result.status is not MipStatus.OPTIMAL:
            return RadiusResult(best_chosen, best_cost, bound, proven(), True)
        add_row, add_cost = formulation.mip_breakpoints(chosen)
        bp_row, bp_cost, added = _merge(bp_row, bp_cost, add_row, add_cost)
        if added == 0:  # the relaxation's optimum is paid in full: optimal
            bound = max(bound, tightened(cost))
            if cost <= best_cost:
                best_chosen, best_cost = chosen, cost
            break
    return RadiusResult(best_chosen, best_cost, bound, proven(), False)
