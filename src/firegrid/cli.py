"""The ``firegrid`` command line. Every command has ``--help``; data commands take ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import (  # re-exported for older context CLIs; new code imports core.cli
    EXIT_NOT_READY,
    CliError,
    DbOption,
    JsonOption,
    debug_enabled,
    emit,
    fail,
    report_error,
    resolve_settings,
)
from firegrid.core.settings import get_settings

app = typer.Typer(
    help="firegrid: smart fire-safety platform for a whole city.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _mount_contexts() -> None:
    """Each context contributes its own sub-commands."""
    from firegrid.accounts.cli import apikeys_app, users_app
    from firegrid.alarms.cli import alarms_app
    from firegrid.dispatch.cli import incidents_app
    from firegrid.geo.cli import (
        coverage_command,
        hydrants_app,
        isochrones_command,
        roads_app,
        route_command,
    )
    from firegrid.ingest.cli import events_app, ingest_app, simulate_app
    from firegrid.ingest.commands.cli import devices_app, gb26875_app
    from firegrid.inspections.cli import inspections_app
    from firegrid.records.cli import analytics_app, report_command
    from firegrid.retention.cli import retention_app
    from firegrid.risk.cli import assess_command

    app.add_typer(users_app, name="users")
    app.add_typer(apikeys_app, name="apikeys")
    app.add_typer(alarms_app, name="alarms")
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(inspections_app, name="inspections")
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(events_app, name="events")
    app.add_typer(simulate_app, name="simulate")
    app.add_typer(devices_app, name="devices")
    app.add_typer(gb26875_app, name="gb26875")
    app.add_typer(retention_app, name="retention")
    app.add_typer(roads_app, name="roads")
    app.add_typer(hydrants_app, name="hydrants")
    app.command("route")(route_command)
    app.command("isochrones")(isochrones_command)
    app.command("coverage")(coverage_command)
    app.command("assess")(assess_command)
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
) -> None:
    """Serve the API (and the console) over HTTP."""
    from firegrid.api import shutdown
    from firegrid.api.app import create_app
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
    app_ = create_app(settings, embedded_gb26875=embedded)
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
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild even if the database already holds a city.")
    ] = False,
) -> None:
    """Build the seeded synthetic Dongguan-shaped demo city, then serve it."""
    from firegrid.demo.run import build_demo

    settings = resolve_settings(db)
    if settings.is_production:
        fail("the demo city is refused in production mode (FIREGRID_ENV=production)")
    result = build_demo(settings, seed=seed, scale=scale, rebuild=rebuild, log=not as_json)
    emit(result, as_json)
    if no_serve:
        return
    typer.echo(
        f"serving http://{host}:{port}/ (device ingest on GB/T 26875.3 127.0.0.1:2687); "
        "try: firegrid simulate devices --target 127.0.0.1:2687 --protocol gb26875 "
        "--count 20 --rate 20 --duration 60 --fire-ratio 0.05",
        err=True,
    )
    serve(db=settings.database_url, host=host, port=port, migrate=False, with_services=True)


@app.command("import")
def import_command(
    kind: Annotated[
        str, typer.Argument(help="jurisdictions, venues, stations, hydrants, devices, …")
    ],
    file: Annotated[Path, typer.Argument(help="GeoJSON, CSV or xlsx file.", exists=True)],
    crs: Annotated[str, typer.Option(help="CRS of the file: wgs84, gcj02 or bd09.")] = "wgs84",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a file, all or nothing: a bad file imports nothing and lists each bad row."""
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.places.importexport import import_file

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        report = import_file(database, kind, file, crs=crs)
    except DomainError as exc:
        typer.echo(json.dumps(exc.envelope(), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    finally:
        database.dispose()
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
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.places.importexport import export_file

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        count = export_file(database, kind, file, crs=crs)
    except DomainError as exc:
        typer.echo(json.dumps(exc.envelope(), ensure_ascii=False, indent=2), err=True)
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    emit({"kind": kind, "file": str(file), "rows": count}, as_json)


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


def _missing_schema(exc: BaseException) -> str | None:
    """The missing table's message when ``exc`` says the database was never migrated."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    orig = exc.orig
    text = str(orig)
    if "no such table" in text or getattr(orig, "sqlstate", None) == "42P01":
        return text.splitlines()[0] if text else type(orig).__name__
    return None


def main() -> None:
    """The console entry: every error a user can meet is one line with a hint (or the JSON
    envelope with ``--json``), never a traceback unless ``FIREGRID_DEBUG=1``. A database
    without firegrid's schema is exit 3 (not ready), whichever command met it."""
    from firegrid.core.errors import DomainError

    try:
        app(prog_name="firegrid")
    except CliError as exc:
        report_error(exc)
        raise SystemExit(exc.exit_code) from None
    except DomainError as exc:
        if debug_enabled():
            raise
        report_error(CliError(exc.message, code=exc.code, details=exc.details, exit_code=2))
        raise SystemExit(2) from None
    except Exception as exc:
        missing = _missing_schema(exc)
        if missing is None or debug_enabled():
            raise
        report_error(
            CliError(
                f"the database has no firegrid schema ({missing})",
                hint="run `firegrid db upgrade` with the same --db or FIREGRID_DATABASE_URL",
                exit_code=EXIT_NOT_READY,
                code="not_ready",
            )
        )
        raise SystemExit(EXIT_NOT_READY) from None


if __name__ == "__main__":  # pragma: no cover
    main()
