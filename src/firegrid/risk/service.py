"""The risk context's rules: recorded assessment runs, single re-scores, explanations,
rankings and trends — on top of the pure engine (:mod:`firegrid.risk`). No HTTP here.

* :func:`assess` reads the inputs (:mod:`firegrid.risk.inputs`), runs the engine, records
  ONE run (model and version, the inputs' snapshot time, counts, validation, the frozen
  normalisation) with every venue's score in one transaction, and optionally writes the
  HTML report.
* :func:`rescore_venue` re-scores one venue from its current inputs with the latest run's
  frozen normalisation (the batch's numbers) and records it.
* The read functions take a ``scope_path``: a caller sees only venues whose jurisdiction
  path starts with it (out of scope = not found).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import Conflict, NotFound, ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.risk.aggregate import LEVELS, aggregate_all, aggregate_level, top_units
from firegrid.risk.area import driver_details
from firegrid.risk.area_method import AreaMethod, load_area_method
from firegrid.risk.features import VENUE_SCHEMA, rows_to_features
from firegrid.risk.grades import GRADES
from firegrid.risk.inputs import INCIDENT_COLUMNS, INPUT_COLUMNS, SYNTHETIC_SEED, read_inputs
from firegrid.risk.model import RiskModel, load_model
from firegrid.risk.models import RiskRescore, RiskRun, RiskScore
from firegrid.risk.normalise import FittedNormaliser
from firegrid.risk.run import AssessmentRun, run_assessment, score_venue
from firegrid.risk.runs import (
    decode_inputs,
    get_run,
    grade_scheme_of,
    insert_scores,
    load_scores,
    mark_done,
    run_info,
    score_rows,
)

FloatArray = npt.NDArray[np.float64]
#: Levels a ranking can be asked for (``venue`` = the high-risk unit list).
RANK_LEVELS = ("town", "village", "grid", "industry", "category", "venue")
AREA_LEVELS = ("city", "town", "village", "grid", "industry", "category")
_AREA_COLUMN = {
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
    "industry": "industry_code",
    "category": "category",
}
TOP_IN_SUMMARY = 20
LEVEL_ROWS_IN_SUMMARY = 10


# ---- assessment ---------------------------------------------------------------------------
def assess(
    database: Database,
    settings: Settings,
    model_name: str = "expert-ahp",
    *,
    report_dir: Path | str | None = None,
    actor: str = "system",
    seed: int = SYNTHETIC_SEED,
    top: int = TOP_IN_SUMMARY,
) -> dict[str, Any]:
    """Compute every venue's score as ONE recorded run; return its summary (JSON-ready)."""
    t0 = time.perf_counter()
    model = load_model(model_name)
    inputs = read_inputs(database, settings, synthetic_seed=seed)
    if inputs.venues.height == 0:
        raise ValidationFailed(
            "no venues to assess: import venues or build the demo city",
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "venue"},
        )
    run = run_assessment(
        inputs.venues.select(list(VENUE_SCHEMA)),
        inputs.facts,
        model,
        snapshot_at=inputs.snapshot_at,
        history=inputs.history,
        synthetic=inputs.synthetic,
        seed=seed,
        area_context=inputs.area_context,
        area_method=load_area_method(settings.risk_area_method),
    )
    run.warnings[:0] = inputs.warnings
    timings = {**inputs.timings, **{f"engine.{k}": v for k, v in run.timings_s.items()}}
    summary = run_summary_dict(run, top=top)
    summary["sources"] = dict(inputs.sources)
    summary["device_health"] = dict(inputs.device_health)
    summary["area_population"] = inputs.area_context.population_report or None
    t = time.perf_counter()
    with database.session() as session:
        row = RiskRun(
            model_name=model.name,
            model_version=model.version,
            catalogue_version=model.catalogue.version,
            snapshot_at=inputs.snapshot_at,
            created_at=utcnow(),
            actor=actor[:120],
            status="running",
            venue_count=run.n_venues,
            synthetic=run.synthetic,
            counts=summary["counts"],
            validation=summary["validation"],
            summary={},
            normaliser=run.normaliser.to_dict(),
            model=model.to_dict(),
            indicator_keys=list(model.catalogue.keys),
            input_columns=list(INPUT_COLUMNS),
            sources=dict(inputs.sources),
            warnings=list(run.warnings),
            timings={},
        )
        session.add(row)
        session.flush()
        rows = score_rows(
            row.id,
            run.scores,
            inputs.raw_rows(),
            inputs.venues.select("venue_id", "jurisdiction_path"),
            model.catalogue.keys,
            INPUT_COLUMNS,
        )
        insert_scores(session, rows)
        if run.area_method is not None:
            store_area_rows(session, row.id, run, inputs.venues)
        timings["store"] = time.perf_counter() - t
        if report_dir is not None:
            t = time.perf_counter()
            path = write_run_report(session, run, Path(report_dir), row.id)
            row.report_path = str(path)
            timings["report"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        summary = {
            "run_id": row.id,
            "model_version": model.version,
            "actor": row.actor,
            "report": row.report_path or None,
            **summary,
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
        }
        row.timings = summary["timings_s"]
        row.summary = _jsonable(summary)
        mark_done(row)
    return summary


def store_area_rows(
    session: Session, run_id: int, run: AssessmentRun, venues: pl.DataFrame
) -> None:
    """The run's area grades at every level (``risk_area_grades``), for trends and changes."""
    from sqlalchemy import insert

    from firegrid.risk.area_models import RiskAreaGrade
    from firegrid.risk.area_service import area_rows

    assert run.area_method is not None
    frame = venues.select("venue_id", "jurisdiction_path", "town_code", "village_code", "grid_code")
    rows = area_rows(run_id, run.aggregates, run.area_method, frame)
    if rows:
        session.execute(insert(RiskAreaGrade), _jsonable({"rows": rows})["rows"])


def report_dir_for(settings: Settings, source: str) -> Path:
    """Where a run started by ``source`` (api, a schedule) writes its report."""
    return Path(settings.data_dir) / "risk-reports" / f"{source}-{utcnow():%Y%m%dT%H%M%S%f}"


def report_file(session: Session, run_id: int, scope_path: str) -> Path:
    """The stored HTML report of a run. It covers the whole city, so a caller scoped to a
    part of it gets not-found, as for a run without a report."""
    run = get_run(session, run_id)
    path = Path(run.report_path) if run.report_path else None
    if scope_path.count("/") > 2 or path is None or not path.is_file():
        raise NotFound(
            f"run {run.id} has no report you may read (write one with "
            "`firegrid assess --report DIR` or POST /risk/runs with report)",
            {"run_id": run.id},
            text=TextCode.RISK_NO_REPORT,
            params={"run_id": run.id},
        )
    return path


def write_run_report(session: Session, run: AssessmentRun, out_dir: Path, run_id: int) -> Path:
    """The engine's HTML report, with the towns' boundaries from the jurisdiction tree."""
    from firegrid.places.public import Jurisdiction
    from firegrid.risk.report import write_report

    towns = session.execute(
        select(Jurisdiction.code, Jurisdiction.name_zh, Jurisdiction.boundary).where(
            Jurisdiction.level == "town", Jurisdiction.deleted_at.is_(None)
        )
    ).all()
    boundaries = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": b, "properties": {"code": c, "name": n}}
            for c, n, b in towns
            if b
        ],
    }
    title = (
        f"城市消防安全风险评估报告 (City fire-safety risk assessment) — run {run_id}, "
        f"{run.snapshot_at:%Y-%m-%d %H:%M} UTC"
    )
    names = {str(c): str(n) for c, n, _ in towns if n}
    return write_report(run, out_dir, title=title, boundaries=boundaries, area_names=names)


