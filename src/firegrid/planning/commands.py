"""Registers planapp's commands on the context's ``plan_app`` (``firegrid plan …``):
``stations``, ``hydrants``, ``logistics``, ``simulate`` and ``plans``.

Imported by the root CLI before it mounts ``plan_app``.
"""

from __future__ import annotations

from firegrid.planning.cli import plan_app
from firegrid.planning.cli_facilities import hydrants_command, logistics_command
from firegrid.planning.cli_simulate import list_command, simulate_command
from firegrid.planning.cli_stations import stations_command

plan_app.command("stations")(stations_command)
plan_app.command("simulate")(simulate_command)
plan_app.command("list")(list_command)
plan_app.command("hydrants")(hydrants_command)
plan_app.command("logistics")(logistics_command)

__all__ = ["plan_app"]
