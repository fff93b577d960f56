"""p-median upper bound: greedy addition, then vertex substitution (Teitz–Bart with
Whitaker's fast interchange: every swap ``in ↔ out`` evaluated at once from each row's
nearest and second-nearest open cost), on the sparse pairs of :class:`PMedianData`."""

from __future__ import annotations

import numpy as np

from firegrid.planning.solver.pmedian_data import PMedianData
from firegrid.planning.solver.problem import FloatArray, IntArray


def penalised_cap(data: PMedianData) -> FloatArray:
    """The cap with ``inf`` replaced by a penalty larger than any finite total cost, so a
    search prefers reaching every row above all else."""
    finite = data.pair_cost[np.isfinite(data.pair_cost)]
    largest = float(max(finite.max(initial=0.0), data.cap[np.isfinite(data.cap)].max(initial=0)))
    positive = data.weights[data.weights > 0]
    ratio = float(positive.max() / positive.min()) if positive.size else 1.0
    penalty = min((largest + 1.0) * (data.n_rows + 1) * ratio, 1e15)
    return np.where(np.isfinite(data.cap), data.cap, penalty)


def greedy(data: PMedianData, cap: FloatArray) -> IntArray:
    """Open ``p`` candidates one at a time, each time the one saving the most."""
    current = cap.copy()
    chosen: list[int] = []
    taken = np.zeros(data.n_candidates, dtype=bool)
    for _ in range(data.p):
        saving = data.weights[data.pair_row] * np.maximum(
            current[data.pair_row] - data.pair_cost, 0.0
        )
        gain = np.bincount(data.pair_cand, weights=saving, minlength=data.n_candidates)
        gain[taken] = -1.0
        best = int(np.argmax(gain))
        chosen.append(best)
        taken[best] = True
        here = data.pair_cand == best
        np.minimum.at(current, data.pair_row[here], data.pair_cost[here])
    return np.array(chosen, dtype=np.int64)


def _nearest_two(
    data: PMedianData, chosen: IntArray, cap: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per row: nearest open cost, its position in ``chosen`` (-1 = the cap) and the
    second-nearest open cost (the cap when fewer than two open sites are closer)."""
    position = np.full(data.n_candidates, -1, dtype=np.int64)
    position[chosen] = np.arange(len(chosen))
    keep = position[data.pair_cand] >= 0
    rows = data.pair_row[keep]
    costs = data.pair_cost[keep]
    where = position[data.pair_cand[keep]]
    # pairs are sorted by row then cost: the first pair of a row is its nearest open site
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    second = np.zeros(rows.shape[0], dtype=bool)
    second[1:] = ~first[1:] & first[:-1]
    d1 = cap.copy()
    f1 = np.full(data.n_rows, -1, dtype=np.int64)
    d1[rows[first]] = costs[first]
    f1[rows[first]] = where[first]
    d2 = cap.copy()
    d2[rows[second]] = costs[second]
    return d1, f1, d2


def swap_search(
    data: PMedianData, chosen: IntArray, cap: FloatArray, max_rounds: int = 10_000
) -> IntArray:
    """Best-improvement vertex substitution until no swap lowers the cost."""
    chosen = chosen.copy()
    p = len(chosen)
    if p == 0 or p >= data.n_candidates:
        return chosen
    w_pair = data.weights[data.pair_row]
    for _ in range(max_rounds):
        d1, f1, d2 = _nearest_two(data, chosen, cap)
        d1p, d2p = d1[data.pair_row], d2[data.pair_row]
        c = data.pair_cost
        # opening `in` alone: every row moves to it where it is nearer
        opening = np.bincount(
            data.pair_cand, weights=w_pair * (np.minimum(c, d1p) - d1p), minlength=data.n_candidates
        )
        # closing `out` alone: its rows fall back to their second-nearest
        served = f1 >= 0
        closing = np.bincount(
            f1[served], weights=data.weights[served] * (d2 - d1)[served], minlength=p
        )
        # both: rows of `out` that `in` serves better than their second-nearest
        f1p = f1[data.pair_row]
        mask = f1p >= 0
        correction = w_pair[mask] * (
            np.minimum(c[mask], d2p[mask])
            - np.minimum(c[mask], d1p[mask])
            - (d2p[mask] - d1p[mask])
        )
        joint = np.bincount(
            data.pair_cand[mask] * p + f1p[mask],
            weights=correction,
            minlength=data.n_candidates * p,
        ).reshape(data.n_candidates, p)
        delta = opening[:, None] + closing[None, :] + joint
        delta[chosen, :] = np.inf
        flat = int(np.argmin(delta))
        best_in, best_out = divmod(flat, p)
        scale = max(float(np.dot(data.weights, d1)), 1.0)
        if not delta[best_in, best_out] < -1e-9 * scale:
            break
        chosen[best_out] = best_in
    return np.sort(chosen)
