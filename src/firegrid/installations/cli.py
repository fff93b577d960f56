"""``firegrid installations``: the installation figures by town/village/grid and month.

Mounted by :mod:`firegrid.cli`; acts as the command-line operator (whole city).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    DbOption,
    JsonOption,
    command_group,
    emit,
    fail,
    session_scope,
)

installations_app = command_group(
    "Installation programmes (安装工程): smoke alarms and simple sprinklers by town and period."
)


def _text(data: dict[str, Any]) -> str:
    lines = [f"installations {data['period']} by {data['level']}"]
    for row in data["items"]:
        lines.append(
            f"{row['period']}  {row['unit']:<14} {row['unit_name_zh']:<12} "
            f"smoke {row['smoke_alarms']:>5}  sprinkler {row['simple_sprinklers']:>4}  "
            f"connected {row['connected']:>4}"
        )
    t = data["totals"]
    lines.append(
        f"total: {t['total']} ({t['smoke_alarms']} smoke alarms, "
        f"{t['simple_sprinklers']} simple sprinklers, {t['connected']} connected)"
    )
    return "\n".join(lines)


@installations_app.command("report")
def report_command(
    period: Annotated[str, typer.Option("--period", help="A month YYYY-MM or a year YYYY.")],
    level: Annotated[str, typer.Option("--level", help="town, village or grid.")] = "town",
    programme: Annotated[
        int | None, typer.Option("--programme", help="Only this programme (id).", min=1)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Installations per town (village, grid) and month: smoke alarms, simple sprinklers,
    connected devices, households/rooms and venues reached."""
    from firegrid.accounts.public import jsonable, system_principal
    from firegrid.core.errors import DomainError
    from firegrid.installations import service

    if level not in service.LEVELS:
        fail(
            f"--level must be one of {', '.join(service.LEVELS)}",
            EXIT_USAGE,
            details={"level": level},
            hint="use --level town, --level village or --level grid",
        )
    try:
        parsed = service.parse_period(period)
    except DomainError as exc:
        fail(exc.message, EXIT_USAGE, details=exc.details, hint="e.g. --period 2026-11 or 2026")
    with session_scope(db) as session:
        rows = service.report(
            session, system_principal("cli"), parsed, level, programme_id=programme
        )
    data = {
        "period": period,
        "level": level,
        "items": rows,
        "totals": service.totals(rows),
        "count": len(rows),
    }
    emit(jsonable(data), as_json, _text)
