"""The ``firegrid`` command line. Every command has ``--help``; data commands take ``--json``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from firegrid.core.cli import (
    DbOption,
    JsonOption,
    QuietOption,
    command_group,
    emit,
    fail,
    notice,
    open_database,
    progress,
    resolve_settings,
)
from firegrid.core.settings import get_settings

if TYPE_CHECKING:
    from firegrid.core.settings import Settings

__all__ = [  # the kit's names stay importable from here for older context CLIs
    "DbOption",
    "JsonOption",
    "app",
    "emit",
    "fail",
    "main",
    "resolve_settings",
]

app = command_group("firegrid: smart fire-safety platform for a whole city.")
db_app = command_group("Database schema commands.")
app.add_typer(db_app, name="db")


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
) -> None:
    """firegrid: smart fire-safety platform for a whole city.

    Exit codes: 0 ok, 1 failure, 2 usage or bad input, 3 not ready (no schema, no road
    network, a service out of reach). With --json an error is the envelope
    {"error": {code, message, details, hint}} on stdout; otherwise one line on stderr.
    """
    if debug:
        os.environ["FIREGRID_DEBUG"] = "1"


def _mount_contexts() -> None:
    """Each context contributes its own sub-commands."""
    from firegrid.accounts.cli import apikeys_app, users_app
    from firegrid.alarms.cli import alarms_app
    from firegrid.backup.cli import backup_command, restore_command
    from firegrid.dispatch.cli import incidents_app
    from firegrid.geo.cli import (
        coverage_command,
        hydrants_app,
        isochrones_command,
        roads_app,
        route_command,
    )
    from firegrid.gridlink.cli import gridlink_app
    from firegrid.ingest.cli import events_app, ingest_app, simulate_app
    from firegrid.ingest.commands.cli import devices_app, gb26875_app
    from firegrid.inspections.cli import inspections_app
    from firegrid.installations.cli import installations_app
    from firegrid.interop.cli import eido_command, link110_app
    from firegrid.planning.commands import plan_app  # plan_app with planapp's commands
    from firegrid.preplans.cli import preplans_app
    from firegrid.records.cli import analytics_app, report_command
    from firegrid.retention.cli import retention_app
    from firegrid.risk.cli import assess_command, risk_app
    from firegrid.sharing.cli import sharing_app

    app.add_typer(users_app, name="users")
    app.add_typer(apikeys_app, name="apikeys")
    app.add_typer(alarms_app, name="alarms")
    incidents_app.command("eido")(eido_command)
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(link110_app, name="link110")
    app.add_typer(gridlink_app, name="gridlink")
    app.add_typer(sharing_app, name="sharing")
    app.add_typer(inspections_app, name="inspections")
    app.add_typer(installations_app, name="installations")
    app.add_typer(preplans_app, name="preplans")
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(events_app, name="events")
    app.add_typer(simulate_app, name="simulate")
    app.add_typer(devices_app, name="devices")
    app.add_typer(gb26875_app, name="gb26875")
    app.add_typer(retention_app, name="retention")
    app.add_typer(roads_app, name="roads")
    app.add_typer(hydrants_app, name="hydrants")
    app.add_typer(plan_app, name="plan")
    app.command("route")(route_command)
    app.command("isochrones")(isochrones_command)
    app.command("coverage")(coverage_command)
    app.command("assess")(assess_command)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.add_typer(risk_app, name="risk")
    app.add_typer(analytics_app, name="analytics")
    incidents_app.command("report")(report_command)


_mount_contexts()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, revision: str = "heads") -> None:
    """Apply the schema migrations to the database."""
    from firegrid.core.migrate import upgrade

    settings = resolve_settings(db)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {_redact(settings.database_url)} is at {revision}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    migrate: Annotated[bool, typer.Option(help="Apply migrations first.")] = True,
    with_services: Annotated[
        bool,
        typer.Option(
            "--with-services/--api-only",
            help="Also run device ingest (GB/T 26875.3 on --gb26875) and the alarm "
            "services in this process.",
        ),
    ] = False,
    gb26875: Annotated[
        str, typer.Option(help="HOST:PORT of the embedded GB/T 26875.3 listener.")
    ] = "127.0.0.1:2687",
    consume: Annotated[
        bool,
        typer.Option(
            "--consume-changes/--no-consume-changes",
            help="Run the change consumers (risk re-scores changed venues, dispatch opens "
            "incidents for forwarded fires) in this process.",
        ),
    ] = True,
) -> None:
    """Serve the API (and the console) over HTTP."""
    from firegrid.api import shutdown
    from firegrid.api.app import create_app
    from firegrid.core.collector import settle_for_service
    from firegrid.core.logging import configure_logging
    from firegrid.core.migrate import upgrade

    settings = resolve_settings(db)
    configure_logging(settings.log_level, settings.log_json)
    if migrate:
        upgrade(settings.database_url)
    embedded = None
    if with_services:
        from firegrid.ingest.cli import host_port

        embedded = host_port(gb26875, "--gb26875")
    app_ = create_app(settings, embedded_gb26875=embedded, consume_changes=consume)
    settle_for_service()
    shutdown.run(app_, host=host, port=port, log_config=None)  # exits with open streams


@app.command()
def demo(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same city.")] = 7,
    scale: Annotated[
        float, typer.Option(help="Venue multiplier: 1 = 50,000 venues, 20 = 1 M.")
    ] = 1.0,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and exit.")] = False,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild even if the database already holds a city.")
    ] = False,
    link110: Annotated[
        bool,
        typer.Option(
            "--link110/--no-link110",
            help="Also run the simulated district 110 centre (firegrid link110 peer) that the "
            "110 link delivers to and that transfers fire calls to 119, and the simulated "
            "city grid platform (firegrid gridlink peer).",
        ),
    ] = True,
) -> None:
    """Build the seeded synthetic Dongguan-shaped demo city, then serve it."""
    from firegrid.demo.run import build_demo

    settings = resolve_settings(db)
    if settings.is_production:
        fail("the demo city is refused in production mode (FIREGRID_ENV=production)")
    with progress("building the demo city", quiet=quiet):
        result = build_demo(settings, seed=seed, scale=scale, rebuild=rebuild, log=not as_json)
    emit(result, as_json)
    if no_serve:
        return
    notice(
        f"serving http://{host}:{port}/ (device ingest on GB/T 26875.3 127.0.0.1:2687); "
        "try: firegrid simulate devices --target 127.0.0.1:2687 --protocol gb26875 "
        "--count 20 --rate 20 --duration 60 --fire-ratio 0.05"
    )
    simulators = _start_demo_simulators(settings, f"http://{host}:{port}") if link110 else []
    try:  # also on SIGTERM: shutdown.run turns it into SystemExit(143)
        serve(db=settings.database_url, host=host, port=port, migrate=False, with_services=True)
    finally:
        from firegrid.demo.centre110 import stop_centre

        for process in simulators:
            stop_centre(process)


def _start_demo_simulators(settings: Settings, api_url: str) -> list[subprocess.Popen[bytes]]:
    """The demo's simulated 110 centre and grid platform (each said, or why not)."""
    from firegrid.demo.centre110 import CentreNotStarted, start_centre, start_grid_platform

    started: list[subprocess.Popen[bytes]] = []
    with open_database(settings.database_url) as database:
        try:
            started.append(start_centre(settings, database, api_url))
            notice(
                "110 link: a simulated district 110 centre listens on 127.0.0.1:8110 "
                "(its state: http://127.0.0.1:8110/state); it transfers a fire call to 119 "
                "every 2 minutes; sign in as police (the 110 liaison) for the remote seat"
            )
        except CentreNotStarted as why:
            notice(f"110 link: {why}")
        try:
            started.append(start_grid_platform(settings, database, api_url))
            notice(
                "grid link: a simulated city grid platform listens on 127.0.0.1:8120 "
                "(its state: http://127.0.0.1:8120/state); it acknowledges hazards and tasks"
            )
        except CentreNotStarted as why:
            notice(f"grid link: {why}")
    return started


