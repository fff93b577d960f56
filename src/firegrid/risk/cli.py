"""``firegrid assess``: one recorded assessment run (and the HTML report).

Mounted by :mod:`firegrid.cli` as ``app.command("assess")(assess_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import DbOption, QuietOption, emit, open_database, progress, resolve_settings

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
        out["validation auc"] = round(validation["auc"], 3)
        out["validation expert auc"] = round(validation["expert_auc"], 3)
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
    quiet: QuietOption = False,
) -> None:
    """Score every venue as ONE recorded run: counts per grade and level, the high-risk
    units, and the predictive model's held-out validation (AUC, precision at the top,
    calibration)."""
    from firegrid.risk.service import assess

    settings = resolve_settings(db)
    with open_database(db) as database, progress("assessing every venue", quiet=quiet):
        summary = assess(database, settings, model, report_dir=report, actor="cli")
    emit(summary if as_json else _brief(summary), as_json)