def _levels_block(
    aggregates: Mapping[str, pl.DataFrame],
    limit: int | None,
    method: AreaMethod | None = None,
    synthetic_history: bool = False,
) -> dict[str, Any]:
    """Per level: number of areas, areas per grade, venues per grade, the highest areas."""
    out: dict[str, Any] = {}
    for level, df in aggregates.items():
        if level == "city":
            continue
        key = str(LEVELS[level][0])
        ranked = df.sort("score_weighted", descending=True)
        area_grades = {g: int((df["grade"].cast(pl.String) == g).sum()) for g in GRADES}
        venue_grades = {g: int(df[f"n_{g}"].sum()) for g in GRADES}
        rows = (
            ranked
            if limit is None or level in ("town", "industry", "category")
            else ranked.head(limit)
        )
        if "area_score" in df.columns:
            rows = rows.sort("area_score", descending=True, nulls_last=True)
        out[level] = {
            "areas": df.height,
            "area_grades": area_grades,
            "venue_grades": venue_grades,
            "rows": [
                {
                    key: r[key],
                    "n_venues": r["n_venues"],
                    "score_weighted": r["score_weighted"],
                    "score_p90": r["score_p90"],
                    "grade": str(r["grade"]),
                    **{f"n_{g}": r[f"n_{g}"] for g in GRADES},
                    **_area_fields(r, method, synthetic_history),
                }
                for r in rows.iter_rows(named=True)
            ],
        }
    return out


