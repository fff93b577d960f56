"""Data-driven model of P(fire incident in the next period) and its held-out validation.

Training pairs are (indicator risk scores from the facts at the end of period ``p``,
whether the venue had an incident in period ``p + 1``). All pairs but the last train the
model; the **last, later** pair is held out: features at the end of period P − 1 → labels
of period P. So with three periods: train on period-1 features → period-2 labels, evaluate
on period-2 features → period-3 labels.

Reported: ROC AUC, precision at the top k % (k = 1, 5, 10) and a calibration table of 10
equal-count bins (deciles of the predicted probability: mean predicted vs observed rate,
count), with the same AUC/precision for the expert score as a baseline and, as a control,
the AUC of the same model fitted on shuffled labels (≈ 0.5). Large runs train on a random
sample of at most ``max_train_rows`` venues (the result says so); the test set is complete.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.risk.errors import InputContractError
from firegrid.risk.features import build_features
from firegrid.risk.history import IncidentHistory
from firegrid.risk.model import RiskModel
from firegrid.risk.normalise import FittedNormaliser, fit_normaliser
from firegrid.risk.scoring import score_matrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ModelKind = Literal["hgb", "logistic"]
TOP_K_PERCENT = (1, 5, 10)
#: Below this many venues with an incident in the held-out period, no AUC is reported: with
#: fewer events the 95 % interval of an AUC is wider than about ±0.1 and says little.
MIN_EVENTS = 30
BOOTSTRAP_SAMPLES = 200
RECOVERY = "recovery of the synthetic process"
PREDICTION = "prediction of recorded fires in a later period (time split)"


@dataclass(frozen=True)
class CalibrationBin:
    bin: int
    n: int
    mean_predicted: float
    observed_rate: float
    p_min: float
    p_max: float


@dataclass(frozen=True)
class PredictiveValidation:
    """Held-out validation of the predictive model (and the expert score as a baseline)."""

    model_kind: str
    auc: float | None
    precision_at_top: dict[str, float]
    calibration: list[CalibrationBin]
    expert_auc: float | None
    expert_precision_at_top: dict[str, float]
    shuffled_label_auc: float | None
    base_rate: float
    n_train: int
    n_test: int
    train_sampled: bool
    train_periods: list[tuple[int, int]]
    test_period: tuple[int, int]
    synthetic: bool
    feature_importance: dict[str, float] = field(default_factory=dict)
    #: "synthetic" (simulated by risk.synthetic) or "imported" (recorded fires)
    labels: str = "synthetic"
    label_source: str = ""
    #: what the AUC measures (RECOVERY on synthetic labels, PREDICTION on recorded ones)
    measures: str = RECOVERY
    status: str = "ok"  # ok | insufficient_events
    reason: str = ""
    n_events_test: int = 0
    #: synthetic only: AUC of the generator's own noiseless formula (the attainable ceiling)
    ceiling_auc: float | None = None
    #: synthetic only: the same model on the generator's features only / on the others
    ablation: dict[str, Any] | None = None
    #: imported only: 95 % bootstrap intervals (venues resampled)
    auc_ci95: list[float] | None = None
    expert_auc_ci95: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["train_periods"] = [list(p) for p in self.train_periods]
        d["test_period"] = list(self.test_period)
        return d


def auc_score(y: npt.NDArray[np.bool_], p: FloatArray) -> float:
    """ROC AUC (Mann–Whitney, ties averaged); NaN if only one class is present."""
    from sklearn.metrics import roc_auc_score

    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, p))


def bootstrap_auc_ci(
    y: npt.NDArray[np.bool_], p: FloatArray, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> list[float] | None:
    """95 % percentile interval of the AUC over ``samples`` resamples of the venues."""
    rng = np.random.default_rng(seed + 7919)
    n = y.size
    values = []
    for _ in range(samples):
        idx = rng.integers(0, n, size=n)
        a = auc_score(y[idx], p[idx])
        if math.isfinite(a):
            values.append(a)
    if len(values) < samples // 2:
        return None
    lo, hi = np.quantile(np.asarray(values), [0.025, 0.975])
    return [float(lo), float(hi)]


def precision_at_top(
    y: npt.NDArray[np.bool_], p: FloatArray, ks: tuple[int, ...] = TOP_K_PERCENT
) -> dict[str, float]:
    """Share of positives among the top ``k`` % by ``p`` (ties broken by position)."""
    order = np.argsort(-p, kind="stable")
    out = {}
    for k in ks:
        m = max(1, math.ceil(len(p) * k / 100.0))
        out[f"{k}%"] = float(y[order[:m]].mean()) if len(p) else float("nan")
    return out


def calibration_table(
    y: npt.NDArray[np.bool_], p: FloatArray, bins: int = 10
) -> list[CalibrationBin]:
    """Equal-count bins of the predicted probability (deciles by default)."""
    order = np.argsort(p, kind="stable")
    out = []
    for i, idx in enumerate(np.array_split(order, bins)):
        if idx.size == 0:
            continue
        out.append(
            CalibrationBin(
                bin=i + 1,
                n=int(idx.size),
                mean_predicted=float(p[idx].mean()),
                observed_rate=float(y[idx].mean()),
                p_min=float(p[idx].min()),
                p_max=float(p[idx].max()),
            )
        )
    return out


def _pair_frame(
    venues: pl.DataFrame,
    facts: pl.DataFrame,
    history: IncidentHistory,
    label_period: int,
    snapshot_at: datetime,
) -> tuple[pl.DataFrame, npt.NDArray[np.bool_]]:
    features, _ = build_features(venues, facts, snapshot_at)
    labels = history.labels(label_period)
    y = (
        features.select("venue_id")
        .join(labels, on="venue_id", how="left", maintain_order="left")["incidents"]
        .fill_null(0)
        .to_numpy()
        > 0
    )
    return features, np.asarray(y, dtype=np.bool_)


def _fit(kind: ModelKind, x: FloatArray, y: npt.NDArray[np.bool_], seed: int) -> Any:
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        clf: Any = HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.08,
            max_leaf_nodes=31,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=15,
            random_state=seed,
        )
    else:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(x, y)
    return clf


def validate_predictive(
    venues: pl.DataFrame,
    history: IncidentHistory,
    model: RiskModel,
    *,
    current_facts: pl.DataFrame | None = None,
    snapshot_at: datetime | None = None,
    kind: ModelKind = "hgb",
    max_train_rows: int = 200_000,
    seed: int = 0,
    control: bool = True,
    shuffle_labels: bool = False,
    n_threads: int | None = 1,
) -> PredictiveValidation:
    """Train on the earlier periods, validate on the last (later, held-out) period.

    ``shuffle_labels`` shuffles the *training* labels (a negative control: AUC ≈ 0.5).
    ``n_threads`` caps the OpenMP/BLAS threads of the fit (default 1: on a shared machine
    OpenMP's spinning threads made a 40 k-venue fit 13× slower than one thread; None = all).
    """
    # Import scikit-learn (and so load its OpenMP runtime) before limiting the threads:
    # threadpoolctl only limits libraries that are already loaded.
    import sklearn.ensemble
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(n_threads):
        return _validate(
            venues,
            history,
            model,
            current_facts=current_facts,
            snapshot_at=snapshot_at,
            kind=kind,
            max_train_rows=max_train_rows,
            seed=seed,
            control=control,
            shuffle_labels=shuffle_labels,
        )


def _validate(
    venues: pl.DataFrame,
    history: IncidentHistory,
    model: RiskModel,
    *,
    current_facts: pl.DataFrame | None,
    snapshot_at: datetime | None,
    kind: ModelKind,
    max_train_rows: int,
    seed: int,
    control: bool,
    shuffle_labels: bool,
) -> PredictiveValidation:
    history.check()
    periods = history.periods
    pairs = [(p, p + 1) for p in periods[:-1]]
    train_pairs, test_pair = pairs[:-1], pairs[-1]
    if not train_pairs:
        raise InputContractError("history needs at least 3 periods (train and held-out test)")

    def facts_at(p: int) -> pl.DataFrame:
        if history.snapshots is not None and p in history.snapshots:
            return history.snapshots[p]
        if current_facts is None:
            raise InputContractError(f"history has no facts snapshot for period {p}")
        return current_facts

    def at(p: int) -> datetime:
        ts = history.period_ends.get(p, snapshot_at)
        if ts is None:
            raise InputContractError(f"history has no end time for period {p}")
        return ts

    rng = np.random.default_rng(seed)
    train_feats = []
    ys = []
    fitted: FittedNormaliser | None = None
    for fp, lp in train_pairs:
        feats, y = _pair_frame(venues, facts_at(fp), history, lp, at(fp))
        if fitted is None:
            fitted = fit_normaliser(model.catalogue, feats)
        train_feats.append(fitted.transform(feats))
        ys.append(y)
    assert fitted is not None
    x_train = np.vstack(train_feats)
    y_train = np.concatenate(ys)
    sampled = x_train.shape[0] > max_train_rows
    if sampled:
        idx = rng.choice(x_train.shape[0], size=max_train_rows, replace=False)
        x_train, y_train = x_train[idx], y_train[idx]
    if shuffle_labels:
        y_train = rng.permutation(y_train)

    test_feats, y_test = _pair_frame(
        venues, facts_at(test_pair[0]), history, test_pair[1], at(test_pair[0])
    )
    x_test = fitted.transform(test_feats)

    labels = "synthetic" if history.synthetic else "imported"
    n_events = int(y_test.sum())
    n_train_events = int(y_train.sum())
    if not history.synthetic and min(n_events, n_train_events) < MIN_EVENTS:
        return _insufficient(
            kind,
            history,
            y_test,
            x_train.shape[0],
            sampled,
            train_pairs,
            test_pair,
            n_events,
            n_train_events,
        )
    clf = _fit(kind, x_train, y_train, seed)
    p = np.asarray(clf.predict_proba(x_test)[:, 1], dtype=np.float64)

    # Expert baseline: what a run at the end of the test features' period would score.
    expert_norm = fit_normaliser(model.catalogue, test_feats)
    expert = score_matrix(expert_norm.transform(test_feats), model.weight_vector()).scores

    control_auc: float | None = None
    if control and not shuffle_labels:
        ctl = _fit(kind, x_train, rng.permutation(y_train), seed)
        control_auc = auc_score(y_test, np.asarray(ctl.predict_proba(x_test)[:, 1]))

    importance: dict[str, float] = {}
    if kind == "logistic":
        coef = clf[-1].coef_[0]
        importance = {k: float(c) for k, c in zip(model.catalogue.keys, coef, strict=True)}

    ceiling: float | None = None
    ablation: dict[str, Any] | None = None
    auc_ci: list[float] | None = None
    expert_ci: list[float] | None = None
    if history.synthetic:
        from firegrid.risk.synthetic import GENERATOR_INDICATORS, log_hazard_without_noise

        formula = log_hazard_without_noise(venues, facts_at(test_pair[0]))
        ceiling = auc_score(y_test, formula)
        keys = list(model.catalogue.keys)
        inside = np.array([k in GENERATOR_INDICATORS for k in keys])
        ablation = {
            "generator_features": [k for k in keys if k in GENERATOR_INDICATORS],
            "generator_features_auc": _subset_auc(
                kind, x_train, y_train, x_test, y_test, inside, seed
            ),
            "other_indicators_auc": _subset_auc(
                kind, x_train, y_train, x_test, y_test, ~inside, seed
            ),
        }
    else:
        auc_ci = bootstrap_auc_ci(y_test, p, seed=seed)
        expert_ci = bootstrap_auc_ci(y_test, np.asarray(expert, dtype=np.float64), seed=seed)

    return PredictiveValidation(
        model_kind="HistGradientBoostingClassifier" if kind == "hgb" else "LogisticRegression",
        labels=labels,
        label_source=history.description if not history.synthetic else "risk.synthetic",
        measures=RECOVERY if history.synthetic else PREDICTION,
        n_events_test=n_events,
        ceiling_auc=ceiling,
        ablation=ablation,
        auc_ci95=auc_ci,
        expert_auc_ci95=expert_ci,
        auc=auc_score(y_test, p),
        precision_at_top=precision_at_top(y_test, p),
        calibration=calibration_table(y_test, p),
        expert_auc=auc_score(y_test, expert),
        expert_precision_at_top=precision_at_top(y_test, expert),
        shuffled_label_auc=control_auc,
        base_rate=float(y_test.mean()) if y_test.size else float("nan"),
        n_train=int(x_train.shape[0]),
        n_test=int(x_test.shape[0]),
        train_sampled=sampled,
        train_periods=train_pairs,
        test_period=test_pair,
        synthetic=history.synthetic,
        feature_importance=importance,
    )


def _subset_auc(
    kind: ModelKind,
    x_train: FloatArray,
    y_train: npt.NDArray[np.bool_],
    x_test: FloatArray,
    y_test: npt.NDArray[np.bool_],
    columns: npt.NDArray[np.bool_],
    seed: int,
) -> float | None:
    """AUC of the same kind of model fitted on a subset of the indicator columns."""
    if not columns.any():
        return None
    clf = _fit(kind, x_train[:, columns], y_train, seed)
    return auc_score(y_test, np.asarray(clf.predict_proba(x_test[:, columns])[:, 1]))


def _insufficient(
    kind: ModelKind,
    history: IncidentHistory,
    y_test: npt.NDArray[np.bool_],
    n_train: int,
    sampled: bool,
    train_pairs: list[tuple[int, int]],
    test_pair: tuple[int, int],
    n_events: int,
    n_train_events: int,
) -> PredictiveValidation:
    """Too few recorded events to say anything: no AUC, and the reason."""
    return PredictiveValidation(
        model_kind="HistGradientBoostingClassifier" if kind == "hgb" else "LogisticRegression",
        auc=None,
        precision_at_top={},
        calibration=[],
        expert_auc=None,
        expert_precision_at_top={},
        shuffled_label_auc=None,
        base_rate=float(y_test.mean()) if y_test.size else float("nan"),
        n_train=n_train,
        n_test=int(y_test.size),
        train_sampled=sampled,
        train_periods=train_pairs,
        test_period=test_pair,
        synthetic=False,
        labels="imported",
        label_source=history.description,
        measures=PREDICTION,
        status="insufficient_events",
        reason=(
            f"{n_events} venues with a recorded fire in the held-out period and "
            f"{n_train_events} in the training period; at least {MIN_EVENTS} of each are "
            "needed — with fewer, the 95 % interval of an AUC is wider than about ±0.1, so "
            "no AUC is reported"
        ),
        n_events_test=n_events,
    )
