"""Normalisation of raw indicator values to risk scores in ``[0, 1]``, fitted once per run.

:func:`fit_normaliser` computes the data-dependent parameters of every indicator (min/max
quantiles, percentile breakpoints, medians for the missing-value rule) from a run's feature
frame and freezes them in a :class:`FittedNormaliser`. The same object transforms the whole
frame (vectorised, numpy) and a single venue later, so re-scoring one venue reproduces the
batch score exactly. ``to_dict``/``from_dict`` let a run store its parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.catalogue import (
    Boolean,
    Catalogue,
    Categorical,
    Indicator,
    MinMax,
    MissingValue,
    Percentile,
    Thresholds,
)
from firegrid.risk.errors import InputContractError

#: Number of quantile breakpoints a percentile indicator keeps (0.1 % resolution).
PERCENTILE_BREAKPOINTS = 1001

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FittedIndicator:
    """Frozen parameters of one indicator's normalisation."""

    key: str
    source: str
    kind: str
    higher_is_riskier: bool
    #: Raw value substituted for a missing one (None: 'worst' rule, applied on the score).
    fill: float | str | None
    worst_score: float
    lo: float = 0.0
    hi: float = 0.0
    quantiles: tuple[float, ...] = ()
    breakpoints: tuple[float, ...] = ()
    scores: tuple[float, ...] = ()
    mapping: Mapping[str, float] = field(default_factory=dict)
    default: float = 0.0

    # ---- transforms ------------------------------------------------------------------
    def transform_numeric(self, x: FloatArray) -> FloatArray:
        """Risk scores of raw numeric values (NaN = missing)."""
        missing = np.isnan(x)
        if self.fill is not None and missing.any():
            x = np.where(missing, float(self.fill), x)
        if self.kind == "minmax":
            span = self.hi - self.lo
            r = np.zeros_like(x) if span <= 0 else np.clip((x - self.lo) / span, 0.0, 1.0)
            if not self.higher_is_riskier:
                r = 1.0 - r
        elif self.kind == "percentile":
            q = np.asarray(self.quantiles)
            r = np.minimum(np.searchsorted(q, x, side="left") / (len(q) - 1), 1.0)
            if not self.higher_is_riskier:
                r = 1.0 - r
        elif self.kind == "thresholds":
            idx = np.searchsorted(np.asarray(self.breakpoints), x, side="right")
            r = np.asarray(self.scores)[np.minimum(idx, len(self.scores) - 1)]
        elif self.kind == "boolean":
            r = x if self.higher_is_riskier else 1.0 - x
        else:  # pragma: no cover - categorical goes through transform_categorical
            raise ValueError(self.kind)
        r = np.asarray(r, dtype=np.float64)
        if self.fill is None:
            r = np.where(missing, self.worst_score, r)
        # A still-missing value (NaN fill) scores as the worst, never as NaN.
        return np.where(np.isnan(r), self.worst_score, r)

    def transform_series(self, s: pl.Series) -> FloatArray:
        if self.kind == "categorical":
            text = s.cast(pl.String)
            mapped = (
                text.replace_strict(
                    dict(self.mapping), default=self.default, return_dtype=pl.Float64
                )
                .to_numpy()
                .astype(np.float64, copy=True)
            )
            if text.null_count():
                fill_score = (
                    self.mapping.get(self.fill, self.default)
                    if isinstance(self.fill, str)
                    else self.worst_score
                )
                mapped[text.is_null().to_numpy()] = fill_score
            return mapped
        x = s.cast(pl.Float64).to_numpy().astype(np.float64, copy=False)
        return self.transform_numeric(x)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "source": self.source,
            "kind": self.kind,
            "higher_is_riskier": self.higher_is_riskier,
            "fill": _finite_or_none(self.fill),
            # a NaN fill (the median of an all-missing column) is not the None 'worst' rule
            "fill_is_nan": isinstance(self.fill, float) and math.isnan(self.fill),
            "worst_score": _finite_or_none(self.worst_score),
            "lo": _finite_or_none(self.lo),
            "hi": _finite_or_none(self.hi),
            "quantiles": [_finite_or_none(v) for v in self.quantiles],
            "breakpoints": [_finite_or_none(v) for v in self.breakpoints],
            "scores": [_finite_or_none(v) for v in self.scores],
            "mapping": dict(self.mapping),
            "default": _finite_or_none(self.default),
        }


