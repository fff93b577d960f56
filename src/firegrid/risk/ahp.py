"""Analytic Hierarchy Process: weights from pairwise comparison matrices.

Weights are the principal (Perron) eigenvector of the reciprocal matrix, normalised to sum
to 1. Consistency index ``CI = (λmax − n) / (n − 1)``; consistency ratio ``CR = CI / RI(n)``
with Saaty's random index table. A matrix with ``CR > 0.1`` is refused with
:class:`~firegrid.risk.errors.InconsistentJudgements` (matrices of order ≤ 2 are always
consistent). A two-level hierarchy (groups, then indicators within each group) gives final
weights ``w_group × w_within`` that sum to 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firegrid.core.texts import TextCode
from firegrid.risk.errors import InconsistentJudgements, NotReciprocal, RiskError

#: Saaty's random consistency index RI(n), n = 1 … 15.
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
CR_LIMIT = 0.1


@dataclass(frozen=True)
class AhpResult:
    """Weights of one pairwise comparison matrix and its consistency figures."""

    order: tuple[str, ...]
    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.order, self.weights, strict=True))


def check_reciprocal(
    matrix: npt.NDArray[np.float64], *, rtol: float = 1e-6, name: str = ""
) -> None:
    """Raise :class:`NotReciprocal` unless ``a_ii = 1``, ``a_ij > 0`` and ``a_ji = 1/a_ij``."""
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise NotReciprocal(f"pairwise matrix {name!r} must be square, got shape {a.shape}")
    if np.any(a <= 0) or not np.all(np.isfinite(a)):
        raise NotReciprocal(f"pairwise matrix {name!r} must hold positive finite numbers")
    if not np.allclose(np.diag(a), 1.0, rtol=rtol):
        raise NotReciprocal(f"pairwise matrix {name!r} must have 1 on the diagonal")
    bad = ~np.isclose(a * a.T, 1.0, rtol=1e-3)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise NotReciprocal(
            f"pairwise matrix {name!r} is not reciprocal at ({i}, {j}): "
            f"a_ij={a[i, j]:g}, a_ji={a[j, i]:g}",
            {"row": i, "col": j},
        )


def ahp_weights(
    matrix: Sequence[Sequence[float]] | npt.NDArray[np.float64],
    order: Sequence[str] | None = None,
    *,
    name: str = "",
    cr_limit: float = CR_LIMIT,
) -> AhpResult:
    """Principal-eigenvector weights of a reciprocal pairwise comparison matrix.

    Raises :class:`InconsistentJudgements` (naming the CR) when ``CR > cr_limit``.
    """
    a = np.asarray(matrix, dtype=np.float64)
    check_reciprocal(a, name=name)
    n = a.shape[0]
    labels = tuple(order) if order is not None else tuple(str(i) for i in range(n))
    if len(labels) != n:
        raise RiskError(
            f"pairwise matrix {name!r}: {n} rows but {len(labels)} labels",
            text=TextCode.RISK_MATRIX_INVALID,
            params={"matrix": name},
        )
    if n not in RANDOM_INDEX:
        raise RiskError(
            f"pairwise matrix {name!r}: order {n} is beyond Saaty's RI table",
            text=TextCode.RISK_MATRIX_INVALID,
            params={"matrix": name},
        )
    eigvals, eigvecs = np.linalg.eig(a)
    k = int(np.argmax(eigvals.real))
    lambda_max = float(eigvals[k].real)
    vec = np.abs(eigvecs[:, k].real)
    w = vec / vec.sum()
    ci = (lambda_max - n) / (n - 1) if n > 2 else 0.0
    ci = max(ci, 0.0)
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    if cr > cr_limit:
        raise InconsistentJudgements(
            f"pairwise matrix {name or '(unnamed)'} is inconsistent: CR = {cr:.3f} > {cr_limit}",
            cr=cr,
            matrix_name=name,
        )
    return AhpResult(labels, tuple(float(x) for x in w), lambda_max, ci, cr)


@dataclass(frozen=True)
class HierarchyResult:
    """Final weights of a two-level hierarchy and the consistency of every matrix."""

    weights: dict[str, float]
    group_weights: dict[str, float]
    matrices: dict[str, AhpResult]


def hierarchical_weights(
    groups: tuple[Sequence[str], Sequence[Sequence[float]]],
    within: Mapping[str, tuple[Sequence[str], Sequence[Sequence[float]]]],
    members: Mapping[str, Sequence[str]],
) -> HierarchyResult:
    """Two-level AHP: group weights times within-group weights (sums to 1).

    ``groups`` is ``(order, matrix)`` over group names; ``within[g]`` is ``(order, matrix)``
    over the indicators of group ``g``; a group with a single member needs no matrix.
    """
    g_order, g_matrix = groups
    top = ahp_weights(g_matrix, g_order, name="groups")
    matrices = {"groups": top}
    final: dict[str, float] = {}
    for g, gw in top.as_dict().items():
        ms = list(members.get(g, ()))
        if not ms:
            raise RiskError(
                f"group {g!r} has no indicators",
                text=TextCode.RISK_MODEL_INVALID,
                params={"group": g},
            )
        if g in within:
            order, m = within[g]
            res = ahp_weights(m, order, name=f"within.{g}")
            matrices[g] = res
            local = res.as_dict()
        elif len(ms) == 1:
            local = {ms[0]: 1.0}
        else:
            raise RiskError(
                f"group {g!r} has {len(ms)} indicators but no pairwise matrix",
                text=TextCode.RISK_MODEL_INVALID,
                params={"group": g},
            )
        for key, lw in local.items():
            final[key] = gw * lw
    total = sum(final.values())
    final = {k: v / total for k, v in final.items()}
    return HierarchyResult(final, top.as_dict(), matrices)
