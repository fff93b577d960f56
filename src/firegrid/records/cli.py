"""``firegrid analytics response`` and ``firegrid incidents report`` (mounted by the main CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    emit,
    fail,
    progress,
    resolve_settings,
)

analytics_app = typer.Typer(help="Response analytics (StatEngine-style).", no_args_is_help=True)


@analytics_app.command("response")
def response_command(
    by: Annotated[
        str, typer.Option("--by", help="station, unit, town, grid, type or hour (local time).")
    ] = "station",
    period: Annotated[
        str | None,
        typer.Option(
            "--period", help="2025, 2025-03, 2025-Q1 or 2025-03-01..2025-04-01 (local time)."
        ),
    ] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write an xlsx file.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Call processing, turnout, travel, first arrival and ERF p50/p90, 5-minute share,
    utilisation, concurrency and calls a station's own units could not serve."""
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.records.analytics import GROUPINGS, load_response_data, response_analytics
    from firegrid.records.period import parse_period

    if by not in GROUPINGS:
        fail(f"--by {by!r}: use one of {', '.join(GROUPINGS)}", EXIT_USAGE, {"by": by})
    try:
        chosen = parse_period(period) if period else None
    except DomainError as exc:
        fail(exc.message, EXIT_USAGE, exc.details, hint="e.g. --period 2025-03")
    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with progress("reading incidents", quiet=quiet or as_json) as advance:
            with database.session() as session:
                data = load_response_data(session, chosen)
            advance()
        table = response_analytics(data, by)
    finally:
        database.dispose()
    if xlsx is not None:
        from firegrid.records.export import analytics_xlsx

        xlsx.write_bytes(analytics_xlsx(table))
    if as_json:
        emit(table, True)
        return
    typer.echo(
        f"{'group':<24} {'calls':>6} {'1st p50':>8} {'1st p90':>8} {'ERF p90':>8} {'≤5min':>6}"
    )
    for row in [*table["rows"], {**table["totals"], "label": "total"}]:
        first = row["intervals"]["first_arrival_s"]
        erf = row["intervals"]["effective_response_force_s"]
        share = row["within_5min_share"]
        typer.echo(
            f"{str(row['label'])[:24]:<24} {row['calls']:>6} {_s(first['p50'])} {_s(first['p90'])}"
            f" {_s(erf['p90'])} {'' if share is None else f'{share:.0%}':>6}"
        )


def _s(value: float | None) -> str:
    return f"{'—' if value is None else f'{value:.0f}':>8}"


def report_command(
    incident_id: Annotated[int, typer.Argument(help="Incident id.", min=1)],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """An incident's record: intervals from the units' statuses, whether the venue's
    connected system alarmed before the 119 call, and the fire record (if filled in)."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.db import Database
    from firegrid.records.report import incident_report

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    from firegrid.core.errors import NotFound

    try:
        with database.session() as session:
            report = incident_report(session, system_principal("cli"), incident_id)
    except NotFound as exc:
        fail(exc.message, EXIT_USAGE, exc.details, error_code="not_found")
    finally:
        database.dispose()
    emit(report, as_json)
