"""Location-model solver: LSCP, MCLP, p-median, p-center, backup coverage and MEXCLP with
fixed (existing) sites, exact with HiGHS where the model fits, heuristic with a proven bound and
gap beyond that. Pure: NumPy/SciPy and highspy, no database.

Use::

    from firegrid.planning.solver import LocationProblem, Model, solve

    solution = solve(Model.PMEDIAN, LocationProblem(cost_s=matrix, fixed=(0, 3), p=5))

For the p-median, ``cost_s`` may be a :class:`SparseCosts` of the finite times only (the same
answer without a dense ``n_demand × n_sites`` matrix).
"""

from firegrid.planning.solver.problem import (
    SPARSE_MODELS,
    FloatArray,
    InfeasibleProblem,
    IntArray,
    InvalidProblem,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
    SparseCosts,
)
from firegrid.planning.solver.solve import solve

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
    "solve",
]
