"""Fire records: the all-or-nothing import, coded values, the review lock and the public read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.core.settings import Settings
from firegrid.places.importexport import export_file, import_file
from firegrid.records.models import FireRecord
from firegrid.records.public import fire_records
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers

pytestmark = pytest.mark.postgres

HEADER = [
    "code", "occurred_at", "lon", "lat", "venue_code", "incident_type", "cause_code",
    "origin_code", "civilian_injured", "civilian_killed", "direct_loss_yuan", "actions",
]  # fmt: skip


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


GOOD = [
    ["FR-1", "2025-03-01T14:20:00+08:00", 113.05, 23.02, "", "building_fire", "electrical",
     "kitchen", 1, 0, 12000, "extinguish;evacuate"],
    ["FR-2", "2025-07-09T02:05:00+08:00", "", "", "VEN-east", "building_fire", "smoking",
     "bedroom", 0, 1, 300000.5, "extinguish"],
    ["FR-3", "2024-12-31T23:30:00+00:00", 113.15, 23.08, "", "vehicle_fire", "spontaneous",
     "vehicle", 0, 0, 0, ""],
]  # fmt: skip


def test_import_reads_codes_locates_and_takes_the_venue(
    db: Database, dcity: DCity, tmp_path: Path
) -> None:
    report = import_file(db, "fire-records", write_csv(tmp_path / "fires.csv", GOOD))
    assert report["created"] == 3
    with db.session() as session:
        records = {r.code: r for r in fire_records(session)}
    first = records["FR-1"]
    assert first.occurred_at == datetime(2025, 3, 1, 6, 20, tzinfo=UTC)
    assert first.town_code == dcity.codes["town:west"]
    assert first.cause_code == "electrical"
    assert first.casualties.civilian_injured == 1
    assert first.source == "imported"
    second = records["FR-2"]  # no point in the file: the venue's, its category and town
    assert second.venue_id == dcity.venues["east"]
    assert second.venue_category == "high_rise_office"
    assert second.town_code == dcity.codes["town:east"]
    assert second.casualties.total == 1
    assert records["FR-3"].town_code == dcity.codes["town:middle"]
    with db.session() as session:
        in_2025 = fire_records(
            session, since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)
        )
        east = fire_records(session, path_prefix=dcity.paths["town:east"])
    assert [r.code for r in in_2025] == ["FR-1", "FR-2"]
    assert [r.code for r in east] == ["FR-2"]


def test_a_bad_file_imports_nothing_and_names_every_bad_row(
    db: Database, dcity: DCity, tmp_path: Path
) -> None:
    rows = [
        *GOOD[:1],
        ["FR-4", "2025-03-01 14:20:00", 113.05, 23.02, "", "building_fire", "electrical",
         "kitchen", 0, 0, 0, ""],  # no offset
        ["FR-5", "2025-03-01T14:20:00+08:00", 113.05, 23.02, "", "building_fire", "ghosts",
         "kitchen", 0, 0, 0, ""],  # unknown cause
        ["FR-6", "2025-03-01T14:20:00+08:00", 120.0, 30.0, "", "building_fire", "arson",
         "kitchen", 0, 0, 0, ""],  # outside the city
        ["FR-7", "2025-03-01T14:20:00+08:00", 113.05, 23.02, "", "building_fire", "arson",
         "kitchen", -1, 0, 0, "dance"],  # negative casualties, unknown action
    ]  # fmt: skip
    with pytest.raises(ImportFailed) as caught:
        import_file(db, "fire-records", write_csv(tmp_path / "bad.csv", rows))
    errors = caught.value.details["errors"]
    lines = {e["line"] for e in errors}
    assert lines == {3, 4, 5, 6}
    columns = {(e["line"], e["column"]) for e in errors}
    assert (4, "cause_code") in columns
    assert (6, "civilian_injured") in columns
    assert any("time zone" in e["reason"] for e in errors if e["line"] == 3)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(FireRecord)) == 0


def test_export_imports_back(db: Database, dcity: DCity, tmp_path: Path) -> None:
    import_file(db, "fire-records", write_csv(tmp_path / "fires.csv", GOOD))
    for suffix in ("csv", "xlsx", "geojson"):
        out = tmp_path / f"out.{suffix}"
        assert export_file(db, "fire-records", out) == 3
        with db.session() as session:
            session.execute(FireRecord.__table__.delete())
        assert import_file(db, "fire-records", out)["created"] == 3
    with db.session() as session:
        back = {r.code: r for r in fire_records(session)}
    assert back["FR-2"].direct_loss_yuan == pytest.approx(300000.5)
    assert back["FR-1"].occurred_at == datetime(2025, 3, 1, 6, 20, tzinfo=UTC)


def test_review_lock_makes_the_record_immutable(
    client: TestClient, db: Database, settings: Settings, dcity: DCity, tmp_path: Path
) -> None:
    import_file(db, "fire-records", write_csv(tmp_path / "fires.csv", GOOD))
    with db.session() as session:
        record_id = session.scalars(select(FireRecord.id).where(FireRecord.code == "FR-1")).one()
    officer = headers(db, settings, dcity, "commander", "town:west")
    dispatcher = headers(db, settings, dcity, "dispatcher", "town:west")
    url = f"/api/v1/fire-records/{record_id}"
    fix = client.patch(
        url, json={"cause_code": "arson", "narrative": "二次勘查"}, headers=dispatcher
    )
    assert fix.status_code == 200, fix.text
    assert fix.json()["cause_code"] == "arson"
    bad = client.patch(url, json={"cause_code": "ghosts"}, headers=dispatcher)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["cause_code"]
    refused = client.post(f"{url}/review", json={"action": "submit"}, headers=dispatcher)
    assert refused.status_code == 403  # dispatchers fill records, officers review them
    early = client.post(f"{url}/review", json={"action": "lock"}, headers=officer)
    assert early.status_code == 409  # a draft is submitted before it is locked
    for action in ("submit", "lock"):
        moved = client.post(f"{url}/review", json={"action": action}, headers=officer)
        assert moved.status_code == 200, moved.text
    locked = moved.json()
    assert locked["review_state"] == "locked"
    assert locked["reviewed_by"]
    assert locked["locked_at"]
    for response in (
        client.patch(url, json={"narrative": "改"}, headers=officer),
        client.delete(url, headers=officer),
        client.post(f"{url}/review", json={"action": "return"}, headers=officer),
    ):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "record_locked"
    assert client.get(url, headers=officer).json()["cause_code"] == "arson"
    east = headers(db, settings, dcity, "commander", "town:east")
    assert client.get(url, headers=east).status_code == 404
