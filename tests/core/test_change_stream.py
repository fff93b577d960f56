"""The change stream (``core.changes``): written in the changing transaction, read by
consumers from stored cursors — and the proof that a venue imported by ANOTHER process
(``firegrid import venues`` in a subprocess) is re-scored by risk's consumer."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from firegrid.core.changes import (
    Change,
    ChangeConsumer,
    ChangeCursor,
    changes_after,
    consume_changes,
    latest_change_id,
    record_change,
)
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.places.models import Venue
from firegrid.risk.changes import RESCORE_CHANGED_VENUES
from firegrid.risk.models import RiskRescore


def test_a_change_is_written_with_its_transaction_and_never_without(db: Database) -> None:
    with db.session() as session:
        record_change(session, "test.thing", 7, actor="tester", cause="made", payload={"a": 1})

    def failing_change() -> None:
        with db.session() as session:
            record_change(session, "test.thing", 8, actor="tester", cause="rolled back")
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    with db.session() as session:
        record_change(session, "test.other", "x", actor="tester")
    with db.session() as session:
        found = changes_after(session, 0)
        assert [(c.kind, c.key, c.cause) for c in found] == [
            ("test.thing", "7", "made"),
            ("test.other", "x", ""),
        ]
        assert found[0].id < found[1].id
        assert found[0].payload == {"a": 1}
        assert found[0].occurred_at.tzinfo is not None
        assert [c.key for c in changes_after(session, found[0].id)] == ["x"]
        assert [c.key for c in changes_after(session, 0, kinds={"test.other"})] == ["x"]
        assert latest_change_id(session) == found[1].id


def test_a_consumer_reads_from_its_cursor_and_retries_a_failed_batch(
    db: Database, settings: Settings
) -> None:
    seen: list[str] = []
    failing = {"on": True}

    def handle(database: Database, _settings: Any, changes: Sequence[Change]) -> None:
        if failing["on"]:
            raise RuntimeError("the handler is down")
        seen.extend(c.key for c in changes)

    consumer = ChangeConsumer("test.reader", frozenset({"test.thing"}), handle)
    with db.session() as session:
        for key in ("a", "b"):
            record_change(session, "test.thing", key, actor="tester")
        record_change(session, "test.ignored", "z", actor="tester")
    assert consume_changes(db, settings, consumer).failed
    assert seen == []
    failing["on"] = False
    report = consume_changes(db, settings, consumer, batch=2)
    assert (report.failed, report.handled, seen) == (False, 2, ["a", "b"])
    with db.session() as session:
        record_change(session, "test.thing", "c", actor="tester")
    assert consume_changes(db, settings, consumer).handled == 1
    assert consume_changes(db, settings, consumer).handled == 0  # nothing twice
    assert seen == ["a", "b", "c"]
    with db.session() as session:
        cursor = session.get(ChangeCursor, "test.reader")
        assert cursor is not None
        assert cursor.position == latest_change_id(session)


def test_the_consumers_of_dispatch_and_risk_read_the_kinds_their_sources_write() -> None:
    from firegrid.alarms.public import ALARM_FORWARDED
    from firegrid.consumers import change_consumers
    from firegrid.dispatch.consumers import ALARM_FORWARDS
    from firegrid.places.public import VENUE_CHANGED

    assert ALARM_FORWARDS.kinds == {ALARM_FORWARDED}
    assert RESCORE_CHANGED_VENUES.kinds == {VENUE_CHANGED}
    names = [c.name for c in change_consumers()]
    assert len(names) == len(set(names))


def _venue_file(path: Path, lon: float, lat: float) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "name", "lon", "lat", "category", "floors", "occupancy", "tags"])
    writer.writerow(["V-IMPORTED-1", "新店", lon, lat, "small_shop", 2, 12, ""])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_venue_imported_by_another_process_is_rescored(
    db: Database, database_url: str, settings: Settings, tmp_path: Path
) -> None:
    from firegrid.risk.service import assess
    from tests.risk.test_runs import build_city

    build_city(db, settings)
    assess(db, settings, "expert-ahp", actor="tester")
    with db.session() as session:
        lon, lat = session.execute(select(Venue.lon, Venue.lat).limit(1)).one()
        since = latest_change_id(session)
    file = _venue_file(tmp_path / "venues.csv", lon + 0.0005, lat + 0.0005)
    env = {
        **os.environ,
        "FIREGRID_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "firegrid.cli", "import", "venues", str(file), "--db", database_url],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with db.session() as session:
        venue_id = session.scalars(select(Venue.id).where(Venue.code == "V-IMPORTED-1")).one()
        (change,) = changes_after(session, since)
        assert (change.kind, change.key) == ("venue.changed", str(venue_id))
        assert session.scalars(select(RiskRescore)).all() == []  # nothing in process yet
    report = consume_changes(db, settings, RESCORE_CHANGED_VENUES)
    assert (report.failed, report.handled) == (False, 1)
    with db.session() as session:
        (rescore,) = session.scalars(select(RiskRescore)).all()
        assert rescore.venue_id == venue_id
        assert rescore.cause == "venues file imported by import"
        assert rescore.actor == change.actor
    # a second process consuming (the CLI) finds nothing left for risk
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "firegrid.cli",
            "changes",
            "consume",
            "--db",
            database_url,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    by_name = {r["consumer"]: r for r in json.loads(again.stdout)}
    assert by_name["risk.rescore"]["handled"] == 0
