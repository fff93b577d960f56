"""Dominated candidates: which are dropped, and that MCLP's and LSCP's optimum (by
enumeration) is the same with and without them."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from firegrid.planning.dominance import undominated


def _pairs(sets: dict[int, set[int]]) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for c, rs in sets.items() for r in sorted(rs)]
    cols = [c for c, rs in sets.items() for _ in rs]
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def test_duplicates_and_subsets_go_unless_the_bigger_one_costs_more() -> None:
    sets = {
        0: {0, 1},
        1: {0, 1},  # the same as 0, same cost: the first stays
        2: {0},  # inside 0
        3: {2},  # inside 4, but 4 costs more: stays
        4: {2, 3},
        5: {2, 3},  # the same as 4 but cheaper: 5 stays, 4 goes
        6: {4},  # nobody else covers 4
        7: {1, 5},  # overlaps 0 without being inside it
    }
    cost = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 2.0, 1.0, 1.0])
    row, col = _pairs(sets)
    kept = undominated(row, col, 6, np.arange(8, dtype=np.int64), cost)
    assert kept.tolist() == [0, 3, 5, 6, 7]
    # only the columns asked about are considered
    assert undominated(row, col, 6, np.array([1, 2], dtype=np.int64), cost).tolist() == [1]


def _best_cover(cover: np.ndarray, weights: np.ndarray, columns: np.ndarray, p: int) -> float:
    best = 0.0
    for chosen in combinations(columns.tolist(), min(p, len(columns))):
        best = max(best, float(weights[cover[:, list(chosen)].any(axis=1)].sum()))
    return best


def _fewest_sites(cover: np.ndarray, columns: np.ndarray) -> int | None:
    need = cover[:, columns].any(axis=1)  # rows some candidate can reach
    for k in range(len(columns) + 1):
        for chosen in combinations(columns.tolist(), k):
            if (cover[:, list(chosen)].any(axis=1) >= need).all():
                return k
    return None


def test_mclp_and_lscp_optima_are_unchanged() -> None:
    rng = np.random.default_rng(3)
    dropped_some = 0
    for _ in range(40):
        n_rows, n_cols = int(rng.integers(4, 9)), int(rng.integers(4, 10))
        cover = rng.random((n_rows, n_cols)) < float(rng.uniform(0.15, 0.5))
        cover[:, 1] = cover[:, 0]  # always one duplicate
        weights = rng.integers(1, 10, n_rows).astype(np.float64)
        row, col = np.nonzero(cover)
        every = np.flatnonzero(cover.any(axis=0)).astype(np.int64)
        kept = undominated(
            row.astype(np.int64), col.astype(np.int64), n_rows, every, np.ones(n_cols)
        )
        dropped_some += len(every) - len(kept)
        for p in (1, 2, 3):
            assert _best_cover(cover, weights, kept, p) == _best_cover(cover, weights, every, p)
        assert _fewest_sites(cover, kept) == _fewest_sites(cover, every)
    assert dropped_some > 40
