"""Coverage within T as sparse data, with identical demand rows merged.

Two demands covered by the same candidates and the same number of fixed sites are one row of
summed weight in every coverage model (LSCP, MCLP, backup, MEXCLP): the MIPs grow with the
distinct coverage patterns, not with the demand count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from firegrid.planning.solver.problem import FloatArray, IntArray, LocationProblem


@dataclass(frozen=True)
class CoverageData:
    candidates: IntArray  # original column per candidate position
    cover: csr_matrix  # merged rows × candidates, 1 where the candidate covers the row
    fixed_count: IntArray  # per merged row: fixed sites covering it (capped)
    weights: FloatArray  # per merged row: summed weight
    site_costs: FloatArray  # per candidate (1 when the problem gives none)

    @property
    def n_rows(self) -> int:
        return int(self.cover.shape[0])

    @property
    def n_candidates(self) -> int:
        return int(self.candidates.shape[0])

    def counts(self, chosen: IntArray) -> IntArray:
        """Per merged row, the open sites covering it (fixed + ``chosen`` positions)."""
        pick = np.zeros(self.n_candidates, dtype=np.float64)
        pick[chosen] = 1.0
        covers: IntArray = self.fixed_count + np.rint(self.cover @ pick).astype(np.int64)
        return covers


def coverage_data(problem: LocationProblem, fixed_cap: int) -> CoverageData:
    """Merge identical rows; ``fixed_cap`` is where more fixed covers stop mattering."""
    assert problem.threshold_s is not None
    threshold = problem.threshold_s
    candidates = problem.candidate_sites()
    fixed = np.array(sorted(problem.fixed), dtype=np.int64)
    weights = problem.demand_weights()
    fixed_count = (
        (problem.dense_cost_s[:, fixed] <= threshold).sum(axis=1)
        if len(fixed)
        else np.zeros(problem.n_demand, dtype=np.int64)
    )
    fixed_count = np.minimum(fixed_count, fixed_cap).astype(np.int64)
    cover = csr_matrix(problem.dense_cost_s[:, candidates] <= threshold, dtype=np.float64)
    groups: dict[tuple[int, bytes], int] = {}
    group_of = np.empty(problem.n_demand, dtype=np.int64)
    for i in range(problem.n_demand):
        key = (int(fixed_count[i]), cover.indices[cover.indptr[i] : cover.indptr[i + 1]].tobytes())
        group_of[i] = groups.setdefault(key, len(groups))
    first = np.full(len(groups), -1, dtype=np.int64)
    first[group_of[::-1]] = np.arange(problem.n_demand)[::-1]
    merged_weights = np.bincount(group_of, weights=weights, minlength=len(groups))
    site_costs = (
        np.ones(len(candidates))
        if problem.site_costs is None
        else np.asarray(problem.site_costs, dtype=np.float64)[candidates]
    )
    return CoverageData(
        candidates=candidates,
        cover=csr_matrix(cover[first]),
        fixed_count=fixed_count[first],
        weights=merged_weights.astype(np.float64),
        site_costs=site_costs,
    )
