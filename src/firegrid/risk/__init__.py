"""Fire-risk assessment: a pure engine on Polars and NumPy, and the context around it.

The engine (this package's exports: catalogue, AHP, normalisation, scoring, grades,
aggregation, explanations, the predictive model, the HTML report) touches no database. The
context's other modules do: ``inputs.py`` reads the facts from the other contexts,
``service.py``/``runs.py`` record runs and re-scores (``models.py``), ``changes.py`` re-scores
a venue when the change stream says it changed, ``api.py`` and ``cli.py`` are its edges.

Typical use (the CLI's ``firegrid assess``)::

    from firegrid.risk import load_model, run_assessment, write_report
    run = run_assessment(venues, facts, load_model("expert-ahp"),
                         snapshot_at=datetime.now(UTC), history=history)
    print(run.to_summary_dict())          # JSON-ready, for --json
    write_report(run, out_dir)            # out_dir/index.html
    run.rescore(venue_dict)               # one venue, frozen normalisation, ~2 ms
    run.explain(venue_id, previous=[("2025-Q3", 51.2)])

Input contract (Polars DataFrames; columns are cast to these types, extra columns ignored)
-----------------------------------------------------------------------------------------
``venues`` — one row per venue, ``venue_id`` unique:
    venue_id i64 · town_code str · village_code str · grid_code str · category str
    (the taxonomy's codes, e.g. small_shop, small_workshop, small_entertainment,
    rental_housing, factory, warehouse, office, residential_building, school, hospital,
    market, hotel, restaurant, chemical_plant …; unknown codes get the catalogue's default)
    · industry_code str (optional) · is_key_unit bool · is_high_risk bool · is_three_small bool
    · is_rental bool · floor_area_m2 f64 · floors i32 · occupancy i32 · night_occupancy i32
    · construction_class str ("I" … "IV") · built_year i32 (nullable, optional) · lon f64 ·
    lat f64 (WGS-84).
``facts`` — one row per venue (venues without a row get nulls); every column nullable
    (null = unknown, handled by the indicator's missing-value rule); absent columns are
    treated as all-null with a warning:
    venue_id i64 · open_hazards i32 · overdue_rectifications i32 · days_since_inspection f64
    · device_count i32 · offline_devices i32 · unresolved_faults i32 · false_alarm_rate f64
    (0–1) · fire_alarms_90d i32 · first_due_travel_time_s f64 · hydrant_within_150m bool ·
    incidents_venue_3y i32 · incidents_grid_3y i32.
``events`` (optional) — venue_id i64 · kind str/Categorical/Enum (fire_alarm, false_alarm,
    fault, fault_cleared, offline, online; others ignored) · occurred_at Datetime with a
    time zone. :func:`aggregate_events` turns them into fire_alarms_90d, false_alarm_rate,
    unresolved_faults and offline_devices, which replace those facts columns.
``history`` (optional) — an :class:`IncidentHistory`: incidents (venue_id, period, incidents)
    over ≥ 3 consecutive periods, ideally with the facts known at the end of each period.

``snapshot_at`` must be timezone-aware. Errors are :class:`firegrid.core.errors.DomainError`
subclasses (see :mod:`firegrid.risk.errors`).

Output: :class:`AssessmentRun` — ``scores`` (venue_id, town/village/grid codes, category,
industry_code, flags, occupancy, lon, lat, score 0–100, grade red/orange/yellow/blue,
three_colour red/yellow/green, pct_in_category, pct_in_town, contrib_<indicator> points),
``aggregates[level]`` for city, town, village, grid, industry, category; ``top`` (high-risk
unit list), ``validation``, ``normaliser`` (frozen parameters, ``to_dict()`` to store),
``timings_s``, ``to_summary_dict()``.
"""

from __future__ import annotations

from firegrid.risk.aggregate import LEVELS, aggregate_all, aggregate_level, top_units
from firegrid.risk.ahp import AhpResult, ahp_weights, hierarchical_weights
from firegrid.risk.catalogue import Catalogue, Indicator, default_catalogue, load_catalogue
from firegrid.risk.errors import (
    CatalogueInvalid,
    InconsistentJudgements,
    InputContractError,
    NotReciprocal,
    RiskError,
    UnknownModel,
    UnknownVenue,
)
from firegrid.risk.events import aggregate_events, apply_event_facts
from firegrid.risk.explain import Explanation, explain_venue
from firegrid.risk.features import FACT_SCHEMA, VENUE_SCHEMA, build_features
from firegrid.risk.grades import GRADES, GradeScheme
from firegrid.risk.history import IncidentHistory
from firegrid.risk.model import RiskModel, available_models, direct_model, load_model, load_models
from firegrid.risk.normalise import FittedNormaliser, fit_normaliser
from firegrid.risk.predictive import PredictiveValidation, validate_predictive
from firegrid.risk.report import render_report, write_report
from firegrid.risk.run import (
    AssessmentRun,
    VenueScore,
    run_assessment,
    score_venue,
    score_venues,
)

__all__ = [
    "FACT_SCHEMA",
    "GRADES",
    "LEVELS",
    "VENUE_SCHEMA",
    "AhpResult",
    "AssessmentRun",
    "Catalogue",
    "CatalogueInvalid",
    "Explanation",
    "FittedNormaliser",
    "GradeScheme",
    "IncidentHistory",
    "InconsistentJudgements",
    "Indicator",
    "InputContractError",
    "NotReciprocal",
    "PredictiveValidation",
    "RiskError",
    "RiskModel",
    "UnknownModel",
    "UnknownVenue",
    "VenueScore",
    "aggregate_all",
    "aggregate_events",
    "aggregate_level",
    "ahp_weights",
    "apply_event_facts",
    "available_models",
    "build_features",
    "default_catalogue",
    "direct_model",
    "explain_venue",
    "fit_normaliser",
    "hierarchical_weights",
    "load_catalogue",
    "load_model",
    "load_models",
    "render_report",
    "run_assessment",
    "score_venue",
    "score_venues",
    "top_units",
    "validate_predictive",
    "write_report",
]