def _area_fields(
    row: Mapping[str, Any], method: AreaMethod | None, synthetic_history: bool = False
) -> dict[str, Any]:
    """The area method's score, its drivers (with values) and what was left out. With a
    simulated incident history, the history group's drivers say so (``synthetic``)."""
    if method is None or "area_score" not in row:
        return {}
    return {
        "area_score": row["area_score"],
        "drivers": _mark_synthetic(driver_details(row, method), synthetic_history),
        "missing": list(row.get("missing") or []),
    }


def _stored_levels(
    session: Session, run_id: int, levels: dict[str, Any], scope_path: str
) -> dict[str, Any]:
    """The levels block with the area grades the run stored (the area method), not the
    venue-mean grade of the caller's venues."""
    from firegrid.risk.area_service import apply_stored_grades, stored_areas

    for level, block in levels.items():
        key = str(LEVELS[level][0])
        block["rows"] = apply_stored_grades(session, run_id, level, block["rows"], key, scope_path)
        stored = stored_areas(session, run_id, level, scope_path)
        block["area_grades"] = {g: sum(1 for a in stored.values() if a.grade == g) for g in GRADES}
        block["areas_graded"] = len(stored)
    return levels


def _mark_synthetic(drivers: list[dict[str, Any]], synthetic: bool) -> list[dict[str, Any]]:
    return [{**d, "synthetic": synthetic and d["group"] == "history"} for d in drivers]


def run_summary_dict(run: AssessmentRun, *, top: int = TOP_IN_SUMMARY) -> dict[str, Any]:
    """The engine's summary plus per-level grade counts and the highest areas per level."""
    summary = run.to_summary_dict(top=top)
    summary["levels"] = _levels_block(
        run.aggregates, LEVEL_ROWS_IN_SUMMARY, run.area_method, run.synthetic
    )
    if run.area_method is not None:
        city = run.aggregates["city"].row(0, named=True)
        summary["area_method"] = run.area_method.to_dict()
        summary["city"]["area_score"] = city.get("area_score")
        summary["city"]["drivers"] = _mark_synthetic(
            driver_details(city, run.area_method), run.synthetic
        )
    summary["synthetic_data"] = (
        "SYNTHETIC: incidents and the validation's history are simulated "
        "(firegrid.risk.synthetic.incident_history)"
        if run.synthetic
        else None
    )
    return _jsonable(summary)


def _jsonable(data: Any) -> dict[str, Any]:
    """Plain JSON types (NaN → null) so the summary stores on both databases."""

    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return None if v != v or v in (float("inf"), float("-inf")) else v
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    cleaned: dict[str, Any] = clean(json.loads(json.dumps(data, default=str)))
    return cleaned


# ---- stored model and normalisation -------------------------------------------------------
_cache_lock = threading.Lock()
_normalisers: dict[tuple[int, str], FittedNormaliser] = {}


def model_for_run(run: RiskRun) -> RiskModel:
    """The run's model, refusing if its definition changed since the run."""
    model = load_model(run.model_name)
    if model.version != run.model_version or model.catalogue.version != run.catalogue_version:
        raise Conflict(
            f"model {run.model_name!r} changed since run {run.id} "
            f"({run.model_version} → {model.version}); run a new assessment",
            {"run_id": run.id},
            text=TextCode.RISK_MODEL_CHANGED,
            params={"run_id": run.id, "model": run.model_name},
        )
    return model


def normaliser_for_run(run: RiskRun) -> FittedNormaliser:
    key = (run.id, str(run.created_at))
    with _cache_lock:
        cached = _normalisers.get(key)
    if cached is None:
        cached = FittedNormaliser.from_dict(run.normaliser)
        with _cache_lock:
            if len(_normalisers) > 16:
                _normalisers.clear()
            _normalisers[key] = cached
    return cached


