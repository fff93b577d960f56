"""Orchestration of one assessment run: :func:`run_assessment` → :class:`AssessmentRun`."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from firegrid.core.texts import TextCode
from firegrid.risk.aggregate import LEVELS, aggregate_all, grade_counts, top_units
from firegrid.risk.area import AreaContext, assess_areas, venue_basis
from firegrid.risk.area_method import AreaMethod, default_area_method
from firegrid.risk.errors import UnknownVenue
from firegrid.risk.events import aggregate_events, apply_event_facts
from firegrid.risk.features import RAW_SCHEMA, build_features, require_aware, rows_to_features
from firegrid.risk.grades import GRADES
from firegrid.risk.history import IncidentHistory
from firegrid.risk.model import RiskModel, load_model
from firegrid.risk.normalise import FittedNormaliser, fit_normaliser
from firegrid.risk.predictive import ModelKind, PredictiveValidation, validate_predictive
from firegrid.risk.scoring import score_frame, score_matrix

if TYPE_CHECKING:
    from firegrid.risk.explain import Explanation

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VenueScore:
    """The score of one venue, re-computed with a run's frozen normalisation."""

    venue_id: int | None
    score: float
    grade: str
    three_colour: str
    contributions: dict[str, float]
    risk: dict[str, float]
    pct_in_category: float | None
    pct_in_town: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "venue_id": self.venue_id,
            "score": self.score,
            "grade": self.grade,
            "three_colour": self.three_colour,
            "contributions": dict(self.contributions),
            "pct_in_category": self.pct_in_category,
            "pct_in_town": self.pct_in_town,
        }


def score_venues(
    rows: Sequence[Mapping[str, Any]],
    normaliser: FittedNormaliser,
    model: RiskModel,
    *,
    snapshot_at: datetime,
) -> list[VenueScore]:
    """Score venue dicts (venue + fact columns; absent keys are unknown) with a frozen
    normalisation — e.g. one restored with ``FittedNormaliser.from_dict`` — without the run.
    Percentiles are None (they need the run's scores; use ``AssessmentRun.rescore``)."""
    feats = rows_to_features(list(rows), require_aware(snapshot_at))
    risk = normaliser.transform(feats)
    scored = score_matrix(risk, model.weight_vector())
    scheme = model.grade_thresholds
    keys = model.catalogue.keys
    out = []
    for i, row in enumerate(rows):
        s = float(scored.scores[i])
        g = scheme.grade_of(s)
        out.append(
            VenueScore(
                venue_id=row.get("venue_id"),
                score=s,
                grade=g,
                three_colour=scheme.three_colour[g],
                contributions=dict(zip(keys, scored.contributions[i].tolist(), strict=True)),
                risk=dict(zip(keys, risk[i].tolist(), strict=True)),
                pct_in_category=None,
                pct_in_town=None,
            )
        )
    return out


def score_venue(
    venue: Mapping[str, Any],
    normaliser: FittedNormaliser,
    model: RiskModel,
    *,
    snapshot_at: datetime,
) -> VenueScore:
    """Score one venue dict with a frozen normalisation (see :func:`score_venues`)."""
    return score_venues([venue], normaliser, model, snapshot_at=snapshot_at)[0]


