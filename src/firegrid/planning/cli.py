"""``firegrid plan …``: the planning context's commands.

Each command lives in its own module and is registered here, so the context's commands can
grow without one module holding them all.
"""

from __future__ import annotations

import typer

from firegrid.planning.cli_orlib import solve_orlib_command

plan_app = typer.Typer(
    help="Planning: where new stations, hydrants and logistics points should go.",
    no_args_is_help=True,
)
plan_app.command("solve-orlib")(solve_orlib_command)
