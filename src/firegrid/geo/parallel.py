"""Many independent Dijkstra searches spread over worker processes.

SciPy's Dijkstra holds the GIL, so threads do not help; a many-to-many matrix of 50
origins is 50 full searches (~25 ms each on 250,000 nodes). A small pool of forked
workers, each holding the graphs once (sent at start-up, not per call), runs the searches
in parallel: the matrix then costs about ``total / workers``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from firegrid.geo.search import one_to_all

FloatArray = npt.NDArray[np.float64]
_Result = TypeVar("_Result")

_graphs: dict[str, csr_matrix] = {}

#: Fewer searches than this run in the calling process (a pool round trip costs ~ms).
MIN_PARALLEL_SEARCHES = 8


def _init_worker(graphs: dict[str, csr_matrix]) -> None:
    _graphs.clear()
    _graphs.update(graphs)


def _rows(
    key: str, sources: list[int], columns: npt.NDArray[np.int64], limit: float | None
) -> FloatArray:
    graph = _graphs[key]
    return np.vstack([one_to_all(graph, s, limit)[columns] for s in sources])


def _rows_within(
    key: str, sources: list[int], columns: npt.NDArray[np.int64], limit: float, first: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Like :func:`_rows`, but only the entries within ``limit``, as triplets (source
    position from ``first``, column position, distance) in row-major order."""
    graph = _graphs[key]
    return _triplets(graph, sources, columns, limit, first)


def _triplets(
    graph: csr_matrix,
    sources: list[int],
    columns: npt.NDArray[np.int64],
    limit: float,
    first: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    rows, cols, dists = [], [], []
    for k, s in enumerate(sources):
        dist = one_to_all(graph, s, limit)[columns]
        (hit,) = np.nonzero(np.isfinite(dist) & (dist <= limit))
        rows.append(np.full(len(hit), first + k, dtype=np.int64))
        cols.append(hit.astype(np.int64))
        dists.append(dist[hit])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)


def default_workers() -> int:
    return max(1, min(4, (os.cpu_count() or 1)))


class SearchPool:
    """A lazily started pool of forked workers holding named graphs.

    :meth:`close` stops the workers; a closed pool still answers, searching in the calling
    process (a request that holds a replaced engine finishes on it).
    """

    def __init__(self, graphs: dict[str, csr_matrix], workers: int | None = None) -> None:
        self.graphs = graphs
        self.workers = workers if workers is not None else default_workers()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()  # one pool, even when two requests start it at once

    def _pool(self) -> ProcessPoolExecutor | None:
        """The running pool (started on first use), or None once closed."""
        with self._lock:
            if self._executor is None and not self._closed:
                context = multiprocessing.get_context("fork")
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(self.graphs,),
                )
            return self._executor

    @property
    def started(self) -> bool:
        """Whether worker processes are running (started and not closed)."""
        return self._executor is not None

    def rows(
        self,
        key: str,
        sources: npt.NDArray[np.int64],
        columns: npt.NDArray[np.int64],
        limit: float | None = None,
    ) -> FloatArray:
        """``[len(sources) x len(columns)]`` distances from each source, searched in parallel."""
        source_list = [int(s) for s in sources]
        chunks = [
            c.tolist() for c in np.array_split(np.asarray(source_list), self.workers) if len(c)
        ]
        parts = self._run(len(source_list), _rows, [(key, c, columns, limit) for c in chunks])
        if parts is None:
            graph = self.graphs[key]
            return np.vstack([one_to_all(graph, s, limit)[columns] for s in source_list])
        return np.vstack(parts)

    def rows_within(
        self,
        key: str,
        sources: npt.NDArray[np.int64],
        columns: npt.NDArray[np.int64],
        limit: float,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
        """The entries of :meth:`rows` within ``limit`` only, as triplets ``(source position,
        column position, distance)`` in row-major order (the order of ``np.nonzero`` on the
        dense rows): workers send back what is within reach, not whole rows."""
        source_list = [int(s) for s in sources]
        chunks = [c for c in np.array_split(np.arange(len(source_list)), self.workers) if len(c)]
        calls = [
            (key, [source_list[i] for i in c.tolist()], columns, limit, int(c[0])) for c in chunks
        ]
        parts = self._run(len(source_list), _rows_within, calls)
        if parts is None:
            return _triplets(self.graphs[key], source_list, columns, limit, 0)
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _run(
        self, searches: int, function: Callable[..., _Result], calls: list[tuple[Any, ...]]
    ) -> list[_Result] | None:
        """``function(*call)`` for each call on the workers, in order; None when the searches
        are too few for a round trip or the pool is closed, before or while submitting (the
        engine was replaced: the caller then searches in its own process)."""
        if self.workers <= 1 or searches < MIN_PARALLEL_SEARCHES:
            return None
        pool = self._pool()
        if pool is None:
            return None
        try:
            futures = [pool.submit(function, *call) for call in calls]
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            if not self._closed:
                raise
            return None  # what was submitted finishes in the workers, unread
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the workers once the searches already submitted are done, without waiting
        for them here; later searches run in the calling process."""
        with self._lock:
            executor, self._executor, self._closed = self._executor, None, True
        if executor is not None:
            executor.shutdown(wait=False)
