"""What every model shares: assignment to the nearest open site, coverage shares, the gap
and the assembly of a :class:`Solution`."""

from __future__ import annotations

import numpy as np

from firegrid.planning.solver.problem import (
    FloatArray,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SparseCosts,
)

GAP_FLOOR = 1e-9


def assign(cost_s: FloatArray | SparseCosts, open_sites: IntArray) -> tuple[IntArray, FloatArray]:
    """Per demand, the nearest open site (``-1`` if none reaches it) and its cost; among
    equally near sites, the lowest."""
    n_demand = cost_s.shape[0]
    if len(open_sites) == 0:
        return np.full(n_demand, -1, np.int64), np.full(n_demand, np.inf)
    if isinstance(cost_s, SparseCosts):
        return cost_s.nearest(open_sites)
    sub = cost_s[:, open_sites]
    nearest = np.argmin(sub, axis=1)
    best = sub[np.arange(n_demand), nearest]
    site = np.where(np.isfinite(best), open_sites[nearest], -1).astype(np.int64)
    return site, best.astype(np.float64)


def covered_share(
    cost_s: FloatArray | SparseCosts,
    weights: FloatArray,
    open_sites: IntArray,
    threshold_s: float,
) -> float:
    """Weighted share of demand within ``threshold_s`` of an open site (1 for no demand)."""
    total = float(weights.sum())
    if total <= 0:
        return 1.0
    if len(open_sites) == 0:
        return 0.0
    covered = (
        cost_s.covered(open_sites, threshold_s)
        if isinstance(cost_s, SparseCosts)
        else np.asarray((cost_s[:, open_sites] <= threshold_s).any(axis=1))
    )
    return float(weights[covered].sum() / total)


def relative_gap(objective: float, bound: float) -> float:
    """``|objective − bound| / max(|objective|, 1e-9)``; ``inf`` without a finite bound."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return float(abs(objective - bound) / max(abs(objective), GAP_FLOOR))


def is_proven(objective: float, bound: float, tolerance: float) -> bool:
    """Whether ``bound`` proves ``objective`` optimal within ``tolerance`` (relative)."""
    gap = relative_gap(objective, bound)
    return gap <= tolerance or abs(objective - bound) <= 1e-9


def build_solution(
    model: Model,
    problem: LocationProblem,
    new_sites: IntArray | list[int],
    *,
    objective: float,
    bound: float,
    optimal: bool,
    method: str,
    notes: tuple[str, ...] = (),
    unservable: tuple[int, ...] = (),
) -> Solution:
    """Assemble the solution: assignment, coverage before/after and the gap."""
    new = np.array(sorted(int(j) for j in new_sites), dtype=np.int64)
    fixed = np.array(sorted(problem.fixed), dtype=np.int64)
    open_sites = np.union1d(fixed, new).astype(np.int64)
    site, cost = assign(problem.cost_s, open_sites)
    before = after = None
    if problem.threshold_s is not None:
        weights = problem.demand_weights()
        before = covered_share(problem.cost_s, weights, fixed, problem.threshold_s)
        after = covered_share(problem.cost_s, weights, open_sites, problem.threshold_s)
    gap = relative_gap(objective, bound)
    return Solution(
        model=model,
        new_sites=tuple(int(j) for j in new),
        open_sites=tuple(int(j) for j in open_sites),
        objective=float(objective),
        bound=float(bound),
        gap=0.0 if optimal else gap,
        optimal=optimal,
        method=method,
        seconds=0.0,
        assigned_site=site,
        assigned_cost_s=cost,
        coverage_before=before,
        coverage_after=after,
        unservable=unservable,
        notes=notes,
    )