@app.command("import")
def import_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="jurisdictions, venues, stations, hydrants, devices, … or a bulk kind: "
            "addresses, population, buildings, inspections, hazards (streamed)."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="GeoJSON, CSV or xlsx file.", exists=True)],
    crs: Annotated[str, typer.Option(help="CRS of the file: wgs84, gcj02 or bd09.")] = "wgs84",
    mode: Annotated[
        str,
        typer.Option(
            help="insert (every row new), upsert (a stored row with the same code is updated) "
            "or replace (upsert, then delete the stored rows the file does not list)."
        ),
    ] = "insert",
    encoding: Annotated[
        str,
        typer.Option(help="CSV encoding: auto (UTF-8, else GB18030/GBK), utf-8 or gb18030."),
    ] = "auto",
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Import a file, all or nothing: a bad file imports nothing and lists each bad row."""
    if kind == "preplans":  # a zip of plans with their attachments
        from firegrid.preplans.cli import import_preplans

        import_preplans(file, db, as_json)
        return
    from firegrid.places.importexport import import_file

    with (
        open_database(db) as database,
        progress(f"importing {kind} from {file.name}", quiet=quiet, unit="rows") as advance,
    ):
        report = import_file(
            database, kind, file, crs=crs, mode=mode, encoding=encoding, progress=advance
        )
    emit(report, as_json)


@app.command("export")
def export_command(
    kind: Annotated[
        str, typer.Argument(help="jurisdictions, venues, stations, hydrants, devices, …")
    ],
    file: Annotated[Path, typer.Argument(help="Output: .geojson, .csv or .xlsx.")],
    crs: Annotated[str, typer.Option(help="CRS of the written coordinates.")] = "wgs84",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a kind of record to GeoJSON, CSV or xlsx (format from the file suffix)."""
    if kind == "preplans":  # a zip of plans with their attachments and an xlsx
        from firegrid.preplans.cli import export_preplans

        export_preplans(file, db, as_json)
        return
    from firegrid.places.importexport import export_file

    with open_database(db) as database:
        count = export_file(database, kind, file, crs=crs)
    emit({"kind": kind, "file": str(file), "rows": count}, as_json)


