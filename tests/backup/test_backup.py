"""Backup and restore round trips on the test database (SQLite and PostgreSQL): the restored
database equals the original table by table, the data directory's records come back and its
caches are left out, and a damaged, foreign or mismatched backup is refused before anything
is touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from firegrid.backup import BackupError, make_backup, restore_backup
from firegrid.backup.make import Source
from firegrid.cli import app
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from tests.conftest import make_database_url
from tests.places.minicity import build_minicity

runner = CliRunner()


def table_contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            return {
                name: sorted(
                    (
                        tuple(str(v) for v in row)
                        for row in connection.execute(text(f'SELECT * FROM "{name}"'))
                    ),
                )
                for name in names
            }
    finally:
        engine.dispose()


@pytest.fixture
def second_url(tmp_path: Path) -> Iterator[str]:
    target = tmp_path / "target"
    target.mkdir()
    yield from make_database_url(target)


@pytest.fixture
def filled(db: Database, tmp_path: Path) -> Source:
    build_minicity(db)
    data_dir = tmp_path / "data"
    (data_dir / "alarms" / "photos").mkdir(parents=True)
    (data_dir / "alarms" / "photos" / "check-1.jpg").write_bytes(b"\xff\xd8\xff photo")
    (data_dir / "roads").mkdir()
    (data_dir / "roads" / "network-abc.npz").write_bytes(b"cache")
    return Source(db.url, data_dir, "database")


def test_a_backup_restores_to_an_equal_database_with_its_records(
    filled: Source, second_url: str, tmp_path: Path
) -> None:
    manifest = make_backup(filled, tmp_path / "backup", utcnow())
    assert manifest.database.rows["jurisdictions"] > 0
    assert [f.path for f in manifest.data_files] == ["data/alarms/photos/check-1.jpg"]

    new_data = tmp_path / "restored-data"
    done = restore_backup(tmp_path / "backup", second_url, new_data)

    assert table_contents(second_url) == table_contents(filled.database_url)
    assert done.rows == sum(manifest.database.rows.values())
    assert (new_data / "alarms" / "photos" / "check-1.jpg").read_bytes() == b"\xff\xd8\xff photo"
    assert not (new_data / "roads").exists()


def test_a_target_holding_data_is_refused_unless_forced(
    filled: Source, db: Database, tmp_path: Path
) -> None:
    make_backup(filled, tmp_path / "backup", utcnow())
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(tmp_path / "backup", db.url, tmp_path / "d2")
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM jurisdictions WHERE level = 'grid'"))
    restore_backup(tmp_path / "backup", db.url, tmp_path / "d2", force=True)
    with db.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM jurisdictions WHERE level = 'grid'")
            ).scalar_one()
            > 0
        )


def test_a_damaged_file_is_named_and_nothing_is_touched(
    filled: Source, second_url: str, tmp_path: Path
) -> None:
    manifest = make_backup(filled, tmp_path / "backup", utcnow())
    damaged = tmp_path / "backup" / manifest.database.file.path
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupError, match=manifest.database.file.path):
        restore_backup(tmp_path / "backup", second_url, tmp_path / "d2")
    assert table_contents(second_url) == {}


def test_a_backup_of_another_schema_release_is_refused(
    filled: Source, second_url: str, tmp_path: Path
) -> None:
    make_backup(filled, tmp_path / "backup", utcnow())
    path = tmp_path / "backup" / "manifest.json"
    raw = json.loads(path.read_text())
    raw["database"]["revisions"] = ["0001_city_model"]
    path.write_text(json.dumps(raw))
    with pytest.raises(BackupError, match="schema revisions"):
        restore_backup(tmp_path / "backup", second_url, tmp_path / "d2")
    assert table_contents(second_url) == {}


def test_the_commands_round_trip_and_errors_follow_the_contract(
    filled: Source, second_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "cli-backup"
    made = runner.invoke(app, ["backup", "--out", str(out), "--db", filled.database_url, "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["rows"] > 0

    again = runner.invoke(app, ["backup", "--out", str(out), "--db", filled.database_url])
    assert again.exit_code == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {out} is not empty (hint: give a new or empty directory to --out)"
    ]

    restored = runner.invoke(app, ["restore", str(out), "--db", second_url, "--json"])
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["rows"] == json.loads(made.stdout)["rows"]

    missing = runner.invoke(app, ["restore", str(tmp_path / "nothing"), "--db", second_url])
    assert missing.exit_code == 2
    assert "holds no manifest.json" in missing.stderr
    assert "Traceback" not in missing.output