@dataclass
class AssessmentRun:
    """Everything one run produced.

    ``scores``: one row per venue (see :func:`firegrid.risk.scoring.score_frame`);
    ``aggregates``: one frame per level (city, town, village, grid, industry, category; see
    :mod:`firegrid.risk.aggregate`); ``top``: the high-risk unit list; ``normaliser``: the
    frozen normalisation (store it to re-score later); ``features``: the joined input with
    derived columns (kept for explanations); ``validation``: the predictive model's held-out
    validation when a history was given.
    """

    model: RiskModel
    snapshot_at: datetime
    scores: pl.DataFrame
    aggregates: dict[str, pl.DataFrame]
    top: pl.DataFrame
    normaliser: FittedNormaliser
    features: pl.DataFrame
    validation: PredictiveValidation | None = None
    area_method: AreaMethod | None = None
    basis: pl.DataFrame | None = None
    area_context: AreaContext | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    synthetic: bool = False
    synthetic_description: str = ""
    top_n: int = 100
    _peers: dict[str, dict[str, FloatArray]] | None = field(default=None, repr=False)
    _index: dict[int, int] | None = field(default=None, repr=False)

    # ---- counts --------------------------------------------------------------------
    @property
    def n_venues(self) -> int:
        return self.scores.height

    def grade_counts(self) -> dict[str, pl.DataFrame]:
        """Count per grade at every level."""
        return grade_counts(self.aggregates)

    def city_grade_counts(self) -> dict[str, int]:
        city = self.aggregates["city"].row(0, named=True)
        return {g: int(city[f"n_{g}"]) for g in GRADES}

    # ---- re-scoring ------------------------------------------------------------------
    def _peer_index(self) -> dict[str, dict[str, FloatArray]]:
        if self._peers is None:
            peers: dict[str, dict[str, FloatArray]] = {}
            for col in ("category", "town_code"):
                grouped = self.scores.group_by(col).agg(pl.col("score").sort())
                peers[col] = {
                    str(k): np.asarray(v.to_numpy(), dtype=np.float64)
                    for k, v in zip(grouped[col], grouped["score"], strict=True)
                }
            self._peers = peers
        return self._peers

    def _pct(self, col: str, key: Any, score: float) -> float | None:
        arr = self._peer_index()[col].get(str(key))
        if arr is None or arr.size == 0:
            return None
        return float(np.searchsorted(arr, score, side="right") / arr.size * 100.0)

    def rescore_many(self, rows: Sequence[Mapping[str, Any]]) -> list[VenueScore]:
        """Score venue dicts (venue + fact columns) with this run's frozen normalisation."""
        scored = score_venues(rows, self.normaliser, self.model, snapshot_at=self.snapshot_at)
        return [
            replace(
                vs,
                pct_in_category=self._pct("category", row.get("category"), vs.score),
                pct_in_town=self._pct("town_code", row.get("town_code"), vs.score),
            )
            for vs, row in zip(scored, rows, strict=True)
        ]

    def rescore(self, venue: Mapping[str, Any]) -> VenueScore:
        """Score one venue dict with the run's frozen normalisation (the batch's numbers)."""
        return self.rescore_many([venue])[0]

    def feature_row(self, venue_id: int) -> dict[str, Any]:
        """The venue's row of the feature frame (inputs and derived columns)."""
        if self._index is None:
            ids = self.features["venue_id"].to_numpy()
            self._index = dict(zip(ids.tolist(), range(ids.size), strict=True))
        i = self._index.get(int(venue_id))
        if i is None:
            raise UnknownVenue(
                f"venue {venue_id} is not part of this run",
                text=TextCode.RISK_VENUE_NOT_IN_RUN,
                params={"venue_id": venue_id},
            )
        return self.features.row(i, named=True)

    def raw_row(self, venue_id: int) -> dict[str, Any]:
        """The venue's input (venue + fact columns) as used in this run."""
        row = self.feature_row(venue_id)
        return {k: row[k] for k in RAW_SCHEMA}

    def explain(
        self,
        venue_id: int,
        *,
        previous: Sequence[tuple[str, float]] | pl.DataFrame | None = None,
    ) -> Explanation:
        """Explain one venue's score (see :func:`firegrid.risk.explain.explain_venue`)."""
        from firegrid.risk.explain import explain_venue

        return explain_venue(self, venue_id, previous=previous)

    # ---- output --------------------------------------------------------------------
    def to_summary_dict(self, *, top: int = 20) -> dict[str, Any]:
        """A JSON-ready summary (for ``firegrid assess --json``)."""
        city = self.aggregates["city"].row(0, named=True)
        towns = self.aggregates["town"].sort("score_weighted", descending=True)
        top_rows = self.top.head(top).select(
            "rank", "venue_id", "town_code", "category", "score", "grade"
        )
        return {
            "model": self.model.to_dict() | {"label": self.model.label},
            "snapshot_at": self.snapshot_at.isoformat(),
            "synthetic": self.synthetic,
            "counts": {
                "venues": self.n_venues,
                "grades": self.city_grade_counts(),
                "three_colour": {
                    c: int(n)
                    for c, n in self.scores["three_colour"]
                    .cast(pl.String)
                    .value_counts()
                    .iter_rows()
                },
                "towns": self.aggregates["town"].height,
                "villages": self.aggregates["village"].height,
                "grids": self.aggregates["grid"].height,
                "red_units": int((self.scores["grade"] == "red").sum()),
            },
            "city": {
                k: city[k]
                for k in (
                    "score_mean",
                    "score_weighted",
                    "score_p50",
                    "score_p90",
                    "score_max",
                    "grade",
                    "three_colour",
                )
            },
            "towns": [
                {
                    "town_code": r["town_code"],
                    "n_venues": r["n_venues"],
                    "score_weighted": r["score_weighted"],
                    "score_p90": r["score_p90"],
                    "grade": r["grade"],
                    **{f"n_{g}": r[f"n_{g}"] for g in GRADES},
                }
                for r in towns.iter_rows(named=True)
            ],
            "top_units": top_rows.to_dicts(),
            "validation": self.validation.to_dict() if self.validation else None,
            "timings_s": dict(self.timings_s),
            "warnings": list(self.warnings),
        }


