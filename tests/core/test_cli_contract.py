"""The CLI contract, for EVERY command of ``firegrid`` (found by walking the Typer tree, so a
command added later is covered without touching this file):

- a failing case — a database without firegrid's schema, a nonexistent id, malformed input,
  or, for a command that none of those stops, an invalid ``FIREGRID_ENV`` — exits 1, 2 or 3;
- no traceback reaches the user;
- the error is one line on stderr (``error: … (hint: …)``), or, with ``--json``, the error
  envelope ``{"error": {code, message, details, hint}}`` on stdout.

Commands that run servers get a ``--help`` check only (:data:`SERVERS`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.settings import get_settings

#: Commands that serve until stopped (or build a city and then serve): --help only.
SERVERS = {
    "serve",
    "demo",
    "ingest run",
    "alarms run",
    "changes run",
    "link110 run",
    "gridlink run",
    "sharing webhooks run",
    "risk schedule run",
}

#: A value no id, code, kind or file format accepts.
NOTHING = "NO-SUCH-THING"

runner = CliRunner()


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the tree with its path of names."""
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in sorted(children.items()):
        yield from walk(child, (*path, name))


COMMANDS = dict(walk(get_command(app)))


def test_the_walk_finds_the_commands_of_every_context() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"alarms list", "users create", "route", "import", "devices poll"} <= names
    assert len(names) >= 40, sorted(names)
    assert names >= SERVERS, SERVERS - names  # the exception list names real commands


def _dummy(param: Any, dummy_file: Path) -> str:
    described = param.type_descriptor
    if described.is_path:
        return str(dummy_file)
    type_name = param.bare_type()
    if "int" in type_name:
        return "999999"
    if "float" in type_name:
        return "1.5"
    return NOTHING


def failing_argv(command: Any, dummy_file: Path, database_url: str) -> list[str]:
    """The command's required arguments and options filled with values that name nothing,
    and ``--db`` pointing at a database that has no schema."""
    argv: list[str] = []
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for param in command.params:
        if not param.required:
            continue
        if param.param_type_name == "argument":
            argv.append(_dummy(param, dummy_file))
        else:
            argv += [param.opts[0], _dummy(param, dummy_file)]
    if "--db" in options:
        argv += ["--db", database_url]
    return argv


def invoke(argv: list[str], env: dict[str, str]) -> Any:
    get_settings.cache_clear()
    try:
        return runner.invoke(app, argv, env=env)
    finally:
        get_settings.cache_clear()


def assert_contract(result: Any, as_json: bool, what: str) -> None:
    assert result.exit_code in {1, 2, 3}, (what, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        what,
        repr(result.exception),
    )
    assert "Traceback" not in result.output, what
    if as_json:
        error = json.loads(result.stdout)["error"]
        assert set(error) == {"code", "message", "details", "hint"}, (what, error)
        assert error["message"], what
    else:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, (what, result.stderr)
        assert lines[-1] == errors[0], (what, result.stderr)  # the error ends the output


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_fails_by_the_contract(path: tuple[str, ...], tmp_path: Path) -> None:
    name = " ".join(path)
    command = COMMANDS[path]
    help_ = invoke([*path, "--help"], {})
    assert help_.exit_code == 0, (name, help_.output)
    assert "<bool>" not in help_.output, name  # flags show no type
    if name in SERVERS:
        return
    dummy = tmp_path / "dummy.txt"
    dummy.write_text(NOTHING + "{\n", encoding="utf-8")
    env = {"FIREGRID_DATA_DIR": str(tmp_path / "data"), "FIREGRID_ARCHIVE_DIR": str(tmp_path)}
    argv = [*path, *failing_argv(command, dummy, f"sqlite:///{tmp_path / 'empty.db'}")]
    result = invoke(argv, env)
    if result.exit_code == 0:  # nothing in the input stops it: invalid settings do
        env["FIREGRID_ENV"] = "bogus"
        result = invoke(argv, env)
    assert_contract(result, as_json=False, what=f"{name}: {argv}")
    takes_json = any("--json" in getattr(param, "opts", []) for param in command.params)
    if takes_json:
        as_json = invoke([*argv, "--json"], env)
        assert_contract(as_json, as_json=True, what=f"{name} --json: {argv}")
        assert as_json.exit_code == result.exit_code, name


def test_a_bad_status_is_exit_2_with_one_line(tmp_path: Path) -> None:
    from firegrid.core.db import Database
    from firegrid.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'city.db'}"
    upgrade(url)
    Database(url).dispose()
    result = invoke(["alarms", "list", "--status", "nonsense", "--db", url], {})
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "nonsense" in line


def test_bad_settings_are_one_line_naming_the_variable() -> None:
    result = invoke(["settings"], {"FIREGRID_ENV": "bogus"})
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: invalid settings: FIREGRID_ENV='bogus'")


@pytest.mark.usefixtures("database_url")
def test_a_missing_postgresql_database_is_one_line_naming_it() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/firegrid_no_such_database"
    result = invoke(["alarms", "list", "--db", url], {})
    if "could not translate" in result.output or "Connection refused" in result.output:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "firegrid_no_such_database" in line
    assert "(hint: create it" in line


def test_a_schema_behind_the_code_is_not_ready_with_the_fix(tmp_path: Path) -> None:
    from firegrid.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001_city_model")  # one branch of the schema only
    result = invoke(["inspections", "list", "--db", url], {})
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "is behind this firegrid (at 0001_city_model" in line
    assert "firegrid db upgrade" in line
    upgrade(url)
    assert invoke(["inspections", "list", "--db", url], {}).exit_code == 0
