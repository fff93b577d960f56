"""Brute-force optima by enumerating every choice of sites (tiny problems only)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from firegrid.planning.solver import LocationProblem, Model


def open_costs(problem: LocationProblem, sites: tuple[int, ...]) -> np.ndarray:
    columns = sorted(set(problem.fixed) | set(sites))
    if not columns:
        return np.full(problem.n_demand, np.inf)
    return problem.cost_s[:, columns].min(axis=1)


def counts(problem: LocationProblem, sites: tuple[int, ...]) -> np.ndarray:
    assert problem.threshold_s is not None
    columns = list(problem.fixed) + list(sites)
    return (problem.cost_s[:, columns] <= problem.threshold_s).sum(axis=1)


def value(model: Model, problem: LocationProblem, sites: tuple[int, ...]) -> float:
    """The model's objective for ``sites`` (inf / -inf when infeasible)."""
    w = problem.demand_weights()
    if model in {Model.PMEDIAN, Model.PCENTER}:
        allowed = sorted(set(problem.fixed) | set(problem.candidate_sites().tolist()))
        servable = np.isfinite(problem.cost_s[:, allowed]).any(axis=1) & (w > 0)
        cost = open_costs(problem, sites)[servable]
        if not np.isfinite(cost).all():
            return math.inf
        if model is Model.PMEDIAN:
            return float(np.dot(w[servable], cost))
        return float(cost.max(initial=0.0))
    c = counts(problem, sites)
    if model is Model.MCLP:
        return float(w[c >= 1].sum())
    if model is Model.BACKUP:
        return float(w[c >= 2].sum())
    if model is Model.MEXCLP:
        return float(np.dot(w, 1 - problem.busy_fraction**c))
    covered = float(w[c >= 1].sum())
    if covered < problem.coverage_share * w.sum() - 1e-9:
        return math.inf
    if problem.site_costs is not None:
        return float(problem.site_costs[list(sites)].sum())
    return float(len(sites))


def optimum(model: Model, problem: LocationProblem) -> float:
    candidates = problem.candidate_sites().tolist()
    best = -math.inf if model.maximises else math.inf
    if model is Model.LSCP or (model.maximises and problem.budget is not None):
        sizes = range(len(candidates) + 1)
    else:
        sizes = range(problem.p or 0, (problem.p or 0) + 1)
    for size in sizes:
        for sites in itertools.combinations(candidates, size):
            if problem.budget is not None:
                assert problem.site_costs is not None
                if problem.site_costs[list(sites)].sum() > problem.budget + 1e-9:
                    continue
                if problem.p is not None and len(sites) > problem.p:
                    continue
            v = value(model, problem, sites)
            best = max(best, v) if model.maximises else min(best, v)
    return best
