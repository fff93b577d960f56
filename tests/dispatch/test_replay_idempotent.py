"""``incidents replay`` is idempotent by call: a second run of the same file takes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
from firegrid.dispatch.incident_models import Assignment, Incident, IncidentCall
from firegrid.dispatch.replay import replay_file
from tests.dispatch.city import DCity

pytestmark = pytest.mark.postgres


def counts(db: Database) -> tuple[int, int, int]:
    with db.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Incident)) or 0),
            int(session.scalar(select(func.count()).select_from(IncidentCall)) or 0),
            int(session.scalar(select(func.count()).select_from(Assignment)) or 0),
        )


def test_a_second_replay_of_the_same_file_changes_nothing(
    dcity: DCity, db: Database, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "calls.jsonl"
    write_jsonl(generate_records(load_points(db), 150, seed=3, year=2025), out)
    first = replay_file(db, settings, out, seed=1)
    assert first["created"] > 0
    assert first["already_replayed"] == 0
    after_first = counts(db)
    second = replay_file(db, settings, out, seed=1)
    assert second["already_replayed"] == first["created"] + first["merged"]
    assert second["created"] == 0
    assert second["merged"] == 0
    assert counts(db) == after_first
    # another file (another seed) is new calls, not skipped
    other = tmp_path / "other.jsonl"
    write_jsonl(generate_records(load_points(db), 20, seed=9, year=2025), other)
    third = replay_file(db, settings, other, seed=1)
    assert third["already_replayed"] == 0
    assert third["created"] > 0
