"""``firegrid plan hydrants`` and ``firegrid plan logistics``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    DbOption,
    JsonOption,
    QuietOption,
    emit,
    progress,
    resolve_settings,
)
from firegrid.planning.cli_errors import planning_errors

SaveOption = Annotated[bool, typer.Option("--save", help="Store the plan (prints plan_id).")]


def _run(
    what: str, make: Any, db: str | None, as_json: bool, quiet: bool, save: bool
) -> dict[str, Any]:
    from firegrid.accounts.public import system_principal
    from firegrid.core.db import Database
    from firegrid.planning.store import save_plan

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with progress(what, quiet=quiet), planning_errors(as_json):
            result: dict[str, Any] = make(database, settings)
        if save:
            with database.session() as session:
                plan = save_plan(session, system_principal("cli"), result)
                result = {"plan_id": plan.id, **result}
    finally:
        database.dispose()
    return result


def hydrants_command(
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the exact solver per cluster.")
    ] = 60.0,
    save: SaveOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """New hydrants for the GB 50974 gaps by an optimal cover, against the greedy count."""
    from firegrid.planning.hydrants import plan_hydrants

    result = _run(
        "covering the hydrant gaps",
        lambda database, settings: plan_hydrants(database, settings, time_limit_s=time_limit_s),
        db,
        as_json,
        quiet,
        save,
    )
    if as_json:
        emit(result, True)
        return
    typer.echo(
        f"hydrants: {result['hydrants_optimal']} (optimal {result['optimal']}) vs greedy "
        f"{result['hydrants_greedy']}; {result['venues_covered_by_plan']} venues brought "
        f"within reach, {result['venues_unfixable']} unfixable"
    )


def logistics_command(
    p: Annotated[int, typer.Option("--p", min=1, help="Number of logistics points.")],
    spacing_m: Annotated[
        float, typer.Option("--spacing", help="Grid candidates: road nodes every N m.")
    ] = 2000.0,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the exact solver.")
    ] = 60.0,
    save: SaveOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Logistics points by p-median over the stations they serve (vehicles as weights)."""
    from firegrid.planning.logistics import plan_logistics

    result = _run(
        "siting logistics points",
        lambda database, settings: plan_logistics(
            database, settings, p, spacing_m=spacing_m, time_limit_s=time_limit_s
        ),
        db,
        as_json,
        quiet,
        save,
    )
    if as_json:
        emit(result, True)
        return
    typer.echo(
        f"logistics: {p} points, weighted time {result['after']['weighted_total_s']} s "
        f"(existing {result['before']['points']}: {result['before']['weighted_total_s']} s); "
        f"optimal {result['optimal']}"
    )
    for site in result["sites"]:
        typer.echo(
            f"  {site['code']:<10} {site['lon']:.6f},{site['lat']:.6f} serves "
            f"{len(site['serves'])} station(s)"
        )
