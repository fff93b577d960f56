"""The shipped systemd units are valid (``systemd-analyze verify`` with no warning) and every
command they start exists with the options they pass."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from tests.conftest import service_missing

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = sorted(p for p in DEPLOY.iterdir() if p.suffix in {".service", ".target"})
INSTALLED = "/opt/firegrid/.venv/bin/firegrid"


def exec_starts(unit: Path) -> list[list[str]]:
    return [
        shlex.split(line.split("=", 1)[1].replace("%i", "a"))
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    ]


def test_the_units_are_shipped() -> None:
    names = {unit.name for unit in UNITS}
    assert {"firegrid-api.service", "firegrid-alarms.service", "firegrid-ingest@.service"} <= names


def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        service_missing("systemd-analyze (Debian package systemd)")
    firegrid = str(Path(sys.executable).parent / "firegrid")
    env_file = tmp_path / "firegrid.env"
    env_file.write_text("FIREGRID_ENV=production\n")
    copies = []
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace(INSTALLED, firegrid)
        text = re.sub(
            r"EnvironmentFile=(-?)/etc/firegrid/\S+", rf"EnvironmentFile=\1{env_file}", text
        )
        name = unit.name.replace("@.service", "@a.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
        copies.append(f"./{name}")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *copies],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_every_started_command_takes_its_options(unit: Path) -> None:
    for argv in exec_starts(unit):
        assert argv[0] == INSTALLED
        result = CliRunner().invoke(app, [*argv[1:], "--help"])
        assert result.exit_code == 0, (argv, result.output)
        for option in (a.split("=", 1)[0] for a in argv[1:] if a.startswith("--")):
            assert option in result.output, (unit.name, option)
