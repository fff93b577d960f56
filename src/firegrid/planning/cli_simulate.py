"""``firegrid plan simulate`` and ``firegrid plan list``: a plan against a year of calls,
and the stored plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    emit,
    progress,
    resolve_settings,
)
from firegrid.planning.cli_errors import fail_with, planning_errors


def simulate_command(
    plan: Annotated[str, typer.Option("--plan", help="A stored plan's id, or a plan file (JSON).")],
    calls: Annotated[
        Path, typer.Option("--calls", help="Calls (JSON lines of `firegrid incidents generate`).")
    ],
    seed: Annotated[int, typer.Option("--seed", help="Seed of simulated durations.")] = 0,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N calls.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Replay the calls without and with the plan's new stations; before/after side by side
    (a stored plan keeps the simulation)."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.db import Database
    from firegrid.core.errors import NotFound
    from firegrid.planning.simulate import read_plan_file, simulate_plan
    from firegrid.planning.store import attach_simulation, get_plan

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    actor = system_principal("cli")
    try:
        plan_id: int | None = int(plan) if plan.isdigit() else None
        if plan_id is not None:
            with database.session() as session:
                try:
                    result = dict(get_plan(session, plan_id, actor).result)
                except NotFound as err:
                    fail_with(
                        as_json, err.message, EXIT_USAGE, err.details, hint="firegrid plan list"
                    )
        else:
            path = Path(plan)
            if not path.is_file():
                fail_with(as_json, f"no plan {plan!r}: give a plan id or a plan file", EXIT_USAGE)
            result = read_plan_file(path)
        with progress("simulating before and after", quiet=quiet), planning_errors(as_json):
            report = simulate_plan(database, settings, result, calls, seed=seed, limit=limit)
        if plan_id is not None:
            with database.session() as session:
                attach_simulation(session, actor, get_plan(session, plan_id, actor), report)
            report = {"plan_id": plan_id, **report}
    finally:
        database.dispose()
    if as_json:
        emit(report, True)
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    typer.echo(f"{'figure':<28} {'before':>12} {'after':>12}")
    for key, row in report["comparison"].items():
        typer.echo(f"{key:<28} {row['before']!s:>12} {row['after']!s:>12}")


def list_command(
    kind: Annotated[
        str | None, typer.Option("--kind", help="stations | hydrants | logistics")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The stored plans, newest first."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.db import Database
    from firegrid.planning.store import list_plans

    database = Database(resolve_settings(db).database_url)
    try:
        with database.session() as session:
            items = list_plans(session, system_principal("cli"), kind)
    finally:
        database.dispose()
    if as_json:
        emit({"items": items}, True)
        return
    for item in items:
        typer.echo(
            f"{item['id']:>5} {item['kind']:<10} {item['model']:<8} sites {item['sites']:<4}"
            f" optimal {item['optimal']!s:<5} {item['created_at']} {item['name']}"
        )
