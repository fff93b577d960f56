"""Notes and photos on an incident's timeline."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers
from tests.records.test_analytics import build_incidents

pytestmark = pytest.mark.postgres

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_notes_and_photos_join_the_timeline(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    incident_id = build_incidents(db, dcity)[0]
    west = headers(db, settings, dcity, "dispatcher", "town:west")
    base = f"/api/v1/incidents/{incident_id}"
    note = client.post(f"{base}/notes", json={"text": "报警人回电：三楼有人被困"}, headers=west)
    assert note.status_code == 201, note.text
    assert note.json()["kind"] == "note"
    assert client.post(f"{base}/notes", json={"text": "   "}, headers=west).status_code == 422
    photo = client.post(
        f"{base}/attachments",
        files={"photo": ("scene.png", PNG, "image/png")},
        data={"caption": "东侧外墙"},
        headers=west,
    )
    assert photo.status_code == 201, photo.text
    wrong = client.post(
        f"{base}/attachments", files={"photo": ("a.txt", b"hello", "text/plain")}, headers=west
    )
    assert wrong.status_code == 422
    timeline = client.get(base, headers=west).json()["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert "note" in kinds
    assert "attachment" in kinds
    entry_ids = _attachment_ids(db, incident_id)
    got = client.get(f"{base}/attachments/{entry_ids[0]}", headers=west)
    assert got.status_code == 200
    assert got.content == PNG
    east = headers(db, settings, dcity, "dispatcher", "town:east")
    assert client.get(f"{base}/attachments/{entry_ids[0]}", headers=east).status_code == 404
    assert client.post(f"{base}/notes", json={"text": "x"}, headers=east).status_code == 404


def _attachment_ids(db: Database, incident_id: int) -> list[int]:
    from sqlalchemy import select

    from firegrid.dispatch.incident_models import TimelineEntry

    with db.session() as session:
        return list(
            session.scalars(
                select(TimelineEntry.id).where(
                    TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "attachment"
                )
            )
        )
