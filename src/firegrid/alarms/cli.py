"""``firegrid alarms``: list, stats, run the correlator and timers, test rules on a stream."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

alarms_app = typer.Typer(help="Monitoring centre: alarms, rules, timers.", no_args_is_help=True)
rules_app = typer.Typer(help="Correlation rules.", no_args_is_help=True)
alarms_app.add_typer(rules_app, name="rules")

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL; overrides FIREGRID_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _emit(data: Any, as_json: bool) -> None:
    from firegrid.cli import emit

    emit(data, as_json)


@alarms_app.command("list")
def list_command(
    db: DbOption = None,
    status: Annotated[str | None, typer.Option(help="Only alarms in this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List alarms, newest first."""
    from firegrid.accounts.principal import system_principal
    from firegrid.alarms.lifecycle import alarm_dict
    from firegrid.alarms.queries import list_alarms
    from firegrid.cli import resolve_settings
    from firegrid.core.db import Database

    database = Database(resolve_settings(db).database_url)
    try:
        with database.session() as session:
            rows = list_alarms(session, system_principal("cli"), status=status, limit=limit)
            items = [alarm_dict(a) for a in rows]
    finally:
        database.dispose()
    if as_json:
        _emit(items, True)
        return
    for item in items:
        typer.echo(
            f"#{item['alarm_id']} {item['kind']:<11} {item['status']:<12} "
            f"p{item['priority']} {item['venue_name'] or item['venue_id']} "
            f"events={item['event_count']} opened={item['opened_at']}"
            + (" forwarded" if item["forwarded"] else "")
        )


@alarms_app.command("stats")
def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """False-alarm rates, times to acknowledge and verify, top offending devices."""
    from firegrid.accounts.principal import system_principal
    from firegrid.alarms.stats import alarm_stats
    from firegrid.cli import resolve_settings
    from firegrid.core.db import Database

    database = Database(resolve_settings(db).database_url)
    try:
        with database.session() as session:
            data = alarm_stats(session, system_principal("cli"))
    finally:
        database.dispose()
    _emit(data, as_json)


@alarms_app.command("run")
def run_command(
    db: DbOption = None,
    timer_interval: Annotated[float, typer.Option(help="Seconds between timer passes.")] = 0.5,
    rules: Annotated[
        Path | None, typer.Option(help="Policy and rules YAML (default: the shipped file).")
    ] = None,
) -> None:
    """Run the correlator (event log consumer), timers and notifications until stopped."""
    from firegrid.alarms.consumer import run_alarm_services
    from firegrid.alarms.rules import load_document
    from firegrid.cli import resolve_settings
    from firegrid.core.db import Database
    from firegrid.core.logging import configure_logging

    settings = resolve_settings(db)
    configure_logging(settings.log_level, settings.log_json)
    policy, rule_list = (
        load_document(rules.read_text(encoding="utf-8")) if rules is not None else (None, None)
    )

    async def main() -> None:
        database = Database(settings.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_alarm_services(
                database,
                settings,
                stop,
                timer_interval_s=timer_interval,
                policy=policy,
                rules=rule_list,
            )
        finally:
            database.dispose()

    asyncio.run(main())


@rules_app.command("test")
def rules_test_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Recorded stream: one DeviceEvent JSON a line.", exists=True, dir_okay=False
        ),
    ],
    rules: Annotated[Path | None, typer.Option(help="Rules YAML (default: shipped).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the rules against a recorded stream and print the resulting alarms."""
    from firegrid.alarms.replay import replay_file
    from firegrid.cli import fail
    from firegrid.core.errors import DomainError

    try:
        alarms = replay_file(file, rules_file=rules, db_url=db)
    except DomainError as exc:
        fail(exc.message, 2, exc.details)
        return
    if as_json:
        typer.echo(json.dumps(alarms, ensure_ascii=False, indent=2, default=str))
        return
    for item in alarms:
        typer.echo(
            f"#{item['alarm_id']} {item['kind']:<11} {item['status']:<12} p{item['priority']} "
            f"venue={item['venue_id']} events={item['event_count']} "
            f"rules={','.join(item['rule_hits']) or '-'}"
        )