def merge_area_grades(aggregate: pl.DataFrame, areas: pl.DataFrame, level: str) -> pl.DataFrame:
    """The level's venue statistics with the area method's grade in ``grade`` /
    ``three_colour`` (the area score, drivers and indicator columns alongside)."""
    key = LEVELS[level][0] or "city"
    joined = aggregate.drop("grade", "three_colour").join(
        areas.drop("n_venues"), on=key, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.rename({"area_grade": "grade", "area_three_colour": "three_colour"})


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - t0


def run_assessment(
    venues: pl.DataFrame,
    facts: pl.DataFrame,
    model: RiskModel | str = "expert-ahp",
    *,
    snapshot_at: datetime,
    history: IncidentHistory | None = None,
    events: pl.DataFrame | None = None,
    event_window_days: float = 90.0,
    top_n: int = 100,
    synthetic: bool | None = None,
    predictive_kind: ModelKind = "hgb",
    max_train_rows: int = 200_000,
    predictive_threads: int | None = 1,
    seed: int = 0,
    levels: tuple[str, ...] = tuple(LEVELS),
    area_method: AreaMethod | None = None,
    area_context: AreaContext | None = None,
) -> AssessmentRun:
    """Run a full assessment: (events →) features → normalise → score → grade → aggregate.

    ``events`` (optional) replaces the event-derived fact columns (see
    :mod:`firegrid.risk.events`). ``history`` (optional) adds the predictive model's
    held-out validation. ``synthetic`` marks the run as made from synthetic data (default:
    whatever ``history.synthetic`` says, else False).
    """
    require_aware(snapshot_at)
    rm = load_model(model) if isinstance(model, str) else model
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    if events is not None:
        with _timed(timings, "events"):
            facts = apply_event_facts(
                facts, aggregate_events(events, snapshot_at, window_days=event_window_days)
            )
    with _timed(timings, "features"):
        features, warnings = build_features(venues, facts, snapshot_at)
    with _timed(timings, "normalise"):
        normaliser = fit_normaliser(rm.catalogue, features)
        risk = normaliser.transform(features)
    with _timed(timings, "score"):
        scored = score_matrix(risk, rm.weight_vector())
        del risk
    with _timed(timings, "grades"):
        scores = score_frame(features, scored, rm)
    with _timed(timings, "aggregate"):
        aggregates = aggregate_all(scores, rm.grade_thresholds, levels)
        top = top_units(scores, top_n)
    method = area_method or default_area_method()
    context = area_context or AreaContext()
    with _timed(timings, "areas"):
        basis = venue_basis(scores, features, method, context.venue_extra)
        areas = assess_areas(basis, method, context, levels)
        aggregates = {lvl: merge_area_grades(df, areas[lvl], lvl) for lvl, df in aggregates.items()}
    validation = None
    if history is not None:
        with _timed(timings, "validation"):
            validation = validate_predictive(
                venues,
                history,
                rm,
                current_facts=facts,
                snapshot_at=snapshot_at,
                kind=predictive_kind,
                max_train_rows=max_train_rows,
                seed=seed,
                n_threads=predictive_threads,
            )
    timings["total"] = time.perf_counter() - t_all
    is_synth = synthetic if synthetic is not None else bool(history and history.synthetic)
    return AssessmentRun(
        model=rm,
        snapshot_at=snapshot_at,
        scores=scores,
        aggregates=aggregates,
        top=top,
        normaliser=normaliser,
        features=features,
        validation=validation,
        area_method=method,
        basis=basis,
        area_context=context,
        timings_s=timings,
        warnings=warnings,
        synthetic=is_synth,
        synthetic_description=history.description if history and history.synthetic else "",
        top_n=top_n,
    )
