"""``solve``: check a problem, pick the model's method, time it."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np

from firegrid.planning.solver.problem import (
    SPARSE_MODELS,
    InvalidProblem,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
    SparseCosts,
)

Method = Callable[[LocationProblem, SolveOptions], Solution]

_NEEDS_P = {Model.MCLP, Model.PMEDIAN, Model.PCENTER, Model.BACKUP, Model.MEXCLP}
_NEEDS_THRESHOLD = {Model.LSCP, Model.MCLP, Model.BACKUP, Model.MEXCLP}
_TAKES_BUDGET = {Model.MCLP, Model.BACKUP, Model.MEXCLP}


def solve(
    model: Model | str, problem: LocationProblem, options: SolveOptions | None = None
) -> Solution:
    """Solve ``problem`` under ``model``.

    Exact (HiGHS MIP) when the reduced model fits ``options.exact_size_limit`` and finishes
    within ``options.time_limit_s``; otherwise the heuristic's answer with its proven bound and
    gap. ``Solution.optimal`` is true only for a proven optimum.

    Raises
    ------
    InvalidProblem
        The problem is malformed; ``details`` lists every problem found.
    InfeasibleProblem
        No choice of sites satisfies the model.
    """
    try:
        chosen = Model(model)
    except ValueError:
        known = ", ".join(m.value for m in Model)
        raise InvalidProblem(f"unknown model {model!r}; known: {known}") from None
    check_problem(chosen, problem)
    started = time.perf_counter()
    solution = _method(chosen)(problem, options or SolveOptions())
    return _with_seconds(solution, time.perf_counter() - started)


def check_problem(model: Model, problem: LocationProblem) -> None:
    """Collect every problem with ``problem`` for ``model`` and raise them together."""
    problems = _cost_problems(model, problem.cost_s)
    n_demand, n_sites = problem.n_demand, problem.n_sites
    if problem.weights is not None:
        weights = np.asarray(problem.weights, dtype=np.float64)
        if weights.shape != (n_demand,):
            problems.append(f"weights must have shape ({n_demand},), got {weights.shape}")
        elif not np.isfinite(weights).all() or (weights < 0).any():
            problems.append("weights must be finite and non-negative")
    for name, indices in (("fixed", problem.fixed), ("candidates", problem.candidates or ())):
        bad = [j for j in indices if not 0 <= int(j) < n_sites]
        if bad:
            problems.append(f"{name} has columns outside 0..{n_sites - 1}: {bad[:10]}")
    if problems:
        raise InvalidProblem("invalid location problem: " + "; ".join(problems), problems)
    problems.extend(_parameter_problems(model, problem))
    if problems:
        raise InvalidProblem("invalid location problem: " + "; ".join(problems), problems)


def _cost_problems(model: Model, cost: object) -> list[str]:
    """What is wrong with the cost matrix; raises at once when it has no usable shape."""
    if isinstance(cost, SparseCosts):
        if model not in SPARSE_MODELS:
            takes = ", ".join(sorted(m.value for m in SPARSE_MODELS))
            raise InvalidProblem(
                f"{model.value} needs a dense cost_s (a 2-D array); sparse costs are taken "
                f"by {takes} only"
            )
        malformed = cost.problems()
        if malformed:
            raise InvalidProblem("invalid location problem: " + "; ".join(malformed), malformed)
        if 0 in cost.shape:
            return [f"cost_s is empty (shape {cost.shape})"]
        return []
    if not isinstance(cost, np.ndarray) or cost.ndim != 2:
        raise InvalidProblem("cost_s must be a 2-D array (demand × site)")
    problems: list[str] = []
    if cost.shape[0] == 0 or cost.shape[1] == 0:
        problems.append(f"cost_s is empty (shape {cost.shape})")
    if np.isnan(cost).any():
        problems.append("cost_s contains NaN (use inf for unreachable)")
    elif (cost < 0).any():
        problems.append("cost_s contains negative travel times")
    return problems


def _parameter_problems(model: Model, problem: LocationProblem) -> list[str]:
    problems: list[str] = []
    n_candidates = len(problem.candidate_sites())
    if model in _NEEDS_P and problem.p is None and problem.budget is None:
        problems.append(f"{model.value} needs p (the number of new sites)")
    if problem.p is not None and not 0 <= problem.p <= n_candidates:
        problems.append(f"p must be between 0 and the {n_candidates} candidate sites")
    if model in {Model.PMEDIAN, Model.PCENTER} and problem.budget is not None:
        problems.append(f"{model.value} takes p, not a budget")
    if model in _NEEDS_THRESHOLD and problem.threshold_s is None:
        problems.append(f"{model.value} needs threshold_s (the coverage threshold T)")
    if problem.threshold_s is not None and not problem.threshold_s >= 0:
        problems.append("threshold_s must be a non-negative number of seconds")
    if not 0.0 < problem.coverage_share <= 1.0:
        problems.append("coverage_share must be in (0, 1]")
    if not 0.0 <= problem.busy_fraction < 1.0:
        problems.append("busy_fraction must be in [0, 1)")
    if problem.site_costs is not None:
        site_costs = np.asarray(problem.site_costs, dtype=np.float64)
        if site_costs.shape != (problem.n_sites,):
            problems.append(f"site_costs must have shape ({problem.n_sites},)")
        elif not np.isfinite(site_costs).all() or (site_costs < 0).any():
            problems.append("site_costs must be finite and non-negative")
    if problem.budget is not None:
        if model not in _TAKES_BUDGET:
            problems.append(f"{model.value} does not take a budget")
        elif problem.site_costs is None:
            problems.append("a budget needs site_costs")
        elif problem.budget < 0:
            problems.append("budget must not be negative")
    return problems


def _method(model: Model) -> Method:
    if model is Model.PMEDIAN:
        from firegrid.planning.solver.pmedian import solve_pmedian

        return solve_pmedian
    if model is Model.PCENTER:
        from firegrid.planning.solver.pcenter import solve_pcenter

        return solve_pcenter
    if model is Model.LSCP:
        from firegrid.planning.solver.lscp import solve_lscp

        return solve_lscp
    from firegrid.planning.solver.coverage import solve_coverage

    return partial(solve_coverage, model)


def _with_seconds(solution: Solution, seconds: float) -> Solution:
    from dataclasses import replace

    return replace(solution, seconds=seconds)
