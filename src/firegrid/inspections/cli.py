"""``firegrid inspections``: list inspections and hazards, what is overdue, a venue summary.

Mounted by :mod:`firegrid.cli` as ``app.add_typer(inspections_app, name="inspections")``.
The commands act as the command-line operator (:func:`system_principal`, whole city).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from firegrid.core.cli import (
    EXIT_FAILURE,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    command_group,
    emit,
    fail,
    open_database,
    session_scope,
)
from firegrid.core.errors import DomainError

inspections_app = command_group(
    "Inspections and hazards (检查 / 隐患整改): list, overdue, venue summary, plans, performance."
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


def _plan_line(grid: dict[str, Any]) -> str:
    return (
        f"grid {grid['grid_code']}: {grid['venues']} venues, due today {grid['due_today']}, "
        f"overdue {grid['overdue']} (village {grid['escalated_village']}, "
        f"town {grid['escalated_town']})"
    )


@inspections_app.command("plan")
def plan_command(
    db: DbOption = None,
    grid: Annotated[str | None, typer.Option("--grid", help="Only this grid (code).")] = None,
    summary_only: Annotated[
        bool, typer.Option("--summary", help="Counts per grid only, without the due lists.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Inspection plans per grid: venues, due today, overdue, escalated, the due list
    (red status first, then by risk grade), from the rules in plan_rules.yaml."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections.plans import compute_plans

    now = utcnow()

    def work(session: Session) -> list[dict[str, Any]]:
        plans = compute_plans(session, system_principal("cli"), now, grid_code=grid)
        return [
            _jsonable(plans[code].summary(with_due_list=not summary_only)) for code in sorted(plans)
        ]

    grids = _run(db, work)
    if as_json:
        emit(grids, True)
        return
    for item in grids:
        typer.echo(_plan_line(item))
        for entry in item.get("due", []):
            typer.echo(
                f"  {entry['status']:<8} {entry['colour']:<6} {entry['grade']:<6} "
                f"{entry['venue_code']} due {entry['due_on']} ({entry['checklist']})"
            )


@inspections_app.command("performance")
def performance_command(
    period: Annotated[str, typer.Option("--period", help="A month, YYYY-MM.")],
    db: DbOption = None,
    level: Annotated[str, typer.Option("--level", help="worker, grid, village or town.")] = "grid",
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the table to this .xlsx file.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Grid-worker performance for a month: visits done vs planned, hazards found and
    rectified on time, alarm-check response time, tasks overdue."""
    from firegrid.accounts.public import system_principal
    from firegrid.core.clock import utcnow
    from firegrid.inspections import performance as kpis

    if level not in kpis.LEVELS:
        fail(
            f"--level must be one of {', '.join(kpis.LEVELS)}", EXIT_USAGE, details={"level": level}
        )
    try:
        parsed = kpis.parse_period(period)
    except DomainError as exc:
        fail(exc.message, EXIT_USAGE, details=exc.details)
    now = utcnow()
    rows = _run(
        db,
        lambda session: kpis.performance(session, system_principal("cli"), parsed, level, now),
    )
    if xlsx is not None:
        try:
            kpis.write_xlsx(rows, xlsx)
        except OSError as exc:
            fail(f"cannot write {xlsx}: {exc}", EXIT_FAILURE, details={"xlsx": str(xlsx)})
    if as_json:
        emit(_jsonable(rows), True)
        return
    for row in rows:
        typer.echo(
            f"{row['unit']:<16} planned {row['planned']:>7} done {row['done']:>5} "
            f"hazards {row['hazards_found']:>4} on time {row['hazards_rectified_on_time']:>4} "
            f"overdue tasks {row['tasks_overdue']}"
        )
