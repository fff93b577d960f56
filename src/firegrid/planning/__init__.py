"""Planning: where new fire stations, hydrants and logistics points should go.

The public surface of the context: the location-model solver (:mod:`.solver`) and the
OR-Library reader (:mod:`.orlib`).
"""

from firegrid.planning.solver import (
    InfeasibleProblem,
    InvalidProblem,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
    solve,
)

__all__ = [
    "InfeasibleProblem",
    "InvalidProblem",
    "LocationProblem",
    "Model",
    "Solution",
    "SolveOptions",
    "solve",
]
