"""Docs that cannot drift: every ``firegrid …`` command the README shows runs ``--help``, and
the settings documented in ``docs/settings.md`` are exactly those ``firegrid settings``
lists (the core ones and each context's, alarms included), with the same descriptions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from firegrid.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
#: ``firegrid`` followed by sub-command words (``a|b`` alternatives allowed).
COMMAND = re.compile(r"firegrid((?:\s+[a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*)+)")


def readme_commands() -> set[tuple[str, ...]]:
    """The command paths the README names, resolved against the command tree (the longest
    run of words that names a command or group)."""
    root = get_command(app)
    found: set[tuple[str, ...]] = set()
    for match in COMMAND.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        words = match.group(1).split()
        for last in words[-1].split("|"):
            path: list[str] = []
            node: Any = root
            for word in [*words[:-1], last]:
                children = getattr(node, "commands", None) or {}
                alternatives = [w for w in word.split("|") if w in children]
                if not alternatives:
                    break
                path.append(alternatives[0])
                node = children[alternatives[0]]
            if path:
                found.add(tuple(path))
    return found


def test_the_readme_names_real_commands() -> None:
    commands = readme_commands()
    assert ("alarms", "policy", "edit") in commands
    assert ("users", "reset-password") in commands
    assert len(commands) >= 30


@pytest.mark.parametrize("path", sorted(readme_commands()), ids=" ".join)
def test_every_readme_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def documented_settings() -> dict[str, str]:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(FIREGRID_[A-Z0-9_]+)` \| (.*) \|$", text, flags=re.MULTILINE)
    return {env: description.replace("\\|", "|") for env, description in rows}


def test_documented_settings_equal_firegrid_settings() -> None:
    result = runner.invoke(app, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    listed = {row["env"]: row["description"] for row in json.loads(result.stdout).values()}
    assert any(env.startswith("FIREGRID_ALARMS_") for env in listed)
    documented = documented_settings()
    assert set(documented) == set(listed), (
        f"undocumented: {sorted(set(listed) - set(documented))}; "
        f"documented but gone: {sorted(set(documented) - set(listed))} (docs/settings.md)"
    )
    assert documented == listed