@dataclass(frozen=True)
class FittedNormaliser:
    """The frozen normalisation of every indicator of a catalogue, in catalogue order."""

    catalogue_version: str
    indicators: tuple[FittedIndicator, ...]

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.indicators]

    def transform(self, features: pl.DataFrame) -> FloatArray:
        """Risk-score matrix ``(n_venues, n_indicators)`` in ``[0, 1]``."""
        n = features.height
        out = np.empty((n, len(self.indicators)), dtype=np.float64)
        for j, ind in enumerate(self.indicators):
            if ind.source not in features.columns:
                raise InputContractError(
                    f"indicator {ind.key!r} reads column {ind.source!r}, absent from the features",
                    {"indicator": ind.key, "column": ind.source},
                )
            out[:, j] = ind.transform_series(features[ind.source])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "catalogue_version": self.catalogue_version,
            "indicators": [i.to_dict() for i in self.indicators],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FittedNormaliser:
        inds = []
        for d in data["indicators"]:
            d = dict(d)
            for key in ("quantiles", "breakpoints", "scores"):
                d[key] = tuple(_float_or_nan(v) for v in d[key])
            for key in ("worst_score", "lo", "hi", "default"):
                if key in d:
                    d[key] = _float_or_nan(d[key])
            if d.pop("fill_is_nan", False):
                d["fill"] = math.nan
            inds.append(FittedIndicator(**d))
        return cls(str(data["catalogue_version"]), tuple(inds))


def _finite_or_none(value: Any) -> Any:
    """JSON has no NaN (PostgreSQL's json type refuses it): store a non-finite float as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _worst_score(ind: Indicator) -> float:
    norm = ind.normalisation
    if isinstance(norm, Thresholds):
        return max(norm.scores)
    if isinstance(norm, Categorical):
        return max([*norm.map.values(), norm.default])
    return 1.0


def _numeric(series: pl.Series) -> FloatArray:
    x = series.cast(pl.Float64).drop_nulls().to_numpy().astype(np.float64, copy=False)
    return np.asarray(x[~np.isnan(x)], dtype=np.float64)


def fit_indicator(ind: Indicator, series: pl.Series) -> FittedIndicator:
    """Fit one indicator's normalisation on the run's raw values."""
    norm = ind.normalisation
    worst = _worst_score(ind)
    rule = ind.missing
    fill: float | str | None
    values: FloatArray | None = None
    if isinstance(norm, MinMax | Percentile | Thresholds):
        values = _numeric(series)
    if rule == "worst":
        fill = None
    elif rule == "zero":
        fill = 0.0
    elif rule == "median":
        assert values is not None
        fill = float(np.median(values)) if values.size else float("nan")
    else:
        assert isinstance(rule, MissingValue)
        v = rule.value
        fill = v if isinstance(v, str) else float(v)
    base: dict[str, Any] = {
        "key": ind.key,
        "source": ind.source,
        "kind": norm.kind,
        "higher_is_riskier": ind.higher_is_riskier,
        "fill": fill,
        "worst_score": worst,
    }
    if isinstance(norm, MinMax):
        assert values is not None
        if values.size:
            lo, hi = np.quantile(values, [norm.lower_quantile, norm.upper_quantile])
        else:
            lo = hi = 0.0
        return FittedIndicator(**base, lo=float(lo), hi=float(hi))
    if isinstance(norm, Percentile):
        assert values is not None
        probs = np.linspace(0.0, 1.0, PERCENTILE_BREAKPOINTS)
        q = np.quantile(values, probs) if values.size else np.zeros(PERCENTILE_BREAKPOINTS)
        return FittedIndicator(**base, quantiles=tuple(float(v) for v in q))
    if isinstance(norm, Thresholds):
        return FittedIndicator(
            **base,
            breakpoints=tuple(norm.breakpoints),
            scores=tuple(norm.scores),
        )
    if isinstance(norm, Boolean):
        return FittedIndicator(**base)
    assert isinstance(norm, Categorical)
    return FittedIndicator(**base, mapping=dict(norm.map), default=norm.default)


def fit_normaliser(catalogue: Catalogue, features: pl.DataFrame) -> FittedNormaliser:
    """Fit every indicator of ``catalogue`` on the feature frame of a run."""
    fitted = []
    for ind in catalogue.indicators:
        if ind.source not in features.columns:
            raise InputContractError(
                f"indicator {ind.key!r} reads column {ind.source!r}, absent from the features",
                {"indicator": ind.key, "column": ind.source},
            )
        fitted.append(fit_indicator(ind, features[ind.source]))
    return FittedNormaliser(catalogue.version, tuple(fitted))
