"""The location problem, the solver's options and the solution it returns.

Everything here is pure data: a cost matrix of travel times (demand ``i`` × site ``j``, in
seconds, ``inf`` where ``j`` cannot reach ``i``) — dense, or for the p-median its finite
entries only (:class:`SparseCosts`) — demand weights, the sites already open (fixed; they are
columns of the matrix) and the model's parameters. No database, no geo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.planning.solver.sparse_costs import SparseCosts

__all__ = [
    "SPARSE_MODELS",
    "FloatArray",
    "InfeasibleProblem",
    "IntArray",
    "InvalidProblem",
    "LocationProblem",
    "Model",
    "Solution",
    "SolveOptions",
    "SparseCosts",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Model(StrEnum):
    """The location models the solver knows.

    * ``lscp`` — fewest new sites (least site cost with ``site_costs``) so that a share
      ``coverage_share`` of the weighted demand is within ``threshold_s``;
    * ``mclp`` — most weighted demand within ``threshold_s`` with ``p`` new sites (or ``budget``);
    * ``pmedian`` — least total weighted cost with ``p`` new sites;
    * ``pcenter`` — least worst cost with ``p`` new sites;
    * ``backup`` — most weighted demand covered at least twice within ``threshold_s`` (Hogan &
      ReVelle's backup coverage; ties broken towards more demand covered once);
    * ``mexclp`` — most expected covered demand (Daskin): a demand with ``k`` covering sites
      counts ``w·(1 − q^k)`` for a busy fraction ``q``.

    Fixed sites are open in every model and are never counted among the ``p`` new ones.
    """

    LSCP = "lscp"
    MCLP = "mclp"
    PMEDIAN = "pmedian"
    PCENTER = "pcenter"
    BACKUP = "backup"
    MEXCLP = "mexclp"

    @property
    def maximises(self) -> bool:
        """Whether the objective is maximised (coverage models) rather than minimised."""
        return self in {Model.MCLP, Model.BACKUP, Model.MEXCLP}


#: models that take their costs as :class:`SparseCosts` (the others need a dense matrix)
SPARSE_MODELS = frozenset({Model.PMEDIAN})


class InvalidProblem(ValidationFailed):
    """The problem's data is malformed (shapes, indices, parameters); ``details`` lists
    every problem found."""

    code = "invalid_location_problem"
    default_text = TextCode.PLANNING_PROBLEM_INVALID


class InfeasibleProblem(ValidationFailed):
    """No choice of sites satisfies the model (e.g. LSCP demand no candidate can reach
    within the threshold, or ``p`` sites too few to reach every demand)."""

    code = "infeasible_location_problem"
    default_text = TextCode.PLANNING_INFEASIBLE


@dataclass(frozen=True)
class LocationProblem:
    """One location problem.

    Parameters
    ----------
    cost_s
        ``(n_demand, n_sites)`` travel times in seconds; ``inf`` = unreachable. Non-negative.
        For the models of :data:`SPARSE_MODELS`, a :class:`SparseCosts` of the finite times
        may stand in for the dense array (an absent pair = ``inf``): same answer, no
        ``n_demand × n_sites`` array.
    weights
        ``(n_demand,)`` non-negative demand weights; ``None`` = all 1.
    fixed
        Columns already open (existing stations). Open in every model, not among the ``p``.
    candidates
        Columns that may be chosen as new sites; ``None`` = every column not fixed.
    p
        Number of new sites (MCLP, p-median, p-center, backup, MEXCLP).
    threshold_s
        Coverage threshold T in seconds (LSCP, MCLP, backup, MEXCLP; also reported as
        coverage before/after for the other models when given). ``cost ≤ T`` covers.
    coverage_share
        LSCP: the share α of the weighted demand that must be covered (1 = all).
    busy_fraction
        MEXCLP: the probability ``q`` that a unit is busy (0 ≤ q < 1).
    site_costs
        ``(n_sites,)`` cost of opening each site (LSCP minimises it; MCLP, backup and MEXCLP
        respect ``budget`` with it).
    budget
        Upper bound on the total ``site_costs`` of the new sites (coverage models).
    """

    cost_s: FloatArray | SparseCosts
    weights: FloatArray | None = None
    fixed: tuple[int, ...] = ()
    candidates: tuple[int, ...] | None = None
    p: int | None = None
    threshold_s: float | None = None
    coverage_share: float = 1.0
    busy_fraction: float = 0.0
    site_costs: FloatArray | None = None
    budget: float | None = None

    @property
    def n_demand(self) -> int:
        return int(self.cost_s.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.cost_s.shape[1])

    @property
    def dense_cost_s(self) -> FloatArray:
        """The dense cost matrix, for the models that need one (:func:`solve` refuses a
        sparse one for them before they run)."""
        if isinstance(self.cost_s, SparseCosts):
            raise InvalidProblem("this model needs a dense cost_s (a 2-D array)")
        return self.cost_s

    def demand_weights(self) -> FloatArray:
        """The weights, all 1 when none were given."""
        if self.weights is None:
            return np.ones(self.n_demand, dtype=np.float64)
        return np.asarray(self.weights, dtype=np.float64)

    def candidate_sites(self) -> IntArray:
        """Columns that may be opened as new sites (never a fixed one), sorted."""
        fixed = set(self.fixed)
        pool = range(self.n_sites) if self.candidates is None else self.candidates
        return np.array(sorted({int(j) for j in pool} - fixed), dtype=np.int64)


@dataclass(frozen=True)
class SolveOptions:
    """How hard to try.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget for the exact MIP; beyond it the best solution found is returned
        with its bound and gap and ``optimal`` false.
    exact_size_limit
        Largest problem (demand × site pairs that matter, after reduction) given to the MIP;
        beyond it the heuristic answers (with its bound and gap).
    gap_tolerance
        Relative gap under which a proven bound counts as optimal (HiGHS' own tolerance).
    threads
        Threads HiGHS may use; ``None`` = its default.
    seed
        Seed of the heuristics' random choices (results are reproducible).
    """

    time_limit_s: float = 60.0
    exact_size_limit: int = 4_000_000
    gap_tolerance: float = 1e-9
    threads: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Solution:
    """A solver's answer.

    ``objective`` is the model's value for the chosen sites (site count or cost for LSCP,
    covered weight for MCLP/backup, expected covered weight for MEXCLP, total weighted cost for
    p-median, worst cost for p-center). ``bound`` is the best proven bound on the optimum
    (a lower bound when minimising, an upper bound when maximising); ``gap`` is
    ``|objective − bound| / max(|objective|, 1e-9)``. ``optimal`` is true only when the
    optimum is proven (exact method finished and the gap is within tolerance); a heuristic or
    time-limited answer is never optimal.
    """

    model: Model
    new_sites: tuple[int, ...]
    open_sites: tuple[int, ...]
    objective: float
    bound: float
    gap: float
    optimal: bool
    method: str
    seconds: float
    assigned_site: IntArray
    """Per demand, the nearest open site (``-1`` when none reaches it)."""
    assigned_cost_s: FloatArray
    """Per demand, the cost to its nearest open site (``inf`` when none reaches it)."""
    coverage_before: float | None
    """Weighted share of demand within ``threshold_s`` of the fixed sites alone."""
    coverage_after: float | None
    """Weighted share of demand within ``threshold_s`` of the fixed and new sites."""
    unservable: tuple[int, ...] = ()
    """Demands no allowed site can serve (left out of the objective; see ``notes``)."""
    notes: tuple[str, ...] = field(default=())
    """Codes explaining the method's choice, e.g. ``size_limit``, ``time_limit``."""
