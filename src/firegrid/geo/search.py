"""Shortest-path searches on CSR graphs (thin, exact wrappers over SciPy's Dijkstra)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Weight of a zero offset on the virtual source edge (a zero would vanish from CSR).
_EPS = 1e-9


def _limit(limit: float | None) -> float:
    if limit is None:
        return float(np.inf)
    return float(limit) * (1.0 + 1e-12) + 1e-9


def one_to_all(graph: csr_matrix, source: int, limit: float | None = None) -> FloatArray:
    """Distances from one node to every node (``inf`` beyond ``limit`` or unreachable)."""
    dist = dijkstra(graph, directed=True, indices=int(source), limit=_limit(limit))
    return np.asarray(dist, dtype=np.float64)


def one_to_all_with_predecessors(graph: csr_matrix, source: int) -> tuple[FloatArray, IntArray]:
    """Distances from one node and the predecessor of every node (``-9999`` for none)."""
    dist, pred = dijkstra(graph, directed=True, indices=int(source), return_predecessors=True)
    return np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int64)


def multi_source(
    graph: csr_matrix,
    sources: npt.ArrayLike,
    offsets: npt.ArrayLike | None = None,
    limit: float | None = None,
) -> FloatArray:
    """Distance from the nearest of several sources, each starting at its own offset.

    Returns ``min over sources (offset + path)`` for every node, ``inf`` beyond ``limit``.
    """
    src = np.asarray(sources, dtype=np.int64).ravel()
    n = graph.shape[0]
    if len(src) == 0:
        return np.full(n, np.inf)
    if offsets is None:
        dist = dijkstra(graph, directed=True, indices=src, limit=_limit(limit), min_only=True)
        return np.asarray(dist, dtype=np.float64)
    off = np.broadcast_to(np.asarray(offsets, dtype=np.float64), src.shape)
    # A virtual node n with an edge to every source weighted by its offset.
    order = np.lexsort((off, src))
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = src[order][1:] != src[order][:-1]
    order = order[first]
    indptr = np.concatenate([graph.indptr, [graph.indptr[-1] + len(order)]])
    indices = np.concatenate([graph.indices, src[order]])
    data = np.concatenate([graph.data, np.maximum(off[order], 0.0) + _EPS])
    augmented = csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    dist = dijkstra(
        augmented,
        directed=True,
        indices=n,
        limit=_limit(None if limit is None else limit + _EPS),
    )
    out = np.asarray(dist[:n], dtype=np.float64) - _EPS
    out[~np.isfinite(out)] = np.inf
    if limit is not None:
        out[out > limit * (1.0 + 1e-12) + 1e-9] = np.inf
    return out
