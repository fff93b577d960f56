"""Retention: archive first, then purge exactly what is past its window and not open;
idempotent; the manifest tells what each archive file holds; the command's interface."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.alarms.models import Alarm, AlarmEvent, AlarmTransition
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import Incident, TimelineEntry
from firegrid.ingest.models import DeviceEventRow, EventConsumer
from firegrid.retention.archive import read_jsonl_gz, sha256_of
from firegrid.retention.config import load_retention, parse_retention
from firegrid.retention.job import Place, retention_status, run_retention

NOW = datetime(2027, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=400)  # past the 366-day window
YOUNG = NOW - timedelta(days=100)


def _alarm(session, status: str, at: datetime, device_id: int) -> Alarm:
    alarm = Alarm(
        kind="fire",
        status=status,
        fold_key=f"venue:{device_id}",
        device_id=device_id,
        jurisdiction_path="/441900/",
        opened_at=at,
        first_received_at=at,
        last_event_at=at,
        closed_at=at + timedelta(hours=1) if status == "closed" else None,
    )
    session.add(alarm)
    session.flush()
    session.add(
        AlarmEvent(
            alarm_id=alarm.id,
            source_key=f"d{device_id}",
            first_event_id=f"e{device_id}",
            last_event_id=f"e{device_id}",
            kind="fire_alarm",
            device_id=device_id,
            first_at=at,
            last_at=at,
            received_at=at,
        )
    )
    session.add(
        AlarmTransition(
            alarm_id=alarm.id, from_status="new", to_status=status, at=at, actor="t", cause="t"
        )
    )
    return alarm


def _event(session, n: int, device_id: int, at: datetime) -> None:
    session.add(
        DeviceEventRow(
            event_id=f"ev-{n}",
            device_id=device_id,
            external_id=f"x{device_id}",
            protocol="mqtt",
            jurisdiction_path="/441900/",
            kind="heartbeat",
            occurred_at=at,
            received_at=at,
        )
    )


def _incident(session, status: str, at: datetime) -> Incident:
    incident = Incident(
        incident_type="building_fire",
        status=status,
        source="call_119",
        lon=113.7,
        lat=23.0,
        jurisdiction_path="/441900/",
        command_path="/441900/",
        command_level="city",
        call_received_at=at,
        created_at=at,
        last_call_at=at,
        closed_at=at + timedelta(hours=2) if status == "closed" else None,
    )
    session.add(incident)
    session.flush()
    for minute in range(3):
        session.add(
            TimelineEntry(
                incident_id=incident.id,
                at=at + timedelta(minutes=minute),
                kind="created",
                actor="t",
            )
        )
    return incident


@pytest.fixture
def world(db: Database) -> dict[str, object]:
    """Old and young, open and closed records of every kind (synthetic)."""
    with db.session() as session:
        old_closed = [_alarm(session, "closed", OLD + timedelta(minutes=i), 1) for i in range(5)]
        old_open = _alarm(session, "verifying", OLD, 2)  # open for 400 days: kept
        young_closed = _alarm(session, "closed", YOUNG, 3)
        n = 0
        for at in (YOUNG, OLD):
            for device_id in (1, 2, 3):
                for _ in range(4):
                    n += 1
                    _event(session, n, device_id, at + timedelta(seconds=n))
        session.flush()
        top = session.scalars(select(DeviceEventRow.id).order_by(DeviceEventRow.id.desc())).first()
        # a consumer that has read everything but the last two (old) events of device 3
        session.add(EventConsumer(name="alarms", backend="database", offset=int(top or 0) - 2))
        closed_incident = _incident(session, "closed", OLD)
        open_incident = _incident(session, "dispatched", OLD)
        ids = {
            "old_closed": [a.id for a in old_closed],
            "old_open": old_open.id,
            "young_closed": young_closed.id,
            "closed_incident": closed_incident.id,
            "open_incident": open_incident.id,
        }
    return ids


def _place(tmp_path: Path) -> Place:
    return Place(data_dir=tmp_path / "data", archive_dir=tmp_path / "archive")


def _ids(db: Database, model: type, where=None) -> set[int]:
    with db.session() as session:
        query = select(model.id)
        if where is not None:
            query = query.where(where)
        return set(session.scalars(query).all())


def _archived(place: Place, kind: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted((place.archive_dir / kind).glob("*.jsonl.gz")):
        rows.extend(read_jsonl_gz(path))
    return rows


def test_purges_only_what_is_past_the_window_and_closed_and_archives_it_first(
    db: Database, world: dict, tmp_path: Path
):
    config = parse_retention(
        (Path(__file__).parents[2] / "src/firegrid/retention/retention.yaml")
        .read_text()
        .replace("batch_rows: 2000", "batch_rows: 2"),
        "test",
    )
    place = _place(tmp_path)
    before = {
        "alarms": _ids(db, Alarm),
        "alarm_events": _ids(db, AlarmEvent),
        "alarm_transitions": _ids(db, AlarmTransition),
        "device_events": _ids(db, DeviceEventRow),
        "incident_timeline": _ids(db, TimelineEntry),
    }
    status = retention_status(db, config, place, now=NOW)["kinds"]
    assert status["alarms"]["rows_past_window"] == 5  # the open one has no closed_at
    assert status["alarms"]["rows_purgeable"] == 5
    assert status["alarm_events"]["rows_past_window"] == 6
    assert status["alarm_events"]["rows_held_open"] == 1
    assert status["alarms"]["keep_days"] == 366
    assert status["alarms"]["last_run"] is None

    result = run_retention(db, config, place, now=NOW)

    after = {
        "alarms": _ids(db, Alarm),
        "alarm_events": _ids(db, AlarmEvent),
        "alarm_transitions": _ids(db, AlarmTransition),
        "device_events": _ids(db, DeviceEventRow),
        "incident_timeline": _ids(db, TimelineEntry),
    }
    # what stays: the open alarm and its history, the young alarm, young events, events of
    # the device with an open alarm, the open incident's timeline
    assert after["alarms"] == {world["old_open"], world["young_closed"]}
    with db.session() as session:
        kept_history = set(session.scalars(select(AlarmEvent.alarm_id)).all())
        kept_events = session.execute(
            select(DeviceEventRow.device_id, DeviceEventRow.received_at)
        ).all()
        kept_timeline = set(session.scalars(select(TimelineEntry.incident_id)).all())
    assert kept_history == {world["old_open"], world["young_closed"]}
    old_kept = [d for d, at in kept_events if at < NOW - timedelta(days=366)]
    assert sorted(old_kept) == [2, 2, 2, 2, 3, 3]  # open alarm's device; not yet consumed
    assert len([1 for d, at in kept_events if at >= NOW - timedelta(days=366)]) == 12
    assert kept_timeline == {world["open_incident"]}
    # the archive holds exactly the purged rows, every column
    for kind, ids in before.items():
        purged = ids - after[kind]
        archived = _archived(place, kind)
        assert sorted(r["id"] for r in archived) == sorted(purged), kind
        assert result["kinds"][kind]["rows"] == len(purged)
    assert len(before["alarms"] - after["alarms"]) == 5
    assert len(before["device_events"] - after["device_events"]) == 6
    first = _archived(place, "alarms")[0]
    assert first["status"] == "closed"
    assert first["closed_at"].startswith("2026-")
    # bounded batches: 5 alarms in batches of 2 are three files, each in the manifest with
    # its range, row count and checksum
    manifest = json.loads(Path(result["manifest"]).read_text())
    alarm_files = [f for f in manifest["files"] if f["kind"] == "alarms"]
    assert [f["rows"] for f in alarm_files] == [2, 2, 1]
    for entry in manifest["files"]:
        path = place.archive_dir / entry["kind"] / entry["file"]
        assert sha256_of(path) == entry["sha256"]
        assert len(read_jsonl_gz(path)) == entry["rows"]
    assert manifest["rows"] == sum(r["rows"] for r in result["kinds"].values())
    assert alarm_files[0]["from"] <= alarm_files[-1]["to"]
    # status after: nothing purgeable is left past the window, and the last run is shown
    status = retention_status(db, config, place, now=NOW)["kinds"]
    assert status["alarms"]["rows_purgeable"] == 0
    assert status["alarms"]["last_run"]["rows"] == 5
    assert status["alarms"]["last_run"]["status"] == "done"


def test_a_second_run_purges_nothing_and_archives_nothing(
    db: Database, world: dict, tmp_path: Path
):
    config = load_retention()
    place = _place(tmp_path)
    first = run_retention(db, config, place, now=NOW)
    files = sorted(p.name for p in place.archive_dir.rglob("*.jsonl.gz"))
    again = run_retention(db, config, place, now=NOW)
    assert sum(k["rows"] for k in first["kinds"].values()) > 0
    assert {k: v["rows"] for k, v in again["kinds"].items()} == dict.fromkeys(again["kinds"], 0)
    assert sorted(p.name for p in place.archive_dir.rglob("*.jsonl.gz")) == files
    assert _ids(db, Alarm) == {world["old_open"], world["young_closed"]}


def test_nothing_is_purged_inside_the_window(db: Database, world: dict, tmp_path: Path):
    place = _place(tmp_path)
    result = run_retention(db, load_retention(), place, now=OLD + timedelta(days=300))
    assert {v["rows"] for v in result["kinds"].values()} == {0}
    assert len(_ids(db, Alarm)) == 7


def test_uploads_older_than_six_months_are_archived_then_removed(db: Database, tmp_path: Path):
    place = _place(tmp_path)
    photos = place.data_dir / "alarms" / "photos"
    photos.mkdir(parents=True)
    old, young = photos / "task-1-old.jpg", photos / "task-2-young.jpg"
    old.write_bytes(b"\xff\xd8old")
    young.write_bytes(b"\xff\xd8young")
    os.utime(old, ((NOW - timedelta(days=200)).timestamp(),) * 2)
    os.utime(young, ((NOW - timedelta(days=30)).timestamp(),) * 2)
    status = retention_status(db, load_retention(), place, now=NOW, kinds=["uploads"])
    assert status["kinds"]["uploads"]["rows_past_window"] == 1
    run_retention(db, load_retention(), place, now=NOW, kinds=["uploads"])
    assert not old.exists()
    assert young.exists()
    [row] = _archived(place, "uploads")
    assert row["path"] == "alarms/photos/task-1-old.jpg"
    import base64

    assert base64.b64decode(row["content_base64"]) == b"\xff\xd8old"


def test_a_window_shorter_than_the_standard_is_refused(tmp_path: Path):
    text = (Path(__file__).parents[2] / "src/firegrid/retention/retention.yaml").read_text()
    with pytest.raises(ValidationFailed, match="alarms keeps 30 days, GB 50440 needs at least 365"):
        parse_retention(text.replace("alarms: {keep_days: 366}", "alarms: {keep_days: 30}"), "x")
    with pytest.raises(ValidationFailed, match="unknown record kinds"):
        parse_retention(text.replace("uploads:", "videos:"), "x")
    with pytest.raises(ValidationFailed, match="cannot be read"):
        load_retention(tmp_path / "none.yaml")


def test_the_command_status_and_run_as_json(
    db: Database, world: dict, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from firegrid.cli import app
    from firegrid.core.settings import get_settings

    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIREGRID_ARCHIVE_DIR", str(tmp_path / "archive"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        status = runner.invoke(app, ["retention", "status", "--db", db.url, "--json"])
        assert status.exit_code == 0, status.output
        body = json.loads(status.output)
        assert set(body["kinds"]) == {
            "alarms",
            "alarm_events",
            "alarm_transitions",
            "device_events",
            "incident_timeline",
            "vehicle_status_log",
            "uploads",
            "submission_keys",
        }
        for facts in body["kinds"].values():
            assert {"keep_days", "oldest", "rows_past_window", "last_run"} <= set(facts)
        # the records are young for the real clock: a run purges nothing
        run = runner.invoke(app, ["retention", "run", "--db", db.url, "--json"])
        assert run.exit_code == 0, run.output
        assert {v["rows"] for v in json.loads(run.output)["kinds"].values()} == {0}
        bad = runner.invoke(app, ["retention", "status", "--db", db.url, "--kind", "videos"])
        assert bad.exit_code == 2
        assert bad.output.startswith("error: unknown record kind 'videos'")
        assert "Traceback" not in bad.output
    finally:
        get_settings.cache_clear()


def test_phone_submission_keys_are_purged_after_their_window(db: Database, tmp_path: Path):
    from firegrid.inspections.models import SubmissionKey

    with db.session() as session:
        for key, age_days in (("old-key-0001", 200), ("young-key-001", 100)):
            session.add(
                SubmissionKey(
                    subject="user:grid1",
                    key=key,
                    kind="inspection",
                    request_sha256="0" * 64,
                    resource_id=1,
                    created_at=NOW - timedelta(days=age_days),
                )
            )
        session.commit()
    place = _place(tmp_path)
    result = run_retention(db, load_retention(), place, now=NOW, kinds=["submission_keys"])
    assert result["kinds"]["submission_keys"]["rows"] == 1
    with db.session() as session:
        assert set(session.scalars(select(SubmissionKey.key))) == {"young-key-001"}
    [row] = _archived(place, "submission_keys")
    assert row["key"] == "old-key-0001"


def test_a_retention_file_written_before_the_phone_keys_gets_their_default_window():
    text = (Path(__file__).parents[2] / "src/firegrid/retention/retention.yaml").read_text()
    older = "\n".join(line for line in text.splitlines() if "submission_keys" not in line)
    assert parse_retention(older, "x").kinds["submission_keys"].keep_days == 180
    with pytest.raises(ValidationFailed, match="submission_keys keeps 7 days, a phone's"):
        parse_retention(
            text.replace("submission_keys: {keep_days: 180}", "submission_keys: {keep_days: 7}"),
            "x",
        )
