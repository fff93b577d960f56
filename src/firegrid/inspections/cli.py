"""``firegrid inspections``: list inspections and hazards, what is overdue, a venue summary.

Mounted by :mod:`firegrid.cli` as ``app.add_typer(inspections_app, name="inspections")``.
The commands act as the command-line operator (:func:`system_principal`, whole city).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    command_group,
    emit,
    fail,
    open_database,
    session_scope,
)

inspections_app = command_group(
    "Inspections and hazards (检查 / 隐患整改): list, overdue, venue summary."
)

LimitOption = Annotated[int, typer.Option(help="At most this many.", min=1)]
VenueOption = Annotated[int | None, typer.Option("--venue", help="Only this venue (id).")]

T = TypeVar("T")


def _run(db: str | None, work: Callable[[Session], T]) -> T:
    with session_scope(db) as session:
        return work(session)


def _jsonable(data: Any) -> Any:
    from firegrid.accounts.public import jsonable

    return jsonable(data)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    from firegrid.core.clock import ensure_aware

    try:
        return ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        fail(f"--{name} must be an ISO 8601 time", EXIT_USAGE, details={name: value})


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
    from firegrid.accounts.public import system_principal
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
        emit(items, True)
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
    from firegrid.accounts.public import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections import service

    if status is not None and status not in service.STATUS_FILTERS:
        fail(f"--status must be one of {', '.join(service.STATUS_FILTERS)}", EXIT_USAGE)
    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        rows = service.list_hazards(
            session, system_principal("cli"), now=now, venue_id=venue, status=status, limit=limit
        )
        return [_jsonable(service.hazard_dict(h, now)) for h in rows]

    items = _run(db, work)
    if as_json:
        emit(items, True)
        return
    for item in items:
        typer.echo(_hazard_line(item))


@inspections_app.command("overdue")
def overdue_command(
    db: DbOption = None, limit: LimitOption = 1000, as_json: JsonOption = False
) -> None:
    """Open hazards past their rectification deadline, the longest overdue first."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections import service

    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        rows = service.list_overdue(session, system_principal("cli"), now=now, limit=limit)
        return [_jsonable(service.hazard_dict(h, now)) for h in rows]

    items = _run(db, work)
    if as_json:
        emit(items, True)
        return
    for item in items:
        typer.echo(_hazard_line(item))
    typer.echo(f"{len(items)} overdue", err=True)


@inspections_app.command("summary")
def summary_command(venue_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One venue's inspections and hazards: recency, open, overdue, by category."""
    from firegrid.accounts.public import system_principal
    from firegrid.inspections import service

    data = _run(
        db, lambda session: service.venue_summary(session, system_principal("cli"), venue_id)
    )
    emit(_jsonable(data), as_json)


@inspections_app.command("generate")
def generate_command(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Generate demo inspections and hazards for the venues of an existing (demo) city."""
    from firegrid.inspections.demo import generate_inspections

    with open_database(db) as database:
        counts = generate_inspections(database, seed)
    emit(counts, as_json)
