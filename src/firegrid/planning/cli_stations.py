"""``firegrid plan stations``: where the next stations go, existing stations fixed open."""

from __future__ import annotations

from pathlib import Path
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


def stations_command(
    model: Annotated[
        str, typer.Option("--model", help="lscp | mclp | pmedian | pcenter | backup | mexclp")
    ] = "mclp",
    add: Annotated[int, typer.Option("--add", help="New sites (P); not used by lscp.")] = 5,
    minutes: Annotated[float, typer.Option("--minutes", help="Coverage threshold T.")] = 5.0,
    candidates: Annotated[
        Path | None,
        typer.Option("--candidates", help="Candidate sites: CSV, GeoJSON or xlsx (lon, lat)."),
    ] = None,
    spacing_m: Annotated[
        float | None,
        typer.Option("--spacing", help="Grid candidates: road nodes every N m (0: none)."),
    ] = 1000.0,
    weighting: Annotated[
        str,
        typer.Option("--weighting", help="risk_occupancy | risk | occupancy | uniform"),
    ] = "risk_occupancy",
    cell_m: Annotated[
        float, typer.Option("--cell", help="Demand cells of N m (0: one point per venue).")
    ] = 1000.0,
    incidents: Annotated[
        bool, typer.Option("--incidents", help="Weight demand by the incident history too.")
    ] = False,
    share: Annotated[
        float, typer.Option("--share", help="LSCP: share of the demand to cover.")
    ] = 1.0,
    busy: Annotated[
        float | None,
        typer.Option("--busy", help="MEXCLP busy fraction (default: from dispatch history)."),
    ] = None,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the exact solver.")
    ] = 60.0,
    save: Annotated[bool, typer.Option("--save", help="Store the plan (prints plan_id).")] = False,
    name: Annotated[str, typer.Option("--name", help="Name of the stored plan.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Where the next stations go: sites, objective, bound, gap, optimal, coverage
    before/after (the existing stations fixed open; road travel times)."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.db import Database
    from firegrid.planning.stations import StationParams, plan_stations
    from firegrid.planning.store import save_plan

    params = StationParams(
        model=model,
        add=add,
        minutes=minutes,
        spacing_m=spacing_m or None,
        candidates_file=str(candidates) if candidates else None,
        weighting=weighting,
        cell_m=cell_m or None,
        incidents=incidents,
        coverage_share=share,
        busy_fraction=busy,
        time_limit_s=time_limit_s,
    )
    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with progress("planning stations", quiet=quiet), planning_errors(as_json):
            result = plan_stations(database, settings, params)
        if save:
            with database.session() as session:
                plan = save_plan(session, system_principal("cli"), result, name)
                result = {"plan_id": plan.id, **result}
    finally:
        database.dispose()
    if as_json:
        emit(result, True)
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    cov = result["coverage"]
    if "plan_id" in result:
        typer.echo(f"plan {result['plan_id']} stored")
    typer.echo(
        f"{result['model']}: {len(result['sites'])} new site(s); objective {result['objective']}"
        f" bound {result['bound']} gap {result['gap']} optimal {result['optimal']}"
    )
    for site in result["sites"]:
        typer.echo(
            f"  {site['code']:<12} {site['lon']:.6f},{site['lat']:.6f}  node {site['node']}"
            f"  district weight {site['district']['weight']}"
        )
    typer.echo(
        f"within {cov['minutes']} min: before {cov['before']['covered_share']:.1%}"
        f" after {cov['after']['covered_share']:.1%}"
    )
