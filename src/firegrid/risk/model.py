"""Named risk models: a catalogue plus weights plus grade thresholds.

Several models live side by side in the catalogue (``models:``); the default catalogue ships
``expert-ahp`` (two-level AHP from expert judgements), ``equal-weights`` and
``indicator-weights`` (direct weights declared on each indicator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.core.texts import TextCode
from firegrid.risk.ahp import hierarchical_weights
from firegrid.risk.catalogue import Catalogue, ModelSpec, default_catalogue
from firegrid.risk.errors import CatalogueInvalid, UnknownModel
from firegrid.risk.grades import GradeScheme


@dataclass(frozen=True)
class RiskModel:
    """A named, versioned scoring model."""

    name: str
    version: str
    catalogue: Catalogue
    weights: Mapping[str, float]
    grade_thresholds: GradeScheme
    method: str = "direct"
    description_en: str = ""
    description_zh: str = ""
    #: Consistency figures of each AHP matrix: name -> {lambda_max, ci, cr}.
    consistency: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = set(self.catalogue.keys)
        if set(self.weights) != keys:
            raise CatalogueInvalid(
                f"model {self.name!r}: weights must cover exactly the catalogue's indicators",
                details={
                    "missing": sorted(keys - set(self.weights)),
                    "extra": sorted(set(self.weights) - keys),
                },
            )
        total = sum(self.weights.values())
        if any(w < 0 for w in self.weights.values()) or abs(total - 1.0) > 1e-9:
            raise CatalogueInvalid(
                f"model {self.name!r}: weights must be >= 0 and sum to 1 (sum = {total!r})"
            )

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version} (catalogue {self.catalogue.version})"

    def weight_vector(self) -> npt.NDArray[np.float64]:
        """Weights in catalogue order."""
        return np.array([self.weights[k] for k in self.catalogue.keys], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "catalogue_version": self.catalogue.version,
            "method": self.method,
            "weights": dict(self.weights),
            "grades": self.grade_thresholds.to_dict(),
            "consistency": {k: dict(v) for k, v in self.consistency.items()},
        }


def grade_scheme(catalogue: Catalogue, spec: ModelSpec | None = None) -> GradeScheme:
    g = catalogue.grades
    t = dict(g.thresholds)
    if spec is not None and spec.grade_thresholds:
        t.update(spec.grade_thresholds)
    return GradeScheme(
        red=t["red"],
        orange=t["orange"],
        yellow=t["yellow"],
        labels_zh={k: v.zh for k, v in g.labels.items()},
        labels_en={k: v.en for k, v in g.labels.items()},
        three_colour={str(k): str(v) for k, v in g.three_colour.items()},
    )


def _normalised(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    out = {k: v / total for k, v in weights.items()}
    # Put the rounding residue on the largest weight so the sum is 1 to the last bit.
    top = max(out, key=lambda k: out[k])
    out[top] += 1.0 - sum(out.values())
    return out


def build_model(name: str, spec: ModelSpec, catalogue: Catalogue) -> RiskModel:
    consistency: dict[str, dict[str, float]] = {}
    if spec.method == "equal":
        weights = dict.fromkeys(catalogue.keys, 1.0)
    elif spec.method == "direct":
        weights = (
            dict(spec.weights)
            if spec.weights
            else {i.key: float(i.weight or 0.0) for i in catalogue.indicators}
        )
    else:
        assert spec.groups is not None  # checked by the catalogue validation
        members = {g: catalogue.members(g) for g in spec.groups.order}
        res = hierarchical_weights(
            (spec.groups.order, spec.groups.matrix),
            {g: (m.order, m.matrix) for g, m in spec.within.items()},
            members,
        )
        weights = res.weights
        consistency = {
            n: {"lambda_max": r.lambda_max, "ci": r.ci, "cr": r.cr} for n, r in res.matrices.items()
        }
    return RiskModel(
        name=name,
        version=spec.version,
        catalogue=catalogue,
        weights=_normalised(weights),
        grade_thresholds=grade_scheme(catalogue, spec),
        method=spec.method,
        description_en=spec.description_en,
        description_zh=spec.description_zh,
        consistency=consistency,
    )


def available_models(catalogue: Catalogue | None = None) -> list[str]:
    cat = catalogue or default_catalogue()
    return list(cat.models)


def load_model(name: str = "expert-ahp", catalogue: Catalogue | None = None) -> RiskModel:
    """Build the named model of ``catalogue`` (default: the packaged catalogue)."""
    cat = catalogue or default_catalogue()
    spec = cat.models.get(name)
    if spec is None:
        raise UnknownModel(
            f"unknown risk model {name!r}",
            {"known": list(cat.models)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "model", "value": name, "allowed": list(cat.models)},
        )
    return build_model(name, spec, cat)


def load_models(catalogue: Catalogue | None = None) -> dict[str, RiskModel]:
    """All models of the catalogue, by name."""
    cat = catalogue or default_catalogue()
    return {n: build_model(n, s, cat) for n, s in cat.models.items()}


def direct_model(
    name: str,
    weights: Mapping[str, float],
    catalogue: Catalogue | None = None,
    *,
    version: str = "1",
    grades: GradeScheme | None = None,
) -> RiskModel:
    """A model with directly given weights (normalised to sum to 1)."""
    cat = catalogue or default_catalogue()
    return RiskModel(
        name=name,
        version=version,
        catalogue=cat,
        weights=_normalised(dict(weights)),
        grade_thresholds=grades or grade_scheme(cat),
        method="direct",
    )
