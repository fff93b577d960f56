"""Any command that meets a database without firegrid's schema prints one line naming the
fix (``firegrid db upgrade``) and exits 3 — never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["alarms", "list"],
        ["route", "--from", "113.75,23.02", "--to", "113.76,23.03"],
        ["assess"],
    ],
)
def test_an_unmigrated_database_is_one_line_with_the_fix(tmp_path: Path, args: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "firegrid.cli", *args, "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={"FIREGRID_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "firegrid db upgrade" in lines[0]


def test_with_json_the_error_is_the_envelope_on_stdout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "firegrid.cli", "alarms", "list", "--json", "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={"FIREGRID_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "not_ready"
    assert "firegrid db upgrade" in error["hint"]
