"""Reader for J.E. Beasley's OR-Library uncapacitated p-median files (``pmed1`` … ``pmed40``).

Format: whitespace-separated integers, first ``n m p``, then ``m`` lines ``i j cost``
(1-based, undirected). Beasley's construction is followed exactly: start from
``c(i, j) = inf`` and ``c(i, i) = 0``, read the edges **in order** setting
``c(i, j) = c(j, i) = cost`` (a repeated pair keeps its *last* cost, not the cheapest), then
take all-pairs shortest paths. Every vertex is a client of weight 1 and a candidate site.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.planning.solver.problem import FloatArray, LocationProblem


class OrlibFormatError(ValidationFailed):
    """The file is not an OR-Library p-median instance; the message says what is wrong."""

    code = "orlib_format"
    default_text = TextCode.PLANNING_ORLIB_FORMAT


@dataclass(frozen=True)
class PMedianInstance:
    """An OR-Library instance: its shortest-path matrix and its ``p``."""

    n: int
    p: int
    edges: int
    distance: FloatArray

    def problem(self, p: int | None = None) -> LocationProblem:
        """The p-median problem over every vertex (``p`` overrides the file's)."""
        return LocationProblem(cost_s=self.distance, p=self.p if p is None else p)


def parse_pmedian(text: str, *, source: str = "<text>") -> PMedianInstance:
    """Parse an OR-Library p-median file's text into its shortest-path matrix."""
    try:
        numbers = [int(token) for token in text.split()]
    except ValueError as err:
        raise OrlibFormatError(f"{source}: every token must be an integer ({err})") from err
    if len(numbers) < 3:
        raise OrlibFormatError(f"{source}: the header 'n m p' is missing")
    n, m, p = numbers[:3]
    problems: list[str] = []
    if n < 1:
        problems.append(f"n must be positive, got {n}")
    if m < 0:
        problems.append(f"m must not be negative, got {m}")
    if not 1 <= p <= max(n, 1):
        problems.append(f"p must be between 1 and n={n}, got {p}")
    if len(numbers) != 3 + 3 * m:
        problems.append(f"expected {m} edge lines (3 integers each) after the header")
    if problems:
        raise OrlibFormatError(f"{source}: " + "; ".join(problems), details=problems)
    triples = np.array(numbers[3:], dtype=np.int64).reshape(m, 3)
    ends, costs = triples[:, :2], triples[:, 2]
    if m and (ends.min() < 1 or ends.max() > n):
        raise OrlibFormatError(f"{source}: an edge names a vertex outside 1..{n}")
    if m and costs.min() < 0:
        raise OrlibFormatError(f"{source}: an edge has a negative cost")
    return PMedianInstance(n=n, p=p, edges=m, distance=_distance_matrix(n, ends - 1, costs))


def _distance_matrix(n: int, ends: np.ndarray, costs: np.ndarray) -> FloatArray:
    """All-pairs shortest paths, a repeated pair keeping its last cost (Beasley)."""
    weight = np.full((n, n), np.inf)
    np.fill_diagonal(weight, 0.0)
    for (i, j), cost in zip(ends.tolist(), costs.tolist(), strict=True):
        if i != j:
            weight[i, j] = weight[j, i] = float(cost)
    finite = np.isfinite(weight) & ~np.eye(n, dtype=bool)
    rows, cols = np.nonzero(finite)
    # A zero-cost edge would vanish from a sparse matrix: keep it as a tiny positive weight
    # and round the sums back (all OR-Library costs are integers).
    data = np.where(weight[rows, cols] == 0.0, 1e-9, weight[rows, cols])
    graph = csr_matrix((data, (rows, cols)), shape=(n, n))
    distance = shortest_path(graph, method="D", directed=False)
    return np.asarray(np.where(np.isfinite(distance), np.round(distance), np.inf), np.float64)


def read_pmedian(path: Path) -> PMedianInstance:
    """Read an OR-Library p-median file."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as err:
        raise OrlibFormatError(f"{path}: cannot read the file ({err})") from err
    return parse_pmedian(text, source=str(path))


def generate_pmedian_text(n: int, p: int, seed: int, edges: int | None = None) -> str:
    """A *generated* instance built by the OR-Library paper's rules (not one of Beasley's
    files): a tour ``1–2–…–n–1`` keeps the graph connected, then random vertex pairs up to
    ``m = n²/50`` edges (pmed's density), every cost uniform on 1..100; a repeated pair keeps
    its last cost as in the originals."""
    rng = np.random.default_rng(seed)
    m = edges if edges is not None else max(n, n * n // 50)
    lines = [f" {n} {m} {p} "]
    for i in range(1, n + 1):
        lines.append(f" {i} {i % n + 1} {int(rng.integers(1, 101))} ")
    for _ in range(m - n):
        i, j = rng.choice(n, size=2, replace=False) + 1
        lines.append(f" {int(i)} {int(j)} {int(rng.integers(1, 101))} ")
    return "\n".join(lines) + "\n"