changes_app = command_group(
    "The change stream: what each context changed, and its consumers in other contexts."
)
app.add_typer(changes_app, name="changes")


@changes_app.command("list")
def changes_list(
    since: Annotated[int, typer.Option(help="Only changes with an id above this cursor.")] = 0,
    kind: Annotated[str | None, typer.Option(help="Only this kind, e.g. venue.changed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Committed changes after a cursor, oldest first, with the consumers' cursors."""
    from sqlalchemy import select

    from firegrid.core.changes import ChangeCursor, changes_after

    with open_database(db) as database, database.session() as session:
        items = [
            c.as_dict()
            for c in changes_after(session, since, kinds={kind} if kind else None, limit=limit)
        ]
        cursors = {c.consumer: c.position for c in session.scalars(select(ChangeCursor))}
    emit(
        {"changes": items, "cursors": cursors},
        as_json,
        lambda data: (
            "\n".join(
                [
                    *(
                        f"{c['id']:>8}  {c['occurred_at']}  {c['kind']:<16} {c['key']:<10} "
                        f"{c['actor']}: {c['cause']}"
                        for c in data["changes"]
                    ),
                    *(f"cursor {name}: {position}" for name, position in data["cursors"].items()),
                ]
            )
            or f"no changes after {since}"
        ),
    )


@changes_app.command("consume")
def changes_consume(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Run every change consumer once over what is pending (cron, scripts, tests)."""
    from firegrid.consumers import change_consumers
    from firegrid.core.changes import consume_changes

    settings = resolve_settings(db)
    with open_database(db) as database:
        reports = [
            consume_changes(database, settings, consumer).as_dict()
            for consumer in change_consumers()
        ]
    if any(report["failed"] for report in reports):
        fail("a change consumer failed (see the log); its batch is retried next time", 1, reports)
    emit(
        reports,
        as_json,
        lambda rows: "\n".join(
            f"{r['consumer']}: handled {r['handled']}, cursor {r['position']}" for r in rows
        ),
    )


@changes_app.command("run")
def changes_run(
    db: DbOption = None,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 1.0,
) -> None:
    """Run every change consumer until stopped (a services process of its own)."""
    import signal
    import threading

    from firegrid.consumers import change_consumers
    from firegrid.core.changes import run_consumers
    from firegrid.core.logging import configure_logging

    settings = resolve_settings(db)
    configure_logging(settings.log_level, settings.log_json)
    consumers = change_consumers()
    notice(
        f"change consumers running on {_redact(settings.database_url)}: "
        + ", ".join(c.name for c in consumers)
        + "; Ctrl-C stops"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with open_database(db) as database:
        run_consumers(database, settings, consumers, stop, interval_s=interval)


#: Settings classes of the contexts ("module:Class"), listed after the core ``Settings``.
CONTEXT_SETTINGS: tuple[str, ...] = ("firegrid.alarms.settings:AlarmSettings",)


def settings_rows() -> dict[str, dict[str, Any]]:
    """Every setting (core, then each context's), keyed by its variable's name without
    ``FIREGRID_`` in lower case (``database_url``, ``alarms_webhook_url``)."""
    from importlib import import_module

    from pydantic_settings import BaseSettings

    sections: list[BaseSettings] = [get_settings()]
    for spec in CONTEXT_SETTINGS:
        module_name, _, attribute = spec.partition(":")
        sections.append(getattr(import_module(module_name), attribute)())
    rows: dict[str, dict[str, Any]] = {}
    for section in sections:
        prefix = str(section.model_config.get("env_prefix", ""))
        for name, field in type(section).model_fields.items():
            env = f"{prefix}{name}".upper()
            rows[env.removeprefix("FIREGRID_").lower()] = {
                "value": "***" if "secret" in name else getattr(section, name),
                "env": env,
                "description": field.description,
            }
    return rows


@app.command("settings")
def show_settings(as_json: JsonOption = False) -> None:
    """Show every setting (core and each context's) with its current value and description
    (secrets hidden)."""
    emit(settings_rows(), as_json)


def main() -> None:
    """The console entry. Every error a user can meet is one line with a hint (or the JSON
    envelope with ``--json``), never a traceback unless ``--debug``/``FIREGRID_DEBUG=1``:
    the groups made by :func:`firegrid.core.cli.command_group` keep that contract."""
    app(prog_name="firegrid")


if __name__ == "__main__":  # pragma: no cover
    main()
