"""Recording runs: write a run and its scores in one transaction, read them back.

Scores are bulk-written as tuples (SQLite ``executemany``, PostgreSQL ``COPY``; the
pattern of :func:`firegrid.geo.store._insert_rows`); the per-venue lists (contributions,
inputs) are JSON-encoded by Polars, not row by row in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from firegrid.core.clock import utcnow
from firegrid.core.errors import NotFound
from firegrid.core.texts import TextCode
from firegrid.risk.grades import GradeScheme
from firegrid.risk.models import RiskRun, RiskScore
from firegrid.risk.scoring import CARRIED, CONTRIB_PREFIX

#: Venue columns copied on each score row (the rest of the inputs go to ``inputs``).
SCORE_VENUE_COLUMNS = tuple(c for c in CARRIED if c != "venue_id")
SCORE_COLUMNS = (
    "run_id",
    "venue_id",
    "jurisdiction_path",
    *SCORE_VENUE_COLUMNS,
    "score",
    "grade",
    "three_colour",
    "pct_in_category",
    "pct_in_town",
    "contributions",
    "inputs",
)
#: Frame schema of scores read back (for aggregation with :mod:`firegrid.risk.aggregate`).
READ_SCHEMA: dict[str, pl.DataType] = {
    "venue_id": pl.Int64(),
    "jurisdiction_path": pl.String(),
    "town_code": pl.String(),
    "village_code": pl.String(),
    "grid_code": pl.String(),
    "category": pl.String(),
    "industry_code": pl.String(),
    "is_key_unit": pl.Boolean(),
    "is_high_risk": pl.Boolean(),
    "occupancy": pl.Int32(),
    "lon": pl.Float64(),
    "lat": pl.Float64(),
    "score": pl.Float64(),
    "grade": pl.String(),
    "three_colour": pl.String(),
    "pct_in_category": pl.Float64(),
    "pct_in_town": pl.Float64(),
}


def input_json_columns(input_columns: Sequence[str]) -> list[str]:
    """Input columns stored in the ``inputs`` JSON (not already a column of the row)."""
    return [c for c in input_columns if c != "venue_id" and c not in SCORE_VENUE_COLUMNS]


def _json_list(columns: Sequence[str]) -> pl.Expr:
    """A JSON array of float columns, encoded by Polars (exact, shortest round-trip)."""
    return (
        pl.struct(pl.concat_list([pl.col(c).cast(pl.Float64) for c in columns]).alias("v"))
        .struct.json_encode()
        .str.slice(5)
        .str.strip_suffix("}")
    )


def score_rows(
    run_id: int,
    scores: pl.DataFrame,
    raw: pl.DataFrame,
    paths: pl.DataFrame,
    indicator_keys: Sequence[str],
    input_columns: Sequence[str],
) -> pl.DataFrame:
    """The ``risk_scores`` rows of a run as a frame in :data:`SCORE_COLUMNS` order."""
    stored_inputs = input_json_columns(input_columns)
    inputs = raw.select("venue_id", pl.struct(stored_inputs).struct.json_encode().alias("inputs"))
    contrib = [CONTRIB_PREFIX + k for k in indicator_keys]
    frame = (
        scores.join(paths, on="venue_id", how="left", maintain_order="left")
        .join(inputs, on="venue_id", how="left", maintain_order="left")
        .with_columns(
            pl.lit(run_id, dtype=pl.Int64).alias("run_id"),
            _json_list(contrib).alias("contributions"),
            pl.col("grade").cast(pl.String),
            pl.col("three_colour").cast(pl.String),
            *[pl.col(c).fill_null("") for c in ("town_code", "village_code", "grid_code")],
            pl.col("category").fill_null(""),
            pl.col("industry_code").fill_null(""),
            pl.col("is_key_unit").fill_null(False),
            pl.col("is_high_risk").fill_null(False),
            pl.col("occupancy").fill_null(0),
        )
    )
    return frame.select(SCORE_COLUMNS)


def insert_scores(session: Session, rows: pl.DataFrame) -> None:
    """Bulk-write score rows: COPY on PostgreSQL, executemany of tuples on SQLite."""
    connection = session.connection()
    columns = ", ".join(SCORE_COLUMNS)
    data = rows.rows()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(f"COPY risk_scores ({columns}) FROM STDIN") as copy,
        ):
            for row in data:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(SCORE_COLUMNS))
    connection.exec_driver_sql(f"INSERT INTO risk_scores ({columns}) VALUES ({placeholders})", data)


def get_run(session: Session, run_id: int | None = None) -> RiskRun:
    """A finished run (the latest when ``run_id`` is None)."""
    stmt = select(RiskRun).where(RiskRun.status == "done")
    if run_id is None:
        row = session.scalars(stmt.order_by(RiskRun.id.desc()).limit(1)).first()
        if row is None:
            raise NotFound(
                "no risk assessment run yet: run `firegrid assess`",
                text=TextCode.ENTITY_NONE_YET,
                params={"kind": "risk_run"},
            )
        return row
    row = session.scalars(stmt.where(RiskRun.id == run_id)).first()
    if row is None:
        raise NotFound(
            f"risk run {run_id} not found",
            {"run_id": run_id},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "risk_run", "id": run_id},
        )
    return row


def load_scores(session: Session, run_id: int, scope_path: str | None = None) -> pl.DataFrame:
    """Scores of a run (without the JSON lists), optionally limited to a path prefix."""
    cols = [getattr(RiskScore, c) for c in READ_SCHEMA]
    stmt = select(*cols).where(RiskScore.run_id == run_id)
    if scope_path and scope_path != "/":
        stmt = stmt.where(RiskScore.jurisdiction_path.startswith(scope_path, autoescape=True))
    rows = session.execute(stmt.order_by(RiskScore.venue_id)).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=READ_SCHEMA, orient="row")


def grade_scheme_of(run: RiskRun) -> GradeScheme:
    """The grade scheme the run was graded with (from its stored model)."""
    g = run.model.get("grades") or {}
    th = g.get("thresholds") or {}
    default = GradeScheme()
    return GradeScheme(
        red=float(th.get("red", default.red)),
        orange=float(th.get("orange", default.orange)),
        yellow=float(th.get("yellow", default.yellow)),
        labels_zh=g.get("labels_zh") or dict(default.labels_zh),
        labels_en=g.get("labels_en") or dict(default.labels_en),
        three_colour=g.get("three_colour") or dict(default.three_colour),
    )


def decode_inputs(score: RiskScore | dict[str, Any]) -> dict[str, Any]:
    """The raw venue+fact row a stored score was computed from."""
    get = score.get if isinstance(score, dict) else lambda k: getattr(score, k)
    row: dict[str, Any] = {"venue_id": int(get("venue_id") or 0)}
    for c in SCORE_VENUE_COLUMNS:
        row[c] = get(c)
    for c in ("town_code", "village_code", "grid_code", "industry_code"):
        if row[c] == "":
            row[c] = None
    inputs = get("inputs")
    row.update(json.loads(inputs) if isinstance(inputs, str) else dict(inputs or {}))
    return row


def run_info(run: RiskRun) -> dict[str, Any]:
    """The metadata of a run (no per-area figures: those depend on the caller's scope)."""
    return {
        "run_id": run.id,
        "model": run.model_name,
        "model_version": run.model_version,
        "catalogue_version": run.catalogue_version,
        "snapshot_at": _iso(run.snapshot_at),
        "created_at": _iso(run.created_at),
        "finished_at": _iso(run.finished_at),
        "actor": run.actor,
        "status": run.status,
        "venues": run.venue_count,
        "synthetic": run.synthetic,
        "report_path": run.report_path or None,
    }


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts is not None else None


def mark_done(run: RiskRun) -> None:
    run.status = "done"
    run.finished_at = utcnow()
