"""``firegrid assess``: one recorded assessment run (and the HTML report).

Mounted by :mod:`firegrid.cli` as ``app.command("assess")(assess_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL; overrides FIREGRID_DATABASE_URL.")
]
ModelOption = Annotated[
    str, typer.Option("--model", help="Risk model of the catalogue (e.g. expert-ahp).")
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report", help="Write the HTML report (maps, tables, charts) to DIR/index.html."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the run as JSON.")]


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    """The readable (non-JSON) lines: run, counts, per-level grades, validation."""
    validation = summary.get("validation") or {}
    out: dict[str, Any] = {
        "run_id": summary["run_id"],
        "model": f"{summary['model']['name']}@{summary['model_version']}",
        "snapshot_at": summary["snapshot_at"],
        "synthetic": summary["synthetic"],
        "venues": summary["counts"]["venues"],
        "grades": summary["counts"]["grades"],
    }
    for level, block in summary["levels"].items():
        out[f"{level} ({block['areas']} areas) area grades"] = block["area_grades"]
    if validation:
        out["validation labels"] = f"{validation['labels']} ({validation['measures']})"
        if validation.get("status", "ok") != "ok":
            out["validation"] = validation["reason"]
        else:
            out["validation auc"] = _round(validation["auc"])
            out["validation expert auc"] = _round(validation["expert_auc"])
            if validation.get("ceiling_auc") is not None:
                out["validation ceiling auc (generator's noiseless formula)"] = _round(
                    validation["ceiling_auc"]
                )
                out["validation ablation"] = {
                    k: _round(v)
                    for k, v in (validation.get("ablation") or {}).items()
                    if k != "generator_features"
                }
            if validation.get("auc_ci95"):
                out["validation auc 95% CI"] = [_round(x) for x in validation["auc_ci95"]]
            out["validation precision at top"] = validation["precision_at_top"]
    out["top units"] = [
        f"#{u['rank']} venue {u['venue_id']} {u['category']} {u['score']:.1f} {u['grade']}"
        for u in summary["top_units"][:5]
    ]
    if summary.get("report"):
        out["report"] = summary["report"]
    out["total_s"] = summary["timings_s"].get("total")
    return out


def assess_command(
    db: DbOption = None,
    model: ModelOption = "expert-ahp",
    report: ReportOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every venue as ONE recorded run: counts per grade and level, the high-risk
    units, and the predictive model's held-out validation (AUC, precision at the top,
    calibration)."""
    from firegrid.cli import emit, fail, resolve_settings
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.risk.service import assess

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        summary = assess(database, settings, model, report_dir=report, actor="cli")
    except DomainError as exc:
        fail(
            exc.message,
            code=2,
            details={"code": exc.code, **({"details": exc.details} if exc.details else {})},
        )
        return
    finally:
        database.dispose()
    emit(summary if as_json else _brief(summary), as_json)


def main() -> None:  # pragma: no cover - ``python -m firegrid.risk.cli`` until mounted
    typer.run(assess_command)


if __name__ == "__main__":  # pragma: no cover
    main()