# ---- single-venue re-score --------------------------------------------------------------
def _peer_scores(session: Session, run_id: int, column: Any, value: Any) -> FloatArray:
    if value is None:
        return np.zeros(0)
    scores = session.scalars(
        select(RiskScore.score).where(RiskScore.run_id == run_id, column == value)
    ).all()
    return np.sort(np.asarray(scores, dtype=np.float64))


def _pct(arr: FloatArray, score: float) -> float | None:
    if arr.size == 0:
        return None
    return float(np.searchsorted(arr, score, side="right") / arr.size * 100.0)


def rescore_venue(
    database: Database,
    settings: Settings,
    venue_id: int,
    *,
    actor: str = "system",
    cause: str = "",
    scope_path: str = "/",
    principal: Any = None,
) -> dict[str, Any]:
    """Re-score one venue from its current inputs with the latest run's frozen
    normalisation and record it. The compute time (``compute_ms``) excludes I/O."""
    with database.session() as session:
        run = get_run(session)
        previous = session.get(RiskScore, (run.id, venue_id))
    inputs = read_inputs(
        database, settings, venue_ids=[venue_id], with_history=False, snapshot_at=utcnow()
    )
    if inputs.venues.height == 0:
        raise NotFound(
            f"venue {venue_id} not found",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    path = str(inputs.venues["jurisdiction_path"][0])
    if not path.startswith(scope_path):
        raise NotFound(
            f"venue {venue_id} not found",
            {"venue_id": venue_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "venue", "id": venue_id},
        )
    raw = inputs.raw_rows().row(0, named=True)
    notes: list[str] = []
    if (run.synthetic or raw.get("incidents_venue_3y") is None) and previous is not None:
        # The run's incident columns were simulated (or unknown): keep the run's values.
        stored = decode_inputs(previous)
        for col in INCIDENT_COLUMNS:
            raw[col] = stored.get(col)
        notes.append("incident columns taken from the run (SYNTHETIC history)")
    model = model_for_run(run)
    normaliser = normaliser_for_run(run)
    with database.session() as session:
        cat_arr = _peer_scores(session, run.id, RiskScore.category, raw.get("category"))
        town_arr = _peer_scores(session, run.id, RiskScore.town_code, raw.get("town_code"))
        t = time.perf_counter()
        vs = score_venue(raw, normaliser, model, snapshot_at=run.snapshot_at)
        pct_cat = _pct(cat_arr, vs.score)
        pct_town = _pct(town_arr, vs.score)
        compute_ms = (time.perf_counter() - t) * 1000.0
        keys = list(model.catalogue.keys)
        stored_inputs = {k: raw[k] for k in INPUT_COLUMNS if k != "venue_id" and k in raw}
        rec = RiskRescore(
            run_id=run.id,
            venue_id=venue_id,
            jurisdiction_path=path,
            score=vs.score,
            grade=vs.grade,
            three_colour=vs.three_colour,
            previous_score=previous.score if previous is not None else None,
            previous_grade=previous.grade if previous is not None else "",
            pct_in_category=pct_cat,
            pct_in_town=pct_town,
            contributions=[vs.contributions[k] for k in keys],
            inputs=_jsonable(stored_inputs),
            cause=cause,
            actor=actor[:120],
            at=utcnow(),
            compute_ms=compute_ms,
        )
        session.add(rec)
        session.flush()
        result = {
            "rescore_id": rec.id,
            "run_id": run.id,
            "venue_id": venue_id,
            "score": vs.score,
            "grade": vs.grade,
            "three_colour": vs.three_colour,
            "previous_score": rec.previous_score,
            "previous_grade": rec.previous_grade or None,
            "delta": (vs.score - previous.score) if previous is not None else None,
            "pct_in_category": pct_cat,
            "pct_in_town": pct_town,
            "contributions": dict(sorted(vs.contributions.items(), key=lambda kv: -kv[1])),
            "cause": cause,
            "actor": rec.actor,
            "at": rec.at.isoformat(),
            "compute_ms": round(compute_ms, 3),
            "snapshot_at": inputs.snapshot_at.isoformat(),
            "warnings": inputs.warnings + notes,
        }
        if principal is not None:
            from firegrid.accounts.public import record_change

            record_change(
                session,
                principal,
                "rescore",
                "risk_venue",
                venue_id,
                {"score": rec.previous_score, "grade": rec.previous_grade},
                {"score": vs.score, "grade": vs.grade, "cause": cause},
            )
    return result


# ---- reads --------------------------------------------------------------------------------
def _score_row(session: Session, run: RiskRun, venue_id: int, scope_path: str) -> RiskScore:
    row = session.get(RiskScore, (run.id, venue_id))
    if row is None or not row.jurisdiction_path.startswith(scope_path):
        raise NotFound(
            f"venue {venue_id} has no score in run {run.id}",
            {"venue_id": venue_id},
            text=TextCode.RISK_VENUE_NOT_IN_RUN,
            params={"venue_id": venue_id},
        )
    return row


def venue_score(
    session: Session, venue_id: int, *, run_id: int | None = None, scope_path: str = "/"
) -> dict[str, Any]:
    """A venue's stored score with its contributions (they add up to the score)."""
    run = get_run(session, run_id)
    row = _score_row(session, run, venue_id, scope_path)
    contributions = dict(zip(run.indicator_keys, row.contributions, strict=True))
    latest = session.scalars(
        select(RiskRescore)
        .where(RiskRescore.venue_id == venue_id, RiskRescore.run_id == run.id)
        .order_by(RiskRescore.id.desc())
        .limit(1)
    ).first()
    return {
        "run_id": run.id,
        "snapshot_at": run.snapshot_at.isoformat(),
        "model": run.model_name,
        "venue_id": venue_id,
        "town_code": row.town_code,
        "village_code": row.village_code,
        "grid_code": row.grid_code,
        "category": row.category,
        "score": row.score,
        "grade": row.grade,
        "three_colour": row.three_colour,
        "pct_in_category": row.pct_in_category,
        "pct_in_town": row.pct_in_town,
        "contributions": dict(sorted(contributions.items(), key=lambda kv: -kv[1])),
        "inputs": decode_inputs(row),
        "synthetic": run.synthetic,
        "latest_rescore": None
        if latest is None
        else {
            "score": latest.score,
            "grade": latest.grade,
            "at": latest.at.isoformat(),
            "cause": latest.cause,
            "actor": latest.actor,
        },
    }


def explain(
    session: Session, venue_id: int, *, run_id: int | None = None, scope_path: str = "/"
) -> dict[str, Any]:
    """Explain a stored score: contributions (adding up to the stored score), what would
    lower the grade (re-scored with the run's frozen normalisation), peers, own history."""
    from firegrid.risk.explain import explain_venue

    run = get_run(session, run_id)
    row = _score_row(session, run, venue_id, scope_path)
    model = model_for_run(run)
    raw = decode_inputs(row)
    features = rows_to_features([raw], run.snapshot_at)
    one = pl.DataFrame(
        {
            "venue_id": [venue_id],
            "category": [row.category],
            "town_code": [row.town_code],
            "pct_in_category": [row.pct_in_category],
            "pct_in_town": [row.pct_in_town],
            "score": [row.score],
        }
    )
    mini = AssessmentRun(
        model=model,
        snapshot_at=run.snapshot_at,
        scores=one,
        aggregates={},
        top=one.head(0),
        normaliser=normaliser_for_run(run),
        features=features,
        synthetic=run.synthetic,
    )
    mini._peers = {
        "category": {row.category: _peer_scores(session, run.id, RiskScore.category, row.category)},
        "town_code": {
            row.town_code: _peer_scores(session, run.id, RiskScore.town_code, row.town_code)
        },
    }
    history = [
        (f"run {t['run_id']} ({t['snapshot_at'][:10]})", t["score"])
        for t in venue_trend(session, venue_id, scope_path=scope_path)["runs"]
        if t["run_id"] != run.id
    ]
    exp = explain_venue(mini, venue_id, previous=history)
    stored = dict(zip(run.indicator_keys, row.contributions, strict=True))
    out = _jsonable(exp.to_dict())
    out.update(
        {
            "run_id": run.id,
            "snapshot_at": run.snapshot_at.isoformat(),
            "stored_score": row.score,
            "stored_contributions": stored,
            "contributions_total": float(sum(row.contributions)),
            "synthetic": run.synthetic,
        }
    )
    return dict(out)


def venue_trend(session: Session, venue_id: int, *, scope_path: str = "/") -> dict[str, Any]:
    """A venue's score in every run and its recorded re-scores, oldest first."""
    rows = session.execute(
        select(
            RiskRun.id,
            RiskRun.snapshot_at,
            RiskRun.model_name,
            RiskScore.score,
            RiskScore.grade,
            RiskScore.jurisdiction_path,
        )
        .join(RiskScore, RiskScore.run_id == RiskRun.id)
        .where(RiskScore.venue_id == venue_id, RiskRun.status == "done")
        .order_by(RiskRun.snapshot_at, RiskRun.id)
    ).all()
    rescores = session.execute(
        select(
            RiskRescore.run_id,
            RiskRescore.at,
            RiskRescore.score,
            RiskRescore.grade,
            RiskRescore.cause,
            RiskRescore.actor,
            RiskRescore.jurisdiction_path,
        )
        .where(RiskRescore.venue_id == venue_id)
        .order_by(RiskRescore.at, RiskRescore.id)
    ).all()
    runs = [r for r in rows if r[5].startswith(scope_path)]
    res = [r for r in rescores if r[6].startswith(scope_path)]
    if not runs and not res:
        raise NotFound(
            f"venue {venue_id} has no score",
            {"venue_id": venue_id},
            text=TextCode.RISK_VENUE_NOT_IN_RUN,
            params={"venue_id": venue_id},
        )
    return {
        "venue_id": venue_id,
        "runs": [
            {
                "run_id": r[0],
                "snapshot_at": r[1].isoformat(),
                "model": r[2],
                "score": r[3],
                "grade": r[4],
            }
            for r in runs
        ],
        "rescores": [
            {
                "run_id": r[0],
                "at": r[1].isoformat(),
                "score": r[2],
                "grade": r[3],
                "cause": r[4],
                "actor": r[5],
            }
            for r in res
        ],
    }


def area_trend(
    session: Session, level: str, code: str | None, *, scope_path: str = "/"
) -> dict[str, Any]:
    """An area's figures in every run: venues, mean and occupancy-weighted score, grades."""
    if level not in AREA_LEVELS:
        raise ValidationFailed(
            f"unknown level {level!r}",
            {"allowed": list(AREA_LEVELS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": AREA_LEVELS},
        )
    occ = func.coalesce(RiskScore.occupancy, 0)
    stmt = (
        select(
            RiskRun.id,
            RiskRun.snapshot_at,
            RiskRun.model_name,
            func.count(),
            func.avg(RiskScore.score),
            func.sum(RiskScore.score * occ),
            func.sum(occ),
            *[func.sum(_is(RiskScore.grade == g)) for g in GRADES],
        )
        .join(RiskScore, RiskScore.run_id == RiskRun.id)
        .where(RiskRun.status == "done")
        .group_by(RiskRun.id, RiskRun.snapshot_at, RiskRun.model_name)
        .order_by(RiskRun.snapshot_at, RiskRun.id)
    )
    if scope_path != "/":
        stmt = stmt.where(RiskScore.jurisdiction_path.startswith(scope_path, autoescape=True))
    if level != "city":
        if not code:
            raise ValidationFailed(
                f"level {level!r} needs a code",
                text=TextCode.VALIDATION_MISSING,
                params={"field": "code"},
            )
        stmt = stmt.where(getattr(RiskScore, _AREA_COLUMN[level]) == code)
    rows = session.execute(stmt).all()
    if not rows:
        raise NotFound(
            f"no scores for {level} {code!r}",
            {"level": level, "code": code},
            text=TextCode.RISK_NO_AREA_GRADE,
            params={"kind": level, "code": code},
        )
    return {
        "level": level,
        "code": code,
        "runs": [
            {
                "run_id": r[0],
                "snapshot_at": r[1].isoformat(),
                "model": r[2],
                "n_venues": int(r[3]),
                "score_mean": float(r[4]),
                "score_weighted": float(r[5]) / float(r[6]) if r[6] else float(r[4]),
                **{f"n_{g}": int(r[7 + i] or 0) for i, g in enumerate(GRADES)},
            }
            for r in rows
        ],
    }


def _is(condition: Any) -> Any:
    from sqlalchemy import case

    return case((condition, 1), else_=0)


def list_runs(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(RiskRun).where(RiskRun.status == "done").order_by(RiskRun.id.desc()).limit(limit)
    ).all()
    return [run_info(r) for r in rows]


def _scoped_frame(session: Session, run: RiskRun, scope_path: str) -> pl.DataFrame:
    frame = load_scores(session, run.id, scope_path)
    if frame.height == 0:
        raise NotFound(
            f"run {run.id} has no venue in your jurisdiction",
            {"run_id": run.id},
            text=TextCode.RISK_RUN_OUT_OF_SCOPE,
            params={"run_id": run.id},
        )
    return frame


def scoped_summary(session: Session, run_id: int | None, scope_path: str = "/") -> dict[str, Any]:
    """A run's summary with every figure computed over the caller's venues only."""
    run = get_run(session, run_id)
    frame = _scoped_frame(session, run, scope_path)
    scheme = grade_scheme_of(run)
    aggregates = aggregate_all(frame, scheme)
    area = aggregates["city"].row(0, named=True)
    top = top_units(frame, 100).head(TOP_IN_SUMMARY)
    return _jsonable(
        {
            **run_info(run),
            "scope_path": scope_path,
            "counts": {
                "venues": frame.height,
                "grades": {g: int(area[f"n_{g}"]) for g in GRADES},
                "three_colour": {
                    c: int(n) for c, n in frame["three_colour"].value_counts().iter_rows()
                },
            },
            "area": {
                k: area[k]
                for k in ("score_mean", "score_weighted", "score_p50", "score_p90", "score_max")
            }
            | {"grade": str(area["grade"])},
            "levels": _stored_levels(
                session, run.id, _levels_block(aggregates, LEVEL_ROWS_IN_SUMMARY), scope_path
            ),
            "top_units": top.select(
                "rank", "venue_id", "town_code", "category", "score", "grade"
            ).to_dicts(),
            "validation": run.validation,
            "warnings": run.warnings,
            "sources": run.sources,
            "area_population": (run.summary or {}).get("area_population"),
            "timings_s": run.timings,
        }
    )


def rankings(
    session: Session,
    level: str,
    *,
    run_id: int | None = None,
    scope_path: str = "/",
    limit: int = 50,
) -> dict[str, Any]:
    """Areas of a level (or venues) in the caller's scope, highest risk first."""
    if level not in RANK_LEVELS:
        raise ValidationFailed(
            f"unknown level {level!r}",
            {"allowed": list(RANK_LEVELS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": RANK_LEVELS},
        )
    run = get_run(session, run_id)
    frame = _scoped_frame(session, run, scope_path)
    if level == "venue":
        top = top_units(frame, limit).head(limit)
        items = top.select(
            "rank",
            "venue_id",
            "town_code",
            "village_code",
            "grid_code",
            "category",
            "industry_code",
            "score",
            "grade",
            "three_colour",
            "pct_in_category",
            "pct_in_town",
        ).to_dicts()
    else:
        from firegrid.risk.area_service import apply_stored_grades

        agg = aggregate_level(frame, level, grade_scheme_of(run))
        rows = [
            {k: v for k, v in r.items() if k not in ("grade", "three_colour")}
            for r in agg.iter_rows(named=True)
        ]
        key = str(LEVELS[level][0])
        graded = apply_stored_grades(session, run.id, level, rows, key, scope_path)
        graded.sort(
            key=lambda r: (
                -(r["area_score"] if r["area_score"] is not None else -1.0),
                -r["score_weighted"],
            )
        )
        items = [{"rank": i + 1, **r} for i, r in enumerate(graded[:limit])]
    return _jsonable({"run_id": run.id, "level": level, "items": items})


def grade_counts(
    session: Session, level: str, *, run_id: int | None = None, scope_path: str = "/"
) -> dict[str, Any]:
    """Venues per grade in every area of a level (``city`` = the caller's whole scope)."""
    if level not in AREA_LEVELS:
        raise ValidationFailed(
            f"unknown level {level!r}",
            {"allowed": list(AREA_LEVELS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": AREA_LEVELS},
        )
    run = get_run(session, run_id)
    frame = _scoped_frame(session, run, scope_path)
    from firegrid.risk.area_service import stored_areas

    agg = aggregate_level(frame, level, grade_scheme_of(run))
    key = LEVELS[level][0] or "city"
    stored = stored_areas(session, run.id, level, scope_path)
    items = [
        {
            "key": r[key],
            "n_venues": r["n_venues"],
            **{g: r[f"n_{g}"] for g in GRADES},
            "grade": stored[str(r[key])].grade if str(r[key]) in stored else None,
        }
        for r in agg.iter_rows(named=True)
    ]
    return _jsonable({"run_id": run.id, "level": level, "items": items})
