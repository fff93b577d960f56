"""Stored area grades: written with each run, read scoped, compared between runs.

* :func:`area_rows` turns a run's merged aggregates into ``risk_area_grades`` rows.
* :func:`area_grades` lists a level's areas of a run (spatial ones limited to the caller's
  jurisdiction; industries and categories are city-wide figures, so only a caller whose
  scope is the whole city sees them).
* :func:`area_history` is an area's score and grade in every run (the trend).
* :func:`changes_since_previous` says what changed since the run before: areas whose grade
  moved, venues whose grade moved, indicators whose risk moved most.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.risk.aggregate import LEVELS
from firegrid.risk.area import AREA_LEVELS, SPATIAL_LEVELS, driver_details
from firegrid.risk.area_method import AreaMethod, default_area_method
from firegrid.risk.area_models import RiskAreaGrade
from firegrid.risk.grades import GRADES
from firegrid.risk.models import RiskRun, RiskScore
from firegrid.risk.runs import get_run

GRADE_RANK = {g: i for i, g in enumerate(reversed(GRADES))}  # blue 0 … red 3
#: Venues listed per direction in "what changed" (the counts are complete).
CHANGED_VENUES_LISTED = 50


def _path_of(paths: pl.DataFrame, level: str) -> dict[str, str]:
    """Area code → jurisdiction path prefix, from the venues' paths."""
    depth = {"city": 1, "town": 2, "village": 3, "grid": 4}[level]
    parts = paths["jurisdiction_path"].str.strip_chars("/").str.split("/")
    prefix = parts.list.slice(0, depth).list.join("/")
    key = LEVELS[level][0]
    frame = paths.select(
        (pl.lit("city") if key is None else pl.col(key)).alias("code"),
        ("/" + prefix + "/").alias("path"),
    ).unique("code", keep="first")
    return {str(c): str(p) for c, p in frame.iter_rows() if c is not None}


def area_rows(
    run_id: int,
    aggregates: Mapping[str, pl.DataFrame],
    method: AreaMethod,
    venues: pl.DataFrame,
) -> list[dict[str, Any]]:
    """``risk_area_grades`` rows of a run. ``venues``: venue_id, jurisdiction_path and the
    level keys (to know each spatial area's path)."""
    keys = method.keys
    out: list[dict[str, Any]] = []
    for level, df in aggregates.items():
        if "area_score" not in df.columns:
            continue
        key = LEVELS[level][0] or "city"
        paths = _path_of(venues, level) if level in SPATIAL_LEVELS else {}
        for r in df.iter_rows(named=True):
            code = r[key]
            if code is None:
                continue
            out.append(
                {
                    "run_id": run_id,
                    "level": level,
                    "code": str(code),
                    "jurisdiction_path": paths.get(str(code), ""),
                    "n_venues": int(r["n_venues"]),
                    "area_score": float(r["area_score"]),
                    "grade": str(r["grade"]),
                    "score_weighted": r.get("score_weighted"),
                    "venue_grades": {g: int(r[f"n_{g}"]) for g in GRADES},
                    "values": {k: r.get(f"value_{k}") for k in keys},
                    "risks": {k: r.get(f"risk_{k}") for k in keys},
                    "drivers": list(r.get("drivers") or []),
                    "missing": list(r.get("missing") or []),
                }
            )
    return out


def _visible(row: RiskAreaGrade, scope_path: str) -> bool:
    """Spatial areas inside the caller's jurisdiction; industries and categories (city-wide
    figures) only for a city-wide caller."""
    if row.level in SPATIAL_LEVELS:
        return row.jurisdiction_path.startswith(scope_path)
    return scope_path.count("/") <= 2


def _row_dict(row: RiskAreaGrade, method: AreaMethod) -> dict[str, Any]:
    flat: dict[str, Any] = {"drivers": row.drivers}
    for k in method.keys:
        flat[f"value_{k}"] = (row.values or {}).get(k)
        flat[f"risk_{k}"] = (row.risks or {}).get(k)
    return {
        "level": row.level,
        "code": row.code,
        "jurisdiction_path": row.jurisdiction_path,
        "n_venues": row.n_venues,
        "area_score": row.area_score,
        "grade": row.grade,
        "score_weighted": row.score_weighted,
        "venue_grades": row.venue_grades,
        "drivers": [
            {k: v for k, v in d.items() if k != "points"} for d in driver_details(flat, method)
        ],
        "missing": row.missing,
        "values": row.values,
        "risks": row.risks,
    }


def _check_level(level: str) -> None:
    if level not in AREA_LEVELS:
        raise ValidationFailed(
            f"unknown level {level!r}",
            {"allowed": list(AREA_LEVELS)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "level", "value": level, "allowed": AREA_LEVELS},
        )


def area_grades(
    session: Session,
    level: str,
    *,
    run_id: int | None = None,
    scope_path: str = "/",
    limit: int = 500,
    method: AreaMethod | None = None,
) -> dict[str, Any]:
    """A level's areas in a run, highest area score first (scoped)."""
    _check_level(level)
    run = get_run(session, run_id)
    rows = session.scalars(
        select(RiskAreaGrade)
        .where(RiskAreaGrade.run_id == run.id, RiskAreaGrade.level == level)
        .order_by(RiskAreaGrade.area_score.desc(), RiskAreaGrade.code)
    ).all()
    method = method or default_area_method()
    visible = [r for r in rows if _visible(r, scope_path)]
    items = [{"rank": i + 1, **_row_dict(r, method)} for i, r in enumerate(visible[:limit])]
    counts = {g: sum(1 for r in visible if r.grade == g) for g in GRADES}
    return {
        "run_id": run.id,
        "level": level,
        "synthetic": run.synthetic,
        "thresholds": method.scheme.thresholds,
        "area_grades": counts,
        "items": items,
    }


