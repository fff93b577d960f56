"""Any command that meets a database without firegrid's schema prints one line naming the
fix (``firegrid db upgrade``) and exits 3 — never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ["alarms", "list", "--json"],
        ["route", "--from", "113.75,23.02", "--to", "113.76,23.03", "--json"],
        ["assess", "--json"],
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
