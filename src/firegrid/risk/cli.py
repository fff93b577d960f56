"""``firegrid assess``: one recorded assessment run (and the HTML report); ``firegrid risk``:
the regular assessment (``schedule status``, ``schedule run-due``, ``schedule run``) and
``changes`` since the previous run.

Mounted by :mod:`firegrid.cli`: ``app.command("assess")(assess_command)`` and
``app.add_typer(risk_app, name="risk")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    emit,
    fail,
    progress,
    resolve_settings,
)

ModelOption = Annotated[
    str, typer.Option("--model", help="Risk model of the catalogue (e.g. expert-ahp).")
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report", help="Write the HTML report (maps, tables, charts) to DIR/index.html."
    ),
]


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
    population = summary.get("area_population")
    if population:
        out["population register"] = (
            f"{population['register_rows']} rows, as of {population['as_of'] or '—'}"
        )
        if population.get("register_nested"):
            out["population register rows nested (own rows and rows inside)"] = population[
                "register_nested"
            ]
        out["population sources (register / tree / none)"] = {
            level: f"{b['from_register']} / {b['from_tree']} / {b['no_population']}"
            + (f" ({b['register_partial']} partly covered)" if b["register_partial"] else "")
            for level, b in population["levels"].items()
        }
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
    quiet: QuietOption = False,
) -> None:
    """Score every venue as ONE recorded run: venue grades, area grades at every level (the
    area method, with drivers), the high-risk units, and the validation — which says what
    its labels are (synthetic: recovery of the synthetic process; imported fire records:
    a time split with confidence intervals)."""
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.risk.service import assess

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with progress("assessing every venue and area", quiet=quiet or as_json):
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


risk_app = command_group("Regular risk assessment (定期评估) and what changed.")
schedule_app = command_group("The schedules of risk/schedule.yaml.")
risk_app.add_typer(schedule_app, name="schedule")


@schedule_app.command("status")
def schedule_status_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every schedule's stored next run time and its last run."""
    from firegrid.core.db import Database
    from firegrid.risk.scheduler import load_schedule, schedule_status

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        emit(schedule_status(database, load_schedule(settings.risk_schedule))["schedules"], as_json)
    finally:
        database.dispose()


@schedule_app.command("run-due")
def schedule_run_due_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """One pass: run every schedule that is due now (for cron; the services process does
    this every minute)."""
    from firegrid.core.db import Database
    from firegrid.risk.scheduler import run_due

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        result = run_due(database, settings)
    finally:
        database.dispose()
    emit({"ran": result.ran, "next": result.pending}, as_json)
    if any(r["error"] for r in result.ran):
        raise typer.Exit(1)


@schedule_app.command("run")
def schedule_run_command(
    db: DbOption = None,
    interval_s: Annotated[
        float, typer.Option("--interval-s", help="Seconds between passes.", min=1.0)
    ] = 60.0,
) -> None:
    """Run the schedules until interrupted (the services process for risk)."""
    import asyncio
    import contextlib
    import signal

    from firegrid.core.db import Database
    from firegrid.risk.scheduler import run_risk_schedule

    settings = resolve_settings(db)
    database = Database(settings.database_url)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run_risk_schedule(database, settings, stop, interval_s=interval_s)

    try:
        asyncio.run(main())
    finally:
        database.dispose()


@risk_app.command("changes")
def changes_command(
    db: DbOption = None,
    run_id: Annotated[int | None, typer.Option("--run", help="Run id (default: latest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """What changed since the previous run: areas and venues whose grade moved."""
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.risk.area_service import changes_since_previous

    database = Database(resolve_settings(db).database_url)
    try:
        with database.session() as session:
            result = changes_since_previous(session, run_id=run_id)
    except DomainError as exc:
        fail(exc.message, code=2, error_code=exc.code, details=exc.details)
    finally:
        database.dispose()
    emit(result, as_json)


def main() -> None:  # pragma: no cover - ``python -m firegrid.risk.cli`` until mounted
    typer.run(assess_command)


if __name__ == "__main__":  # pragma: no cover
    main()
