"""The search pool's bounded triplets equal the bounded dense rows, entry for entry and in
the same order, whether the searches run in the worker processes or here."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
from scipy.sparse import csr_matrix

from firegrid.geo.parallel import SearchPool, _rows

Ints = npt.NDArray[np.int64]


def _random_graph(rng: np.random.Generator, n: int, edges: int) -> csr_matrix:
    heads, tails = rng.integers(0, n, edges), rng.integers(0, n, edges)
    return csr_matrix((rng.uniform(1, 60, edges), (heads, tails)), shape=(n, n))


def _started_pool(
    seed: int,
) -> tuple[SearchPool, ProcessPoolExecutor, Ints, Ints, npt.NDArray[np.float64]]:
    """A two-worker pool that has answered a 20-row matrix: the pool, its running executor,
    the sources and columns, and that answer."""
    n = 200
    pool = SearchPool({"g": _random_graph(np.random.default_rng(seed), n, 1000)}, workers=2)
    sources = np.arange(20, dtype=np.int64)
    columns = np.arange(n, dtype=np.int64)
    want = pool.rows("g", sources, columns)  # the workers' answer
    executor = pool._pool()
    assert executor is not None
    return pool, executor, sources, columns, want


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_within_equals_the_dense_rows(workers: int) -> None:
    rng = np.random.default_rng(4)
    n = 300
    pool = SearchPool({"g": _random_graph(rng, n, 1500)}, workers=workers)
    try:
        sources = rng.choice(n, 40, replace=False).astype(np.int64)
        columns = np.sort(rng.choice(n, 120, replace=False)).astype(np.int64)
        limit = 90.0
        dense = pool.rows("g", sources, columns, limit)
        want_r, want_c = np.nonzero(np.isfinite(dense) & (dense <= limit))
        got_r, got_c, got_d = pool.rows_within("g", sources, columns, limit)
        assert len(want_r) > 100  # a bound that keeps some and cuts some
        assert (np.isfinite(dense) & (dense > limit)).sum() + np.isinf(dense).sum() > 0
        assert got_r.tolist() == want_r.tolist()
        assert got_c.tolist() == want_c.tolist()
        assert got_d.tolist() == dense[want_r, want_c].tolist()
    finally:
        pool.close()


def test_a_closed_pool_finishes_what_was_submitted_and_then_searches_here() -> None:
    pool, executor, sources, columns, want = _started_pool(5)
    assert pool.started
    pending = executor.submit(_rows, "g", [1, 2, 3], columns, None)
    pool.close()  # does not wait, and does not cancel what was submitted
    assert not pool.started
    assert np.array_equal(pending.result(timeout=30), want[1:4])
    assert pool._pool() is None  # never started again
    assert np.array_equal(pool.rows("g", sources, columns), want)
    within = pool.rows_within("g", sources, columns, 60.0)
    assert within[0].tolist() == np.nonzero(want <= 60.0)[0].tolist()


def test_a_pool_closed_while_a_matrix_is_being_submitted_still_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine is replaced (its pool closed by another thread) between two submissions of
    one matrix: the caller gets the whole answer, searched in its own process."""
    pool, executor, sources, columns, want = _started_pool(6)
    submit = executor.submit
    submitted = []

    def submit_then_close(*args: object) -> object:
        future = submit(*args)
        submitted.append(future)
        pool.close()  # what another thread does when it replaces the engine
        return future

    monkeypatch.setattr(executor, "submit", submit_then_close)
    assert np.array_equal(pool.rows("g", sources, columns), want)
    assert len(submitted) == 1
    assert submitted[0].result(timeout=30) is not None  # the first chunk still ran
    assert not pool.started