def area_history(
    session: Session, level: str, code: str, *, scope_path: str = "/"
) -> dict[str, Any]:
    """An area's score and grade in every finished run, oldest first (the trend)."""
    _check_level(level)
    rows = session.execute(
        select(RiskRun.id, RiskRun.snapshot_at, RiskAreaGrade)
        .join(RiskAreaGrade, RiskAreaGrade.run_id == RiskRun.id)
        .where(RiskRun.status == "done", RiskAreaGrade.level == level, RiskAreaGrade.code == code)
        .order_by(RiskRun.snapshot_at, RiskRun.id)
    ).all()
    runs = [(rid, at, a) for rid, at, a in rows if _visible(a, scope_path)]
    if not runs:
        raise NotFound(
            f"no area grade for {level} {code!r}",
            {"level": level, "code": code},
            text=TextCode.RISK_NO_AREA_GRADE,
            params={"kind": level, "code": code},
        )
    return {
        "level": level,
        "code": code,
        "runs": [
            {
                "run_id": rid,
                "snapshot_at": at.isoformat(),
                "area_score": a.area_score,
                "grade": a.grade,
                "drivers": list(a.drivers or []),
                "venue_grades": a.venue_grades,
            }
            for rid, at, a in runs
        ],
    }


def _previous_run(session: Session, run: RiskRun) -> RiskRun | None:
    return session.scalars(
        select(RiskRun)
        .where(RiskRun.status == "done", RiskRun.id < run.id)
        .order_by(RiskRun.id.desc())
        .limit(1)
    ).first()


def changes_since_previous(
    session: Session, *, run_id: int | None = None, scope_path: str = "/"
) -> dict[str, Any]:
    """What changed between a run and the finished run before it (scoped)."""
    run = get_run(session, run_id)
    prev = _previous_run(session, run)
    if prev is None:
        return {"run_id": run.id, "previous_run_id": None, "areas": [], "venues": {}}
    old = aliased(RiskAreaGrade)
    new = aliased(RiskAreaGrade)
    pairs = session.execute(
        select(new, old)
        .join(old, (old.level == new.level) & (old.code == new.code) & (old.run_id == prev.id))
        .where(new.run_id == run.id)
    ).all()
    areas = []
    for n, o in pairs:
        if not _visible(n, scope_path) or n.grade == o.grade:
            continue
        moved = {
            k: (n.risks or {}).get(k, 0) - (o.risks or {}).get(k, 0)
            for k in (n.risks or {})
            if (n.risks or {}).get(k) is not None and (o.risks or {}).get(k) is not None
        }
        top = sorted(moved.items(), key=lambda kv: -abs(kv[1]))[:3]
        areas.append(
            {
                "level": n.level,
                "code": n.code,
                "grade_before": o.grade,
                "grade_after": n.grade,
                "direction": "up" if GRADE_RANK[n.grade] > GRADE_RANK[o.grade] else "down",
                "score_before": o.area_score,
                "score_after": n.area_score,
                "indicators_moved": [{"indicator": k, "risk_delta": d} for k, d in top],
            }
        )
    areas.sort(key=lambda a: (AREA_LEVELS.index(a["level"]), a["code"]))
    s_new = aliased(RiskScore)
    s_old = aliased(RiskScore)
    stmt = (
        select(s_new.venue_id, s_old.grade, s_new.grade, s_old.score, s_new.score)
        .join(s_old, (s_old.venue_id == s_new.venue_id) & (s_old.run_id == prev.id))
        .where(s_new.run_id == run.id, s_new.grade != s_old.grade)
    )
    if scope_path not in ("/", ""):
        stmt = stmt.where(s_new.jurisdiction_path.startswith(scope_path, autoescape=True))
    moved_venues = session.execute(stmt.order_by(s_new.venue_id)).all()
    up = [v for v in moved_venues if GRADE_RANK[v[2]] > GRADE_RANK[v[1]]]
    down = [v for v in moved_venues if GRADE_RANK[v[2]] < GRADE_RANK[v[1]]]

    def listed(rows: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "venue_id": r[0],
                "grade_before": r[1],
                "grade_after": r[2],
                "score_before": r[3],
                "score_after": r[4],
            }
            for r in sorted(rows, key=lambda r: -abs(r[4] - r[3]))[:CHANGED_VENUES_LISTED]
        ]

    return {
        "run_id": run.id,
        "previous_run_id": prev.id,
        "areas": areas,
        "venues": {
            "up": len(up),
            "down": len(down),
            "listed_up": listed(up),
            "listed_down": listed(down),
        },
    }


def stored_areas(
    session: Session, run_id: int, level: str, scope_path: str = "/"
) -> dict[str, RiskAreaGrade]:
    """A run's stored area rows of one level that the caller may see, by area code."""
    rows = session.scalars(
        select(RiskAreaGrade).where(RiskAreaGrade.run_id == run_id, RiskAreaGrade.level == level)
    ).all()
    return {r.code: r for r in rows if _visible(r, scope_path)}


def apply_stored_grades(
    session: Session,
    run_id: int,
    level: str,
    items: list[dict[str, Any]],
    key: str,
    scope_path: str,
) -> list[dict[str, Any]]:
    """Put the area method's stored grade, score and drivers on venue-aggregate rows (a row
    without a stored area grade the caller may see gets ``grade`` null)."""
    stored = stored_areas(session, run_id, level, scope_path)
    out = []
    for item in items:
        area = stored.get(str(item.get(key)))
        out.append(
            {
                **item,
                "grade": area.grade if area else None,
                "area_score": area.area_score if area else None,
                "drivers": list(area.drivers or []) if area else [],
            }
        )
    return out
