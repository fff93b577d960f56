"""``firegrid incidents``: generate a year of calls, replay it, recommend units for a point,
and consume forwarded alarms. Mounted by the main CLI as ``firegrid incidents``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firegrid.core.cli import (
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    emit,
    open_database,
    progress,
    resolve_settings,
)
from firegrid.core.texts import TextCode

incidents_app = command_group(
    "Command and dispatch: generate and replay incidents, recommend units."
)


@incidents_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Output file (JSON lines).")],
    count: Annotated[int, typer.Option("--count", min=1, help="Number of calls.")] = 60_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    year: Annotated[int, typer.Option("--year", help="Calendar year of the calls.")] = 2025,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate a realistic year of calls on the city in the database."""
    from firegrid.dispatch.generate import generate_records, load_points, write_jsonl

    with open_database(db) as database, progress(f"generating {count:,} calls", quiet=quiet):
        points = load_points(database)
        report = write_jsonl(generate_records(points, count, seed, year), out)
    emit(report, as_json)


@incidents_app.command("replay")
def replay(
    file: Annotated[Path, typer.Argument(help="JSON lines from `generate`.", exists=True)],
    db: DbOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of simulated durations.")] = 0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Records per commit.")] = 500,
    limit: Annotated[int | None, typer.Option("--limit", help="Replay only the first N.")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Replay calls through intake, recommendation, dispatch, unit moves and close."""
    from firegrid.dispatch.replay import replay_file

    settings = resolve_settings(db)
    with open_database(db) as database, progress(f"replaying {file.name}", quiet=quiet):
        report = replay_file(database, settings, file, seed=seed, batch=batch, limit=limit)
    emit(report, as_json)


@incidents_app.command("recommend")
def recommend(
    at: Annotated[str, typer.Option("--at", help="LON,LAT of the incident (WGS-84).")],
    incident_type: Annotated[str, typer.Option("--type", help="Incident type.")],
    level: Annotated[int, typer.Option("--level", min=1, max=5, help="Level 1-5.")] = 1,
    category: Annotated[str, typer.Option("--category", help="Venue category.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recommend units of the whole city for a point, type and level."""
    from firegrid.core.errors import DomainError, ValidationFailed
    from firegrid.dispatch.plans import plan_for
    from firegrid.dispatch.recommend import available_units, recommend_units
    from firegrid.geo.cli import fail_cleanly, warn_skipped
    from firegrid.geo.public import GeoError
    from firegrid.geo.service import geo_context

    settings = resolve_settings(db)
    try:
        lon, lat = (float(v) for v in at.split(","))
    except ValueError:
        raise ValidationFailed(
            "--at must be LON,LAT",
            {"at": at},
            text=TextCode.VALIDATION_FORMAT,
            params={"field": "--at", "value": at, "expected": "LON,LAT"},
        ) from None
    with open_database(db) as database:
        try:
            context = geo_context(database, settings)
            with database.session() as session:
                plan = plan_for(session, incident_type, category, level)
                units = available_units(session, "/")
            engine = context.engine
            result = recommend_units(engine, plan, units, lon, lat, context.skipped).as_dict()
        except (DomainError, GeoError) as exc:
            fail_cleanly(exc)
    if as_json:
        emit(result, True)
        return
    warn_skipped(result["skipped"])
    for unit in result["units"]:
        typer.echo(
            f"{unit['call_sign']:<24} {unit['vehicle_type']:<10} ETA {unit['eta_s']:>7} s"
            f"  {unit['reason']}"
        )
    for missing in result["missing"]:
        typer.echo(f"missing: {missing['missing']} x {missing['requirement']}")


@incidents_app.command("consume-alarms")
def consume_alarms(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Turn the monitoring centre's forwarded alarms into incidents (run periodically)."""
    from firegrid.dispatch.consumers import consume_alarm_forwards
    from firegrid.dispatch.notify import deliver_pending

    with open_database(db) as database:
        with database.session() as session:
            report = consume_alarm_forwards(session).as_dict()
        report["notifications"] = deliver_pending(database)
    emit(report, as_json)
