"""``firegrid inspections``: list inspections and hazards, what is overdue, a venue summary.

Mounted by :mod:`firegrid.cli` as ``app.add_typer(inspections_app, name="inspections")``.
The commands act as the command-line operator (:func:`system_principal`, whole city).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

inspections_app = typer.Typer(
    help="Inspections and hazards (检查 / 隐患整改): list, overdue, venue summary.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL; overrides FIREGRID_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
LimitOption = Annotated[int, typer.Option(help="At most this many.", min=1)]
VenueOption = Annotated[int | None, typer.Option("--venue", help="Only this venue (id).")]

T = TypeVar("T")


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    from firegrid.cli import resolve_settings
    from firegrid.core.db import Database

    database = Database(resolve_settings(db).database_url)
    try:
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def _run(db: str | None, work: Callable[[Session], T]) -> T:
    from firegrid.core.errors import DomainError

    try:
        with _session(db) as session:
            return work(session)
    except DomainError as exc:
        from firegrid.cli import fail

        fail(exc.message, details=exc.details)
        raise  # unreachable: fail exits


def _emit(data: Any, as_json: bool) -> None:
    from firegrid.cli import emit

    emit(data, as_json)


def _jsonable(data: Any) -> Any:
    from firegrid.accounts.audit import jsonable

    return jsonable(data)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    from firegrid.core.clock import ensure_aware

    try:
        return ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        from firegrid.cli import fail

        fail(f"--{name} must be an ISO 8601 time", details={name: value})
        raise


@inspections_app.command("list")
def list_command(
    db: DbOption = None,
    venue: VenueOption = None,
    since: Annotated[
        str | None, typer.Option(help="Inspected at or after this ISO 8601 time.")
    ] = None,
    limit: LimitOption = 100,
    as_json: JsonOption = False,
) -> None:
    """List inspections (oldest first)."""
    from firegrid.accounts.principal import system_principal
    from firegrid.inspections import service

    start = _parse_time(since, "since")

    def work(session: Session) -> list[dict[str, Any]]:
        rows = service.list_inspections(
            session, system_principal("cli"), venue_id=venue, since=start, limit=limit
        )
        counts = service.hazard_counts(session, (r.id for r in rows))
        return [_jsonable(service.inspection_dict(r, counts.get(r.id, 0))) for r in rows]

    items = _run(db, work)
    if as_json:
        _emit(items, True)
        return
    for item in items:
        typer.echo(
            f"#{item['id']} venue {item['venue_id']} {item['inspected_at']} "
            f"{item['result']:<14} hazards={item['hazard_count']} by {item['inspector_name']}"
        )


def _hazard_line(item: dict[str, Any]) -> str:
    return (
        f"#{item['id']} venue {item['venue_id']} {item['category']:<22} {item['severity']:<7} "
        f"{item['status']:<9} deadline {item['deadline']}"
    )


@inspections_app.command("hazards")
def hazards_command(
    db: DbOption = None,
    venue: VenueOption = None,
    status: Annotated[
        str | None, typer.Option(help="open, rectified or overdue (derived).")
    ] = None,
    limit: LimitOption = 100,
    as_json: JsonOption = False,
) -> None:
    """List hazards (oldest first)."""
    from firegrid.accounts.principal import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections import service

    if status is not None and status not in service.STATUS_FILTERS:
        from firegrid.cli import fail

        fail(f"--status must be one of {', '.join(service.STATUS_FILTERS)}")
    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        rows = service.list_hazards(
            session, system_principal("cli"), now=now, venue_id=venue, status=status, limit=limit
        )
        return [_jsonable(service.hazard_dict(h, now)) for h in rows]

    items = _run(db, work)
    if as_json:
        _emit(items, True)
        return
    for item in items:
        typer.echo(_hazard_line(item))


@inspections_app.command("overdue")
def overdue_command(
    db: DbOption = None, limit: LimitOption = 1000, as_json: JsonOption = False
) -> None:
    """Open hazards past their rectification deadline, the longest overdue first."""
    from firegrid.accounts.principal import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections import service

    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        rows = service.list_overdue(session, system_principal("cli"), now=now, limit=limit)
        return [_jsonable(service.hazard_dict(h, now)) for h in rows]

    items = _run(db, work)
    if as_json:
        _emit(items, True)
        return
    for item in items:
        typer.echo(_hazard_line(item))
    typer.echo(f"{len(items)} overdue", err=True)


@inspections_app.command("summary")
def summary_command(venue_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One venue's inspections and hazards: recency, open, overdue, by category."""
    from firegrid.accounts.principal import system_principal
    from firegrid.inspections import service

    data = _run(
        db, lambda session: service.venue_summary(session, system_principal("cli"), venue_id)
    )
    _emit(_jsonable(data), as_json)


@inspections_app.command("generate")
def generate_command(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Generate demo inspections and hazards for the venues of an existing (demo) city."""
    from firegrid.cli import resolve_settings
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.inspections.demo import generate_inspections

    database = Database(resolve_settings(db).database_url)
    try:
        counts = generate_inspections(database, seed)
    except DomainError as exc:
        from firegrid.cli import fail

        fail(exc.message, details=exc.details)
        raise
    finally:
        database.dispose()
    _emit(counts, as_json)
