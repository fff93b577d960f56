"""Location-model solver: LSCP, MCLP, p-median, p-center, backup coverage and MEXCLP with
fixed (existing) sites, exact with HiGHS where the model fits, heuristic with a proven bound and
gap beyond that. Pure: NumPy/SciPy and highspy, no database.

Use::

    from firegrid.planning.solver import LocationProblem, Model, solve

    solution = solve(Model.PMEDIAN, LocationProblem(cost_s=matrix, fixed=(0, 3), p=5))
"""

from firegrid.planning.solver.problem import (
    FloatArray,
    InfeasibleProblem,
    IntArray,
    InvalidProblem,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)
from firegrid.planning.solver.solve import solve

__all__ = [
    "FloatArray",
    "InfeasibleProblem",
    "IntArray",
    "InvalidProblem",
    "LocationProblem",
    "Model",
    "Solution",
    "SolveOptions",
    "solve",
]
