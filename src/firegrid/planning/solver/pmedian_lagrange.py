"""p-median lower bound by Lagrangian relaxation of the assignment constraints, maximised by
subgradient steps (Held–Karp step with Polyak's target: the best known cost).

With multipliers ``λ_i``, ``L(λ) = Σ λ_i + Σ_i min(0, w_i·cap_i − λ_i) + (the p smallest
ρ_j)`` where ``ρ_j = Σ_i min(0, w_i·c_ij − λ_i)``; every ``L(λ)`` is a valid lower bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from firegrid.planning.solver.pmedian_data import PMedianData
from firegrid.planning.solver.problem import FloatArray, IntArray


@dataclass(frozen=True)
class LagrangianResult:
    bound: float
    rho: FloatArray  # per candidate, at the best multipliers
    chosen: IntArray  # the p candidates of smallest rho there

    def opening_floor(self, p: int) -> FloatArray:
        """Per candidate, a lower bound on any solution that opens it: swapping it for the
        worst of the relaxation's chosen raises the Lagrangian by ``ρ_j − max ρ_chosen``."""
        if p == 0 or self.chosen.size == 0:
            return np.full(self.rho.shape[0], self.bound)
        worst = float(self.rho[self.chosen].max())
        floor = self.bound + np.maximum(self.rho - worst, 0.0)
        floor[self.chosen] = self.bound
        return floor


def lagrangian_bound(
    data: PMedianData,
    upper: float,
    *,
    deadline: float,
    max_iterations: int = 600,
) -> float:
    """The best Lagrangian lower bound found before ``deadline`` or ``max_iterations``."""
    return lagrangian(data, upper, deadline=deadline, max_iterations=max_iterations).bound


def lagrangian(
    data: PMedianData,
    upper: float,
    *,
    deadline: float,
    max_iterations: int = 600,
) -> LagrangianResult:
    """Subgradient optimisation of the Lagrangian dual; the best bound and its ``ρ``."""
    if data.n_rows == 0:
        empty = np.zeros(data.n_candidates)
        return LagrangianResult(0.0, empty, np.arange(min(data.p, data.n_candidates)))
    w_pair = data.weights[data.pair_row]
    wc_pair = w_pair * data.pair_cost
    w_cap = data.weights * data.cap  # inf where no fixed site
    finite_cap = np.isfinite(w_cap)
    # start from each row's cheapest weighted cost: a common, cheap, sound start
    lam = np.where(finite_cap, w_cap, np.inf)
    np.minimum.at(lam, data.pair_row, wc_pair)
    lam = np.where(np.isfinite(lam), lam, 0.0)
    best = -np.inf
    best_rho: FloatArray = np.zeros(data.n_candidates)
    best_open: IntArray = np.arange(min(data.p, data.n_candidates), dtype=np.int64)
    step = 2.0
    stall = 0
    p = data.p
    for _ in range(max_iterations):
        if time.perf_counter() >= deadline:
            break
        reduced = np.minimum(wc_pair - lam[data.pair_row], 0.0)
        rho = np.bincount(data.pair_cand, weights=reduced, minlength=data.n_candidates)
        cap_term = np.where(finite_cap, np.minimum(w_cap - lam, 0.0), 0.0)
        if p > 0:
            open_idx = (
                np.argpartition(rho, p - 1)[:p]
                if p < data.n_candidates
                else np.arange(data.n_candidates)
            )
        else:
            open_idx = np.empty(0, dtype=np.int64)
        value = float(lam.sum() + cap_term.sum() + rho[open_idx].sum())
        if not np.isfinite(best) or value > best + 1e-12 * max(abs(best), 1.0):
            best, stall = value, 0
            best_rho = np.asarray(rho, dtype=np.float64)
            best_open = np.asarray(open_idx, dtype=np.int64)
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2.0, 0
                if step < 1e-4:
                    break
        is_open = np.zeros(data.n_candidates, dtype=bool)
        is_open[open_idx] = True
        served = np.bincount(
            data.pair_row,
            weights=(is_open[data.pair_cand] & (reduced < 0)).astype(np.float64),
            minlength=data.n_rows,
        )
        served += (finite_cap & (w_cap - lam < 0)).astype(np.float64)
        gradient = 1.0 - served
        norm = float(np.dot(gradient, gradient))
        if norm == 0.0 or upper - value <= 1e-9 * max(abs(upper), 1.0):
            break
        lam = lam + step * (upper - value) / norm * gradient
    return LagrangianResult(best, best_rho, np.asarray(best_open, dtype=np.int64))
