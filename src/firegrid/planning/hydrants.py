"""New municipal hydrants for the GB 50974 gaps by an optimal cover (the solver's LSCP),
counted against the greedy answer of ``firegrid hydrants gaps``.

Both start from the same data: the venues no in-service hydrant reaches within 150 m of
road, the candidate points along the streets near them (every node and a point every
60 m) and which venues each reaches (:func:`firegrid.geo.hydrant_gaps.hydrant_cover`).
The cover problem falls apart into independent clusters (venues linked by a shared
candidate); each is solved on its own: a cluster one candidate covers whole needs one
hydrant, the others go to the solver (exact with HiGHS; a heuristic answer is reported with
its bound, and the plan is optimal only if every cluster is).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy.sparse import bmat, csr_matrix
from scipy.sparse.csgraph import connected_components

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.geo.hydrant_gaps import (
    DEFAULT_CANDIDATE_STEP_M,
    DEFAULT_VENUE_RADIUS_M,
    hydrant_cover,
    hydrant_gaps,
)
from firegrid.geo.service import geo_context
from firegrid.planning import inputs
from firegrid.planning.solver import LocationProblem, Model, SolveOptions, solve


def optimal_cover(
    cover: csr_matrix, options: SolveOptions
) -> tuple[list[int], bool, float, list[str]]:
    """Fewest candidates (rows) covering every venue (column) that some candidate covers:
    ``(chosen rows, optimal, lower bound, notes)``."""
    n_cand, n_venues = cover.shape
    graph = bmat([[None, cover], [cover.T, None]]).tocsr()
    _, label = connected_components(graph, directed=False)
    cand_label, venue_label = label[:n_cand], label[n_cand:]
    chosen: list[int] = []
    optimal = True
    bound = 0.0
    notes: list[str] = []
    venue_order = np.argsort(venue_label, kind="stable")
    cuts = np.flatnonzero(np.diff(venue_label[venue_order])) + 1
    cand_order = np.argsort(cand_label, kind="stable")
    cand_sorted = cand_label[cand_order]
    for group in np.split(venue_order, cuts) if n_venues else []:
        comp = venue_label[group[0]]
        lo, hi = np.searchsorted(cand_sorted, [comp, comp + 1])
        cands = cand_order[lo:hi]
        if len(cands) == 0:
            continue  # venues no candidate reaches (counted as unfixable by the caller)
        sub = cover[cands][:, group].toarray().astype(bool)  # [cands × venues]
        full = np.flatnonzero(sub.all(axis=1))
        if len(full):
            chosen.append(int(cands[full[0]]))
            bound += 1.0
            continue
        cost = np.where(sub.T, 0.0, np.inf)  # [venues × cands]
        solution = solve(Model.LSCP, LocationProblem(cost_s=cost, threshold_s=0.0), options)
        chosen.extend(int(cands[j]) for j in solution.new_sites)
        bound += float(np.ceil(solution.bound - 1e-9))
        optimal = optimal and solution.optimal
        notes.extend(solution.notes)
    return chosen, optimal, bound, sorted(set(notes))


def plan_hydrants(
    database: Database, settings: Settings, *, time_limit_s: float = 60.0
) -> dict[str, Any]:
    started = time.perf_counter()
    context = geo_context(database, settings)
    engine = context.engine
    with database.session() as session:
        hydrant_sites = inputs.hydrants(session)
        venues = inputs.weighted_venues(session)
    hyd = np.asarray([(h.lon, h.lat) for h in hydrant_sites], dtype=np.float64).reshape(-1, 2)
    hyd_keep = engine.snap_distance_m(hyd[:, 0], hyd[:, 1]) <= engine.max_snap_distance_m
    points = np.column_stack([venues.lon, venues.lat])
    greedy = hydrant_gaps(engine, hyd[hyd_keep], points, venue_ids=venues.venue_id.tolist())
    uncovered = greedy.uncovered
    snapped = engine.snap(venues.lon[uncovered], venues.lat[uncovered], strict=False)
    budget = DEFAULT_VENUE_RADIUS_M - snapped.distance_m
    fixable = (budget >= 0) & snapped.on_network
    t0 = time.perf_counter()
    if fixable.any():
        lon, lat, cover = hydrant_cover(
            engine, snapped.node[fixable], budget[fixable], DEFAULT_CANDIDATE_STEP_M
        )
        chosen, optimal, bound, notes = optimal_cover(
            cover, SolveOptions(time_limit_s=time_limit_s)
        )
        covered = int((np.asarray(cover[chosen].sum(axis=0)).ravel() > 0).sum()) if chosen else 0
    else:
        lon = lat = np.empty(0)
        chosen, optimal, bound, notes, covered = [], True, 0.0, [], 0
    count = len(chosen)
    return {
        "kind": "hydrants",
        "model": "lscp",
        "parameters": {
            "venue_radius_m": DEFAULT_VENUE_RADIUS_M,
            "candidate_step_m": DEFAULT_CANDIDATE_STEP_M,
        },
        "sites": [
            {"code": f"H{k + 1}", "lon": round(float(lon[j]), 7), "lat": round(float(lat[j]), 7)}
            for k, j in enumerate(chosen)
        ],
        "hydrants_optimal": count,
        "hydrants_greedy": greedy.hydrants_needed,
        "saved_vs_greedy": greedy.hydrants_needed - count,
        "objective": float(count),
        "bound": bound,
        "gap": round((count - bound) / max(count, 1e-9), 6) if count else 0.0,
        "optimal": optimal,
        "solver_notes": notes,
        "venues_uncovered": len(uncovered),
        "venues_covered_by_plan": covered,
        "venues_unfixable": greedy.venues_unfixable,
        "hydrants_in_service": int(hyd_keep.sum()),
        "seconds": {
            "cover_s": round(time.perf_counter() - t0, 3),
            "total_s": round(time.perf_counter() - started, 3),
        },
    }
