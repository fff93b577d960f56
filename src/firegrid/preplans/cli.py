"""``firegrid preplans list|sheet`` and the ``preplans`` kind of ``firegrid import|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    EXIT_NOT_READY,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    QuietOption,
    emit,
    fail,
    progress,
    resolve_settings,
)

preplans_app = typer.Typer(
    help="Digital pre-incident plans (数字化灭火救援预案).", no_args_is_help=True
)


def _fail_domain(err: Any) -> None:
    code = EXIT_NOT_READY if getattr(err, "status", 400) == 503 else EXIT_USAGE
    hint = (err.details or {}).get("hint") if isinstance(err.details, dict) else None
    fail(err.message, code, err.details, hint=hint, error_code=err.code)


@preplans_app.command("list")
def list_command(
    due: Annotated[bool, typer.Option("--due", help="Only plans whose review is overdue.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plans with their published version and review due date (city-wide)."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.core.db import Database
    from firegrid.preplans import service

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        now = utcnow()
        with database.session() as session:
            rows = service.list_plans(
                session, system_principal("cli"), due=due, now=now, limit=1_000_000
            )
            items = [service.plan_dict(p, v, now) for p, v in rows]
    finally:
        database.dispose()
    if as_json:
        emit({"items": items, "count": len(items)}, True)
        return
    for item in items:
        due_text = item["review_due_at"] or "never published"
        flag = " OVERDUE" if item["review_overdue"] else ""
        typer.echo(
            f"{item['venue_code']}\t{item['venue_name']}\tv{item['published_version'] or '-'}"
            f"\tdue {due_text}{flag}"
        )
    typer.echo(f"{len(items)} plan(s)")


@preplans_app.command("sheet")
def sheet_command(
    venue: Annotated[str, typer.Argument(help="Venue code (or id).")],
    out: Annotated[Path, typer.Option("--out", help="FILE.pdf or FILE.html.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Print the first-due sheet of a venue's plan (published, else the latest version)."""
    from sqlalchemy import or_, select

    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.geo.service import geo_context
    from firegrid.places.public import Venue
    from firegrid.preplans import live, service, sheet
    from firegrid.preplans.models import Preplan

    suffix = out.suffix.lower()
    if suffix not in {".pdf", ".html"}:
        fail(f"--out must end in .pdf or .html, not {out.name!r}", EXIT_USAGE)
    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        with progress("first-due sheet", quiet=quiet or as_json):
            font = sheet.cjk_font(settings.cjk_font) if suffix == ".pdf" else None
            try:
                context = geo_context(database, settings)
            except DomainError:
                context = None
            with database.session() as session:
                ident = int(venue) if venue.isdigit() else -1
                row = session.scalars(
                    select(Venue).where(or_(Venue.code == venue, Venue.id == ident))
                ).first()
                if row is None:
                    fail(f"no venue {venue!r}", EXIT_USAGE, hint="firegrid preplans list")
                plan = session.scalars(select(Preplan).where(Preplan.venue_id == row.id)).first()
                if plan is None:
                    fail(
                        f"venue {venue} has no pre-plan", EXIT_USAGE, hint="firegrid preplans list"
                    )
                version = service.published_version(session, plan)
                if version is None:
                    version = service.list_versions(session, plan)[0]
                data = live.live_plan(session, plan, row, context, version=version)
            if font is not None:
                out.write_bytes(sheet.render_pdf(data, font))
            else:
                out.write_text(sheet.render_html(data), encoding="utf-8")
    except DomainError as err:
        _fail_domain(err)
    finally:
        database.dispose()
    emit(
        {
            "file": str(out),
            "venue": venue,
            "version": data["version"]["version"] if data["version"] else None,
            "hydrants": len(data["hydrants"]),
            "open_alarms": len(data["open_alarms"]),
        },
        as_json,
    )


def import_preplans(file: Path, db: str | None, as_json: bool) -> None:
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.preplans.io import import_zip

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        report = import_zip(database, settings.data_dir, file.read_bytes())
    except DomainError as err:
        _fail_domain(err)
    finally:
        database.dispose()
    emit({"kind": "preplans", "file": str(file), **report}, as_json)


def export_preplans(file: Path, db: str | None, as_json: bool) -> None:
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.preplans.io import export_zip

    if file.suffix.lower() != ".zip":
        fail(f"preplans export writes a .zip, not {file.name!r}", EXIT_USAGE)
    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        report = export_zip(database, settings.data_dir, file)
    except DomainError as err:
        _fail_domain(err)
    finally:
        database.dispose()
    emit({"kind": "preplans", **report}, as_json)
